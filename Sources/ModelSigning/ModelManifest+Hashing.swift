import Crypto
public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ModelManifest {
    /// Paths the reference tool ignores by default (git metadata), relative to the model root.
    public static let gitPaths = [".git", ".gitattributes", ".github", ".gitignore"]

    /// Hashes every regular file under `root` with SHA-256, several files at once, streaming each file.
    ///
    /// - Parameters:
    ///   - root: the model directory.
    ///   - ignoring: model-relative paths to skip; a directory skips everything below it.
    ///   - ignoringGitPaths: also skip `.git`, `.gitattributes`, `.github`, `.gitignore`, as the reference does.
    /// - Throws: `ModelSigningError` for symbolic links or special files (as the reference without
    ///   `--allow_symlinks`) and unreadable files.
    public static func hashing(
        directoryAt root: URL, ignoring: [String] = [], ignoringGitPaths: Bool = true
    ) throws -> ModelManifest {
        let ignored = Set((ignoring + (ignoringGitPaths ? gitPaths : [])).map(normalized))
        let files = try listFiles(under: root.path, ignoring: ignored)
        let digests = try hashFiles(files, under: root.path)
        return try ModelManifest(entries: zip(files, digests).map { Entry(path: $0, sha256: $1) })
    }

    /// Hashes a model that is a single file; its one entry is named `"."`, as the reference names it.
    public static func hashing(fileAt url: URL) throws -> ModelManifest {
        try ModelManifest(entries: [Entry(path: ".", sha256: hashFile(atPath: url.path, name: url.lastPathComponent))])
    }

    /// Hashes a model given as a file or a directory.
    public static func hashing(
        modelAt url: URL, ignoring: [String] = [], ignoringGitPaths: Bool = true
    ) throws -> ModelManifest {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ModelSigningError(.unreadable, path: url.lastPathComponent)
        }
        return isDirectory.boolValue
            ? try hashing(directoryAt: url, ignoring: ignoring, ignoringGitPaths: ignoringGitPaths)
            : try hashing(fileAt: url)
    }

    /// `./a/b/` and `a/b` name the same ignored path.
    static func normalized(_ path: String) -> String {
        var components = path.split(separator: "/").map(String.init)
        while components.first == "." { components.removeFirst() }
        return components.joined(separator: "/")
    }

    /// Whether `relative` or a directory above it is ignored, comparing byte for byte (`Set<String>` lookup
    /// alone would also ignore a canonically equivalent spelling the signer never listed).
    static func isIgnored(_ relative: String, by ignored: Set<String>) -> Bool {
        func listed(_ path: String) -> Bool {
            ignored.contains(path) && ignored.contains { $0.utf8.elementsEqual(path.utf8) }
        }
        if listed(relative) { return true }
        var prefix = ""
        for component in relative.split(separator: "/").dropLast() {
            prefix += prefix.isEmpty ? String(component) : "/" + component
            if listed(prefix) { return true }
        }
        return false
    }

    /// Model-relative paths of the regular files below `root`, without following links.
    static func listFiles(under root: String, ignoring ignored: Set<String>) throws -> [String] {
        var files = [String]()
        var pending = [""]
        while let directory = pending.popLast() {
            let absolute = directory.isEmpty ? root : root + "/" + directory
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: absolute) else {
                throw ModelSigningError(.unreadable, path: directory.isEmpty ? "." : directory)
            }
            for name in names {
                let relative = directory.isEmpty ? name : directory + "/" + name
                if isIgnored(relative, by: ignored) { continue }
                var info = stat()
                guard lstat(root + "/" + relative, &info) == 0 else {
                    throw ModelSigningError(.unreadable, path: relative)
                }
                switch info.st_mode & S_IFMT {
                case S_IFREG: files.append(relative)
                case S_IFDIR: pending.append(relative)
                default: throw ModelSigningError(.unsupportedFileType, path: relative)
                }
            }
        }
        return files
    }

    /// Hashes the files concurrently; each worker streams through one reusable buffer, so memory stays bounded
    /// by the number of workers, not by file sizes.
    static func hashFiles(_ paths: [String], under root: String) throws -> [[UInt8]] {
        let slots = ResultSlots(count: paths.count)
        DispatchQueue.concurrentPerform(iterations: paths.count) { index in
            slots.set(index, Result { try hashFile(atPath: root + "/" + paths[index], name: paths[index]) })
        }
        return try slots.values.map { result in
            do {
                return try result.get()
            } catch let error as ModelSigningError {
                throw error
            } catch {
                throw ModelSigningError(.unreadable)
            }
        }
    }

    static let readChunkSize = 4 << 20

    /// SHA-256 of a file's bytes, read in fixed chunks; `name` is what an error reports.
    static func hashFile(atPath path: String, name: String) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw ModelSigningError(.unreadable, path: name) }
        defer { close(descriptor) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: readChunkSize, alignment: 64)
        defer { buffer.deallocate() }
        var hasher = SHA256()
        while true {
            let count = read(descriptor, buffer.baseAddress, readChunkSize)
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw ModelSigningError(.unreadable, path: name)
            }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        return Array(hasher.finalize())
    }
}

/// One result slot per file, filled by concurrent workers.
///
/// `@unchecked Sendable` because the lock guards every access; `Synchronization.Mutex` would need macOS 15
/// while the package supports macOS 14.
private final class ResultSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<[UInt8], any Error>]

    init(count: Int) {
        slots = Array(repeating: .failure(ModelSigningError(.unreadable)), count: count)
    }

    func set(_ index: Int, _ result: Result<[UInt8], any Error>) {
        lock.lock()
        defer { lock.unlock() }
        slots[index] = result
    }

    var values: [Result<[UInt8], any Error>] {
        lock.lock()
        defer { lock.unlock() }
        return slots
    }
}
