import Crypto
import Foundation
import ModelSigning
import TestSupport
import Testing

@testable import VaultClient

/// The client's record of the highest version each alias or latest pull verified (review 5, R1).
@Suite struct VersionHighWaterMarksTests {
    @Test func marksRiseOnlyUnlessReplacedAndLiveInA0600File() throws {
        let directory = try TemporaryDirectory()
        let marks = VersionHighWaterMarks(file: directory.url.appending(path: "modelvault/pulled-versions.json"))
        let verifier = VaultClient.PinnedVerifier(key: SigningKey.p256(P256.Signing.PrivateKey()).verifyingKey)
        let server = try #require(URL(string: "https://vault.example:8443"))
        let production = VersionHighWaterMarks.key(
            server: server, verifier: verifier, model: "alpha", selector: "alias:production")
        let latest = VersionHighWaterMarks.key(server: server, verifier: verifier, model: "alpha", selector: "latest")
        #expect(production != latest)
        #expect(try marks.highest(for: production) == nil)
        try marks.record(3, for: production)
        try marks.record(2, for: production)
        #expect(try marks.highest(for: production) == 3)
        #expect(try marks.highest(for: latest) == nil)
        try marks.record(1, for: production, replacing: true)
        #expect(try marks.highest(for: production) == 1)
        let mode = try FileManager.default.attributesOfItem(atPath: marks.file.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // No temporary file left beside it.
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: marks.file.deletingLastPathComponent().path) == [
                "pulled-versions.json"
            ])
    }

    @Test func aSymlinkOrGarbageInPlaceOfTheRecordIsRefused() throws {
        let directory = try TemporaryDirectory()
        let file = directory.url.appending(path: "pulled-versions.json")
        try Data("{\"marks\":{}}".utf8).write(to: directory.url.appending(path: "elsewhere.json"))
        try FileManager.default.createSymbolicLink(
            atPath: file.path, withDestinationPath: directory.url.appending(path: "elsewhere.json").path)
        #expect(throws: VaultClientError.self) { try VersionHighWaterMarks(file: file).highest(for: "k") }
        try FileManager.default.removeItem(at: file)
        try Data("not json".utf8).write(to: file)
        #expect(throws: VaultClientError.self) { try VersionHighWaterMarks(file: file).highest(for: "k") }
    }

    @Test func theRecordLivesUnderTheUsersStateDirectory() {
        #expect(
            VersionHighWaterMarks.defaultFile(environment: ["XDG_STATE_HOME": "/s", "HOME": "/h"])?.path
                == "/s/modelvault/pulled-versions.json")
        #expect(
            VersionHighWaterMarks.defaultFile(environment: ["HOME": "/h"])?.path
                == "/h/.local/state/modelvault/pulled-versions.json")
        #expect(VersionHighWaterMarks.defaultFile(environment: ["XDG_STATE_HOME": "relative"]) == nil)
    }
}
