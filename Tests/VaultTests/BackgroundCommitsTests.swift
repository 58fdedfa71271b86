import Foundation
import TestSupport
import Testing
import VaultCrypto

@testable import Vault

/// Files handed to the background committer are all on disk, in place, when the run returns; a failing body's
/// error comes out after the commits already queued have finished, so the caller can remove its directory safely.
@Suite struct BackgroundCommitsTests {
    @Test func everyHandedOverFileIsCommittedWhenTheRunReturns() async throws {
        let directory = try TemporaryDirectory()
        let names = (0..<6).map { "file-\($0)" }
        let count = try await BackgroundCommits.run { commits in
            for name in names {
                let file = try AtomicFile.Pending(directory.url.appending(path: name), permissions: 0o600)
                try file.handle.write(contentsOf: Data(repeating: 7, count: 1 << 20))
                commits.commit(file)
            }
            return names.count
        }
        #expect(count == 6)
        let entries = try FileManager.default.contentsOfDirectory(atPath: directory.url.path).sorted()
        #expect(entries == names)
        for name in names {
            #expect(try Data(contentsOf: directory.url.appending(path: name)).count == 1 << 20)
        }
    }

    @Test func theBodysErrorComesOutAfterQueuedCommitsFinish() async throws {
        struct Failure: Error {}
        let directory = try TemporaryDirectory()
        await #expect(throws: Failure.self) {
            try await BackgroundCommits.run { commits in
                let file = try AtomicFile.Pending(directory.url.appending(path: "first"))
                try file.handle.write(contentsOf: Data(repeating: 1, count: 4096))
                commits.commit(file)
                let unfinished = try AtomicFile.Pending(directory.url.appending(path: "second"))
                unfinished.discard()
                throw Failure()
            }
        }
        // No temporary file is left: the queued commit completed, the unfinished file was discarded.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path) == ["first"])
    }
}
