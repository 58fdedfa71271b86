import BlockingWork
import Foundation
import VaultCrypto

extension Vault {
    /// Scans and encrypts the files of an upload as they arrive (``ModelSource/arriving(root:paths:describe:)``): each file
    /// is opened once (no link followed), scanned, and only then encrypted into the staging area, while the client
    /// is still sending the next one. A finding the policy refuses stops the push at that file, before any of it is
    /// staged; the staging area goes with any failure, the upload's included.
    ///
    /// - Returns: the staging area, the staged files sorted by path, and the scan record of them all.
    nonisolated func stageArriving(
        _ paths: AsyncThrowingStream<String, any Error>, below root: URL, ignoring ignored: Set<String>,
        recipient: String, scan: ModelScanOptions?, principal: String
    ) async throws -> (area: StagingArea, staged: [StagedFile], record: ModelScanRecord?) {
        let area = try StagingArea(in: layout.staging)
        let suite = self.suite
        var scanned: [ModelScanRecord.File] = []
        var seen = Set<String>()
        // One committer for the whole upload: a file's flush to disk overlaps the next one's arrival and encryption.
        let staged = try await BackgroundCommits.run { commits async throws -> [StagedFile] in
            var staged: [StagedFile] = []
            var complete = false
            for try await path in paths {
                // A failed flush: the run throws it once the committer is done.
                if commits.hasFailed { return staged }
                if path == ModelSource.endOfUpload {
                    complete = true
                    break
                }
                // The same files a directory push leaves out (`.git` and its kin, below them too).
                if ignored.contains(where: { path == $0 || path.hasPrefix($0 + "/") }) { continue }
                try VaultNames.validatePath(path)
                guard seen.insert(path).inserted else {
                    throw VaultError(.duplicateFile, "the file \(path) is given twice")
                }
                let source = FileSource.opened(try OpenedFile(root, relative: path))
                let sources = [(path: path, source: source)]
                let opened = Self.identities(sources)
                if let scan {
                    scanned += try await Self.scanOffPool(sources, options: scan, principal: principal).files
                }
                // Encryption blocks (and uses every core): off the cooperative pool, which receives the upload.
                let (file, pending) = try await BlockingExecutor.shared.run {
                    try Self.encrypt(source, as: path, into: area, recipient: recipient, suite: suite)
                }
                do { try Self.requireUnchanged(sources, since: opened) } catch {
                    pending.discard()
                    throw error
                }
                commits.commit(pending)
                staged.append(file)
            }
            // The stream also ends (with nothing thrown) when this task is cancelled, e.g. by a server shutting down
            // mid-upload: only the end marker says every file arrived (review of the arriving push, F1: a partial
            // version was committed, and its alias moved).
            try Task.checkCancellation()
            guard complete else {
                throw VaultError(.unreadableInput, "the upload ended before all its files arrived; nothing stored")
            }
            return staged
        }
        guard !staged.isEmpty else { throw VaultError(.emptyInput, "the directory holds no files") }
        // Every file passed on its own; the record covers them all (and names the findings accepted).
        let record = try scan.map { try Self.admit(scanned, options: $0, principal: principal, refusing: true) }
        return (area, staged.sorted { $0.path < $1.path }, record)
    }
}
