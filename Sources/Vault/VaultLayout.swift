import Foundation
import VaultCrypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where everything lives inside a vault directory (ARCHITECTURE.md, "The vault on disk").
struct VaultLayout: Sendable {
    let root: URL

    var configuration: URL { root.appending(path: "vault.json") }
    var catalog: URL { root.appending(path: "catalog.sqlite") }
    var keys: URL { root.appending(path: "keys") }
    var rawData: URL { root.appending(path: "data/raw") }
    var processedData: URL { root.appending(path: "data/processed") }
    var encryptedModels: URL { root.appending(path: "models/encrypted") }
    var deployedModels: URL { root.appending(path: "models/deployed") }
    var audit: URL { root.appending(path: "audit") }
    /// Pushes and imports are assembled here, then renamed into place inside the catalog transaction.
    var staging: URL { root.appending(path: ".staging") }

    /// The vault identity of a key version, encrypted under the passphrase.
    func identityFile(version: Int) -> URL { keys.appending(path: "identity-v\(version).age") }
    /// The signing key, encrypted under the passphrase.
    var signingKeyFile: URL { keys.appending(path: "signing.age") }
    /// The signing key, encrypted to a key version's identity (so an identity file alone unlocks it).
    func signingKeyFile(version: Int) -> URL { keys.appending(path: "signing-v\(version).age") }
    /// A plain rotation's link in the key chain: key version N's identity encrypted to the versions live when it
    /// was made, so a running server follows the rotation (``Vault/followKeyChain()``).
    func chainFile(version: Int) -> URL { keys.appending(path: "chain-v\(version).age") }

    /// The directory of one model version (blobs, manifest, signature).
    func modelVersion(_ name: String, _ version: Int) -> URL {
        encryptedModels.appending(path: name).appending(path: String(version))
    }
    /// The directory of one dataset version.
    func datasetVersion(_ name: String, _ version: Int, processed: Bool) -> URL {
        (processed ? processedData : rawData).appending(path: name).appending(path: String(version))
    }
    /// The vault-relative path of a URL inside the vault.
    func relative(_ url: URL) -> String {
        let base = root.standardizedFileURL.path(percentEncoded: false)
        let full = url.standardizedFileURL.path(percentEncoded: false)
        let prefix = base.hasSuffix("/") ? base : base + "/"
        return full.hasPrefix(prefix) ? String(full.dropFirst(prefix.count)) : full
    }
    /// The URL of a vault-relative path.
    func url(_ relative: String) -> URL { root.appending(path: relative) }

    /// Every directory of a fresh vault.
    var directories: [URL] {
        [keys, rawData, processedData, encryptedModels, deployedModels, audit, staging]
    }
}

/// Small file-system helpers: atomic writes, fsync, directory creation.
enum VaultFiles {
    /// Writes `data` to a temporary file beside `url`, syncs it, sets `permissions`, renames it into place.
    static func writeAtomically(_ data: Data, to url: URL, permissions: Int = 0o644) throws {
        do {
            try AtomicFile.write(data, to: url, permissions: permissions)
        } catch {
            throw VaultError.storage("cannot write \(url.lastPathComponent)")
        }
    }

    /// A file to be created atomically at `url`: written through its handle, then committed or discarded.
    static func pendingFile(_ url: URL, permissions: Int) throws -> AtomicFile.Pending {
        do {
            return try AtomicFile.Pending(url, permissions: permissions)
        } catch {
            throw VaultError.storage("cannot create \(url.lastPathComponent)")
        }
    }

    /// Makes a rename inside `directory` durable; a failure is a storage error (the rename may not survive a crash).
    static func syncDirectory(_ directory: URL) throws {
        let fd = open(directory.path(percentEncoded: false), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw VaultError.storage("cannot sync directory \(directory.lastPathComponent)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw VaultError.storage("cannot sync directory \(directory.lastPathComponent)") }
    }

    /// Creates a directory and its parents with `permissions`.
    static func makeDirectory(_ url: URL, permissions: Int = 0o755) throws {
        do {
            try FileManager.default.createDirectory(
                at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: permissions])
        } catch {
            throw VaultError.storage("cannot create directory \(url.lastPathComponent)")
        }
    }

    /// Renames `source` to `destination` (same file system).
    static func move(_ source: URL, to destination: URL) throws {
        guard rename(source.path(percentEncoded: false), destination.path(percentEncoded: false)) == 0 else {
            throw VaultError.storage("cannot move \(source.lastPathComponent) into place")
        }
        try syncDirectory(destination.deletingLastPathComponent())
    }

    static func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path(percentEncoded: false)) }

    /// Removes `url` (a tree is removed without following any symbolic link in it).
    static func remove(_ url: URL) { removeTree(url) }

    /// Regular files under `root` as sorted relative paths; symbolic links are refused.
    static func regularFiles(under root: URL, ignoring ignored: Set<String> = []) throws -> [String] {
        var result: [String] = []
        func walk(_ directory: URL, prefix: String) throws {
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: directory.path(percentEncoded: false))
            } catch {
                throw VaultError(.unreadableInput, "cannot list \(directory.lastPathComponent)")
            }
            for name in names.sorted() {
                let relative = prefix.isEmpty ? name : prefix + "/" + name
                if ignored.contains(relative) { continue }
                let url = directory.appending(path: name)
                var info = stat()
                guard lstat(url.path(percentEncoded: false), &info) == 0 else {
                    throw VaultError(.unreadableInput, "cannot read \(relative)")
                }
                switch info.st_mode & S_IFMT {
                case S_IFDIR: try walk(url, prefix: relative)
                case S_IFREG: result.append(relative)
                default: throw VaultError(.invalidPath, "not a regular file or directory: \(relative)")
                }
            }
        }
        try walk(root, prefix: "")
        return result
    }
}
