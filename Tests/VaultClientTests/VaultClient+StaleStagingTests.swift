import Foundation
import TestSupport
import Testing

@testable import VaultClient
@testable import VaultServer

/// Review 4, F5 (the SIGKILL half): a pull killed with SIGKILL runs no cleanup and leaves its staging (maybe
/// plaintext) beside the output. The next pull into that directory removes staging whose process is gone, and only
/// that: a running process's staging and other names stay.
@Suite struct VaultClientStaleStagingTests {
    @Test func theNextPullRemovesStagingOfAKilledProcessOnly() async throws {
        let work = try TemporaryDirectory()
        // A real process, killed with SIGKILL, owns one staging directory.
        let victim = Process()
        victim.executableURL = URL(filePath: "/bin/sleep")
        victim.arguments = ["30"]
        try victim.runSerially()
        let start = try #require(StaleStaging.startTime(of: victim.processIdentifier))
        let dead = VaultClient.stagingPrefix + "p\(victim.processIdentifier).\(start)-0a1b"
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        #expect(victim.terminationReason == .uncaughtSignal)
        let live = StaleStaging.name(VaultClient.stagingPrefix)
        let reusedPid = VaultClient.stagingPrefix + "p\(getpid()).1-0a1b"  // this pid, another start time
        for name in [dead, live, reusedPid, ".modelvault-pull-notours", "mine"] {
            let directory = work.url.appending(path: name)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
            try Data("plaintext".utf8).write(to: directory.appending(path: "weights.bin"))
        }
        try await VaultClient.writeAtomically(into: work.url.appending(path: "out")) { staging in
            try VaultClient.writeNew(Data("w".utf8), at: "weights.bin", under: staging)
        }
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: work.url.path))
        #expect(left == [live, ".modelvault-pull-notours", "mine", "out"])
    }
}
