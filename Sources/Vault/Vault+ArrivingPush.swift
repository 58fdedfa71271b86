import Foundation

extension Vault {
    /// Scans and encrypts the files of an upload as they arrive (``ModelSource/arriving(root:paths:)``): each file
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
        var staged: [StagedFile] = []
        var scanned: [ModelScanRecord.File] = []
        var seen = Set<String>()
        for try await path in paths {
            // The same files a directory push leaves out (`.git` and its kin, below them too).
            if ignored.contains(where: { path == $0 || path.hasPrefix($0 + "/") }) { continue }
            try VaultNames.validatePath(path)
            guard seen.insert(path).inserted else {
                throw VaultError(.duplicateFile, "the file \(path) is given twice")
            }
            let sources: [(path: String, source: FileSource)] = [(path, .opened(try OpenedFile(root, relative: path)))]
            let opened = Self.identities(sources)
            if let scan {
                scanned += try await Self.scanOffPool(sources, options: scan, principal: principal).files
            }
            staged += try await stage(sources, into: area, recipient: recipient)
            try Self.requireUnchanged(sources, since: opened)
        }
        guard !staged.isEmpty else { throw VaultError(.emptyInput, "the directory holds no files") }
        // Every file passed on its own; the record covers them all (and names the findings accepted).
        let record = try scan.map { try Self.admit(scanned, options: $0, principal: principal, refusing: true) }
        return (area, staged.sorted { $0.path < $1.path }, record)
    }
}
