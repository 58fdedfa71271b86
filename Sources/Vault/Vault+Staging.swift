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
    /// Each file is read once: the plaintext is hashed as it is encrypted, chunks sealed across cores. Two files
    /// run at once so that one's final flush to disk overlaps the other's encryption.
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
                if running >= 2, let done = try await group.next() {
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
                        do {
                            let digest = try suite.encryptFileDigesting(at: url, to: output, recipients: [recipient])
                            return StagedFile(path: path, digest: digest)
                        } catch let error as VaultError {
                            throw error
                        } catch {
                            throw VaultError(.unreadableInput, "cannot encrypt \(path)")
                        }
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
