import Foundation
import TestSupport
import Testing

@testable import VaultClient

/// A pull lands atomically and only under the directory the caller named, whatever paths the server sends.
@Suite struct VaultClientFilesTests {
    @Test(arguments: ["../escape", "/etc/passwd", "a/../../escape", "a//b", "./a", "", "a/."])
    func aServerNamedPathCannotLeaveTheOutputDirectory(_ path: String) throws {
        let work = try TemporaryDirectory()
        let root = work.url.appending(path: "out")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: false)
        let error = try #require(throws: VaultClientError.self) {
            try VaultClient.writeNew(Data("x".utf8), at: path, under: root)
        }
        #expect(error.kind == .integrity)
        #expect(!FileManager.default.fileExists(atPath: work.url.appending(path: "escape").path))
    }

    @Test func aFailedPullLeavesNoDirectoryAndNoStagingBehind() async throws {
        let work = try TemporaryDirectory()
        let target = work.url.appending(path: "model")
        struct Boom: Error {}
        await #expect(throws: Boom.self) {
            try await VaultClient.writeAtomically(into: target) { staging in
                try VaultClient.writeNew(Data("half".utf8), at: "weights.bin", under: staging)
                throw Boom()
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.url.path).isEmpty)
    }

    @Test func aPullFillsANewOrEmptyDirectoryAndRefusesAFullOne() async throws {
        let work = try TemporaryDirectory()
        let target = work.url.appending(path: "model")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        try await VaultClient.writeAtomically(into: target) { staging in
            try VaultClient.writeNew(Data("w".utf8), at: "dir/weights.bin", under: staging)
        }
        #expect(try Data(contentsOf: target.appending(path: "dir/weights.bin")) == Data("w".utf8))
        let error = try await #require(throws: VaultClientError.self) {
            try await VaultClient.writeAtomically(into: target) { _ in }
        }
        #expect(error.kind == .invalidInput)
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.url.path) == ["model"])
    }

    /// The attack (review 4, F4): a hostile server streams extra files (`.modelvault/run.sh`, a deep script, a
    /// stray name) beside a model's re-wrapped files. Only `<recorded file>.age`, the signed manifest and the
    /// signature file are accepted; the decrypting pull accepts the same two names under `.modelvault/`.
    @Test func aPullAcceptsOnlyTheRecordedFilesAndTheSignatureFiles() throws {
        let signature = ".modelvault/model.sig"
        let honest = ["weights.bin.age", "sub/config.json.age", ".modelvault/manifest.json", signature]
        let expected: Set<String> = ["weights.bin", "sub/config.json"]
        try VaultClient.checkRewrapped(honest, expected: expected, signatureFileName: signature, label: "m@1")
        for extra in [".modelvault/run.sh", ".modelvault/a/b/c/deep.py", "evil.sh", "extra.bin.age"] {
            let paths = honest + [extra]
            let error = try #require(throws: VaultClientError.self, "\(extra)") {
                try VaultClient.checkRewrapped(paths, expected: expected, signatureFileName: signature, label: "m@1")
            }
            #expect(error.kind == .integrity)
        }
        // A missing file is refused too.
        #expect(throws: VaultClientError.self) {
            try VaultClient.checkRewrapped(
                Array(honest.dropFirst()), expected: expected, signatureFileName: signature, label: "m@1")
        }
        #expect(VaultClient.isSignatureFile(".modelvault/manifest.json", signatureFileName: signature))
        #expect(!VaultClient.isSignatureFile(".modelvault/run.sh", signatureFileName: signature))
    }

    /// Review 4, F5: the CLI's SIGTERM handler removes the staging directories a pull is filling (they may hold
    /// decrypted plaintext); this checks the pull registers them while it fills them and forgets them after.
    @Test func aPullsStagingDirectoryIsKnownWhileItIsFilled() async throws {
        let work = try TemporaryDirectory()
        let target = work.url.appending(path: "model")
        var seen: String?
        try await VaultClient.writeAtomically(into: target) { staging in
            seen = staging.path(percentEncoded: false)
            #expect(VaultClient.liveStagingDirectories().contains(staging.path(percentEncoded: false)))
        }
        let path = try #require(seen)
        #expect(!VaultClient.liveStagingDirectories().contains(path))
    }

    @Test func pushRefusesSymbolicLinksInsideTheModel() throws {
        let work = try TemporaryDirectory()
        let model = work.url.appending(path: "m")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: false)
        try Data("w".utf8).write(to: model.appending(path: "weights.bin"))
        #expect(try VaultClient.modelFiles(at: model) == ["weights.bin": Data("w".utf8)])
        try FileManager.default.createSymbolicLink(
            atPath: model.appending(path: "link").path, withDestinationPath: "/etc/passwd")
        let error = try #require(throws: VaultClientError.self) { try VaultClient.modelFiles(at: model) }
        #expect(error.kind == .invalidInput)
    }
}
