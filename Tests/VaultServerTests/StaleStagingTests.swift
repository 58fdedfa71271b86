import Foundation
import TestSupport
import Testing

@testable import VaultServer

/// Review 4, F5 (the SIGKILL half), server side: an upload's or a dataset download's staging holds plaintext, and a
/// server killed with SIGKILL runs no cleanup. The next start removes staging of processes that no longer run.
@Suite struct StaleStagingTests {
    @Test func aStartingServerRemovesTheStagingOfAKilledServerOnly() async throws {
        let base = FileManager.default.temporaryDirectory.appending(path: "stale-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: base) }
        let victim = Process()
        victim.executableURL = URL(filePath: "/bin/sleep")
        victim.arguments = ["30"]
        try victim.runSerially()
        let start = try #require(StaleStaging.startTime(of: victim.processIdentifier))
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        let dead = base.appending(path: StagingDirectory.prefix + "p\(victim.processIdentifier).\(start)-0a1b")
        let live = try StagingDirectory.make(in: base)
        for directory in [dead, live.url] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data("plaintext".utf8).write(to: directory.appending(path: "rows.csv"))
        }
        try await withServer(configure: { $0.stagingDirectory = base }) { _ in
            let left = try FileManager.default.contentsOfDirectory(atPath: base.path)
            #expect(left == [live.url.lastPathComponent])
        }
    }

    @Test func aStagingNameRecordsItsOwner() throws {
        let name = StaleStaging.name("x-")
        let owner = try #require(StaleStaging.owner(of: name, prefix: "x-"))
        #expect(owner.pid == getpid())
        #expect(StaleStaging.isRunning(owner))
        #expect(StaleStaging.owner(of: "x-p12-", prefix: "x-") == nil)
        #expect(StaleStaging.owner(of: "x-pabc.1-u", prefix: "x-") == nil)
    }
}
