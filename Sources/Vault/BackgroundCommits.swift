import Dispatch
import Foundation
import Synchronization
import VaultCrypto

/// Commits atomically written files (fsync, rename into place) in order on a background thread while the caller
/// writes the next ones, so that one file's flush to disk overlaps the cryptography of the next instead of
/// stalling the cores. Used by push, pull and dataset get, whose files all land in a private directory that is
/// renamed into place only after every commit has returned.
final class BackgroundCommits: Sendable {
    private let queue = DispatchQueue(label: "modelvault.vault.commits")
    private let group = DispatchGroup()
    private let failed = Atomic<Bool>(false)

    private init() {}

    /// Runs `body` with a committer and returns once every file it handed over is committed or discarded. The
    /// error of `body` comes first; otherwise a failed commit throws `VaultError.storage`.
    static func run<R>(_ body: (BackgroundCommits) throws -> R) async throws -> R {
        try await run { commits async throws in try body(commits) }
    }

    /// The same for a `body` that awaits (a push taking files as they arrive): the committer is handed out once and
    /// commits in order while `body` waits for the next file.
    static func run<R>(_ body: (BackgroundCommits) async throws -> R) async throws -> R {
        let commits = BackgroundCommits()
        let result: Result<R, any Error>
        do { result = .success(try await body(commits)) } catch { result = .failure(error) }
        await withCheckedContinuation { continuation in
            commits.group.notify(queue: .global()) { continuation.resume() }
        }
        let value = try result.get()
        if commits.failed.load(ordering: .acquiring) {
            throw VaultError.storage("cannot write a file to disk")
        }
        return value
    }

    /// Whether a commit has failed (the caller may stop early: the run will throw).
    var hasFailed: Bool { failed.load(ordering: .acquiring) }

    /// Queues `file` to be flushed and renamed into place; after a failed commit, later files are discarded.
    func commit(_ file: AtomicFile.Pending) {
        queue.async(group: group) {
            guard !self.hasFailed else { return file.discard() }
            do { try file.commit() } catch { self.failed.store(true, ordering: .releasing) }
        }
    }
}
