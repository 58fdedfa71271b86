import Crypto
public import Foundation

/// The client's memory of the highest signed version it has verified for each alias or latest pull (review 5, R1).
///
/// Which version `NAME:ALIAS` or a bare `NAME` means comes from the server's unsigned JSON, so a hostile server can
/// point it at an older version that is still genuinely signed (a rollback). The signature proves the bytes, not that
/// they are current. So each verified pull by alias or latest records its signed version number under (server,
/// pinned verification key, model, selector), and a later pull of the same selector below that mark is refused.
/// The marks live in one small JSON file (mode 0600, replaced atomically, never inside a pull's output).
public struct VersionHighWaterMarks: Sendable {
    /// The file holding the marks.
    public let file: URL

    /// Marks kept in `file`.
    public init(file: URL) {
        self.file = file
    }

    /// `$XDG_STATE_HOME/modelvault/pulled-versions.json`, else `~/.local/state/modelvault/pulled-versions.json`;
    /// nil when neither variable names an absolute directory.
    public static func defaultFile(environment: [String: String]) -> URL? {
        let base: URL
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") {
            base = URL(filePath: state, directoryHint: .isDirectory)
        } else if let home = environment["HOME"], home.hasPrefix("/") {
            base = URL(filePath: home, directoryHint: .isDirectory).appending(path: ".local/state")
        } else {
            return nil
        }
        return base.appending(path: "modelvault/pulled-versions.json")
    }

    /// The mark's key: the server, the SHA-256 of the pinned key (DER), the model and the selector (`latest` or
    /// `alias:NAME`). Per selector, because an alias (production) may rightly sit below latest.
    public static func key(
        server: URL, verifier: VaultClient.PinnedVerifier, model: String, selector: String
    )
        -> String
    {
        let fingerprint = SHA256.hash(data: verifier.key.derRepresentation).map { String(format: "%02x", $0) }
            .joined()
        return "\(server.absoluteString) \(fingerprint) \(model) \(selector)"
    }

    private struct Stored: Codable {
        var marks: [String: Int] = [:]
    }

    /// The highest version recorded under `key`, if any.
    public func highest(for key: String) throws -> Int? {
        try load().marks[key]
    }

    /// Records `version` under `key`: raised to it, or (`replacing`, the caller accepted an older version) set to it.
    public func record(_ version: Int, for key: String, replacing: Bool = false) throws {
        var stored = try load()
        stored.marks[key] = replacing ? version : max(version, stored.marks[key] ?? version)
        let directory = file.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let data = try encoder.encode(stored)
            // A fresh 0600 file beside the target, then rename: a crash leaves the old marks or the new ones.
            let temporary = directory.appending(path: ".pulled-versions-\(UUID().uuidString).tmp")
            guard
                FileManager.default.createFile(
                    atPath: temporary.path(percentEncoded: false), contents: data,
                    attributes: [.posixPermissions: 0o600])
            else { throw CocoaError(.fileWriteUnknown) }
            guard rename(temporary.path(percentEncoded: false), file.path(percentEncoded: false)) == 0 else {
                try? FileManager.default.removeItem(at: temporary)
                throw CocoaError(.fileWriteUnknown)
            }
        } catch {
            throw VaultClientError(.failure, "cannot record the pulled version in \(file.path(percentEncoded: false))")
        }
    }

    private func load() throws -> Stored {
        let path = file.path(percentEncoded: false)
        var info = stat()
        guard lstat(path, &info) == 0 else { return Stored() }  // no marks yet
        guard info.st_mode & S_IFMT == S_IFREG, info.st_size <= 4 << 20,
            let data = FileManager.default.contents(atPath: path),
            let stored = try? JSONDecoder().decode(Stored.self, from: data)
        else {
            throw VaultClientError(
                .invalidInput, "the pulled-version record \(path) is not a readable regular file: refusing the pull")
        }
        return stored
    }
}
