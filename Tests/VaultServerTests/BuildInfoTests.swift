import Foundation
import Testing

@testable import VaultServer

@Suite struct BuildInfoTests {
    @Test func recordsThePinnedVersionsOfAPackageResolved() throws {
        let resolved = Data(
            #"""
            {"originHash":"x","pins":[
              {"identity":"swift-crypto","kind":"remoteSourceControl","location":"https://github.com/apple/swift-crypto.git",
               "state":{"revision":"0123","version":"4.5.2"}},
              {"identity":"grdb.swift","kind":"remoteSourceControl","location":"https://github.com/groue/GRDB.swift.git",
               "state":{"revision":"abcd"}}
            ],"version":3}
            """#.utf8)
        let info = try BuildInfo.record(
            resolvedFile: resolved, commit: "5315535", now: Date(timeIntervalSince1970: 1_796_000_000))
        #expect(info.dependencies == ["swift-crypto": "4.5.2", "grdb.swift": "abcd"])
        #expect(info.commit == "5315535")
        #expect(info.buildDate == "2026-11-30T00:53:20Z")
        #expect(info.version == BuildInfo.currentVersion && info.toolchain == BuildInfo.compiledToolchain)
        let decoded = try JSONDecoder().decode(BuildInfo.self, from: try info.json())
        #expect(decoded == info)
        #expect(throws: (any Error).self) { try BuildInfo.record(resolvedFile: Data("{}".utf8)) }
    }

    @Test func aBinaryWithoutARecordSaysUnknownRatherThanGuessing() {
        // The test runner has no build-info.json beside it.
        #expect(BuildInfo.current.commit == BuildInfo.unknown)
        #expect(BuildInfo.current.buildDate == BuildInfo.unknown)
        #expect(BuildInfo.current.toolchain.hasPrefix("Swift"))
    }
}
