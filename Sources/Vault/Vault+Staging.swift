import Foundation

/// Where the bytes of one file to store come from.
enum FileSource: Sendable {
    case file(URL)
    case memory(Data)
}

/// A file encrypted into a staging directory, with its plaintext digest.
struct StagedFile: Sendable {
    var path: String
    var digest: FileDigest
}

extension Vault {
    /// Encrypts `sources` for `recipient` into `area` (each as `<path>.age`) and hashes their plaintext.
    ///
    /// Hashing and encryption of a file run side by side (the second read comes from the page cache), and
    /// several files run at once.
    nonisolated func stage(
        _ sources: [(path: String, source: FileSource)], into area: StagingArea, recipient: String
    ) async throws -> [StagedFile] {
        var seen = Set<String>()
        for (path, _) in sources {
            try VaultNames.validatePath(path)
            guard seen.insert(path).inserted else {
                throw VaultError(.duplicateFile, "the file \(path) is given twice")
            }
        }
        let suite = self.suite
        return try await withThrowingTaskGroup(of: StagedFile.self) { group in
            var results: [StagedFile] = []
            var running = 0
            for (path, source) in sources {
                if running >= 4, let done = try await group.next() {
                    results.append(done)
                    running -= 1
                }
                let output = area.directory.appending(path: path + ".age")
                group.addTask {
                    try VaultFiles.makeDirectory(output.deletingLastPathComponent(), permissions: 0o700)
                    switch source {
                    case .memory(let data):
                        let sealed = try suite.encrypt(data, to: [recipient])
                        try VaultFiles.writeAtomically(sealed, to: output, permissions: 0o600)
                        return StagedFile(path: path, digest: FileDigest(of: data))
                    case .file(let url):
                        async let digest = FileDigest(ofFileAt: url)
                        do {
                            try suite.encryptFile(at: url, to: output, recipients: [recipient])
                        } catch let error as VaultError {
                            throw error
                        } catch {
                            throw VaultError(.unreadableInput, "cannot encrypt \(path)")
                        }
                        return StagedFile(path: path, digest: try await digest)
                    }
                }
                running += 1
            }
            for try await done in group { results.append(done) }
            return results.sorted { $0.path < $1.path }
        }
    }

    /// The files to store for a file or directory path; a single file keeps its own name.
    nonisolated static func sources(
        at url: URL, ignoring ignored: Set<String> = []
    ) throws -> [(
        path: String, source: FileSource
    )] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path(percentEncoded: false), isDirectory: &isDirectory) else {
            throw VaultError(.unreadableInput, "no such file or directory: \(url.lastPathComponent)")
        }
        if !isDirectory.boolValue { return [(url.lastPathComponent, .file(url))] }
        let files = try VaultFiles.regularFiles(under: url, ignoring: ignored)
        guard !files.isEmpty else { throw VaultError(.emptyInput, "the directory holds no files") }
        return files.map { ($0, .file(url.appending(path: $0))) }
    }
}
