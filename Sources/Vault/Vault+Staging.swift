import Foundation
import Synchronization
import VaultCrypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the bytes of one file to store come from.
enum FileSource: Sendable {
    case file(URL)
    case memory(Data)
    /// A file opened once (no link followed on the way) and read through that descriptor only: what a push scans
    /// is then the very file it stages, whatever happens to the paths in between.
    case opened(OpenedFile)
}

/// A regular file held open by descriptor; closed when the last reference goes.
final class OpenedFile: Sendable {
    let descriptor: Int32

    /// Opens `relative` (components joined by `/`) below the directory `root` one component at a time with
    /// `O_NOFOLLOW`, or `root` itself when `relative` is `nil`; refuses anything but a regular file.
    init(_ root: URL, relative: String?) throws {
        let label = relative ?? root.lastPathComponent
        let rootPath = root.path(percentEncoded: false)
        var fd: Int32
        if let relative {
            fd = open(rootPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            let components = relative.split(separator: "/").map(String.init)
            for component in components.dropLast() where fd >= 0 {
                let next = openat(fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                close(fd)
                fd = next
            }
            if fd >= 0, let name = components.last {
                let file = openat(fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
                close(fd)
                fd = file
            }
        } else {
            fd = open(rootPath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        }
        guard fd >= 0 else {
            throw VaultError(.unreadableInput, "cannot open \(label) (a symbolic link on the way is refused)")
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw VaultError(.unreadableInput, "\(label) is not a regular file")
        }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// A handle of its own on the same open file, at offset 0.
    func handle() throws -> FileHandle {
        let copy = dup(descriptor)
        guard copy >= 0, lseek(copy, 0, SEEK_SET) == 0 else {
            if copy >= 0 { close(copy) }
            throw VaultError(.unreadableInput, "cannot read an opened input file")
        }
        return FileHandle(fileDescriptor: copy, closeOnDealloc: true)
    }
}

/// A file encrypted into a staging directory, with its plaintext digest.
struct StagedFile: Sendable {
    var path: String
    var digest: FileDigest
    /// The SHA-256 of the age header written for it (from memory), if the cipher suite gave one.
    var headerSHA256: [UInt8]? = nil
}

extension Vault {
    /// The most plaintext bytes one push or dataset version may stage: a bound on what a caller can make the
    /// vault write before the catalog sees it. 1 TiB unless `MODELVAULT_MAX_STAGED_BYTES` (a positive byte count,
    /// read once per process) sets it; an unparsable value keeps the default.
    static let maximumStagedBytes: Int64 = stagingLimit(
        ProcessInfo.processInfo.environment["MODELVAULT_MAX_STAGED_BYTES"])

    /// The default staging cap, 1 TiB.
    static let defaultMaximumStagedBytes: Int64 = 1 << 40

    static func stagingLimit(_ setting: String?) -> Int64 {
        guard let setting, let value = Int64(setting), value > 0 else { return defaultMaximumStagedBytes }
        return value
    }

    /// The size of one source in bytes, 0 when it cannot be read (staging then reports the error): the total a
    /// progress bar is drawn against.
    static func inputSize(_ source: FileSource) -> Int64 {
        var info = stat()
        switch source {
        case .memory(let data): return Int64(data.count)
        case .opened(let file): return fstat(file.descriptor, &info) == 0 ? Int64(info.st_size) : 0
        case .file(let url): return stat(url.path(percentEncoded: false), &info) == 0 ? Int64(info.st_size) : 0
        }
    }

    /// Refuses sources that are not regular files (a device such as `/dev/zero` never ends; a directory is named
    /// as one) or that together exceed ``maximumStagedBytes``, before anything is staged.
    static func checkInputFiles(_ sources: [(path: String, source: FileSource)]) throws {
        var total: Int64 = 0
        for (_, source) in sources {
            let size: Int64
            switch source {
            case .memory(let data): size = Int64(data.count)
            case .opened(let file):
                var info = stat()
                guard fstat(file.descriptor, &info) == 0 else {
                    throw VaultError(.unreadableInput, "cannot read an opened input file")
                }
                size = Int64(info.st_size)
            case .file(let url):
                var info = stat()
                guard stat(url.path(percentEncoded: false), &info) == 0 else {
                    throw VaultError(.unreadableInput, "no such file: \(url.lastPathComponent)")
                }
                switch info.st_mode & S_IFMT {
                case S_IFREG: size = Int64(info.st_size)
                case S_IFDIR:
                    throw VaultError(.unreadableInput, "\(url.lastPathComponent) is a directory, not a file")
                default:
                    throw VaultError(.unreadableInput, "\(url.lastPathComponent) is not a regular file")
                }
            }
            let (sum, overflow) = total.addingReportingOverflow(size)
            guard !overflow, sum <= maximumStagedBytes else {
                throw VaultError(
                    .unreadableInput,
                    "the input is larger than the vault's staging limit of \(maximumStagedBytes) bytes"
                        + " (MODELVAULT_MAX_STAGED_BYTES)")
            }
            total = sum
        }
    }

    /// Encrypts `sources` for `recipient` into `area` (each as `<path>.age`) and hashes their plaintext.
    ///
    /// Each file is read once: the plaintext is hashed as it is encrypted, chunks sealed across cores. Files go
    /// one after another, each using every core, while the previous one is flushed to disk in the background.
    ///
    /// `progress`, when given, hears the plaintext bytes done after each file, out of the sources' total.
    nonisolated func stage(
        _ sources: [(path: String, source: FileSource)], into area: StagingArea, recipient: String,
        progress: ProgressHandler? = nil
    ) async throws -> [StagedFile] {
        var seen = Set<String>()
        for (path, _) in sources {
            try VaultNames.validatePath(path)
            guard seen.insert(path).inserted else {
                throw VaultError(.duplicateFile, "the file \(path) is given twice")
            }
        }
        let suite = self.suite
        let total = sources.reduce(Int64(0)) { $0 + Self.inputSize($1.source) }
        progress?(ProgressEvent(done: 0, total: total, unit: .bytes))
        let staged = try await BackgroundCommits.run { commits in
            var results: [StagedFile] = []
            var done: Int64 = 0
            for (path, source) in sources where !commits.hasFailed {
                let (staged, pending) = try Self.encrypt(
                    source, as: path, into: area, recipient: recipient, suite: suite, progress: progress, done: done,
                    total: total)
                results.append(staged)
                commits.commit(pending)
                done += Int64(staged.digest.size)
                progress?(ProgressEvent(done: done, total: total, unit: .bytes))
            }
            return results
        }
        return staged.sorted { $0.path < $1.path }
    }

    /// Encrypts one file for `recipient` into `area` as `<path>.age`, hashing its plaintext in the same pass; the
    /// output is left pending (written, not yet flushed and renamed) for the caller to commit. A failure removes it.
    nonisolated static func encrypt(
        _ source: FileSource, as path: String, into area: StagingArea, recipient: String, suite: any VaultCipherSuite,
        progress: ProgressHandler? = nil, done: Int64 = 0, total: Int64 = 0
    ) throws -> (StagedFile, AtomicFile.Pending) {
        let output = area.directory.appending(path: path + ".age")
        try VaultFiles.makeDirectory(output.deletingLastPathComponent(), permissions: 0o700)
        let file = try VaultFiles.pendingFile(output, permissions: 0o600)
        do {
            switch source {
            case .memory(let data):
                let sealed = try suite.encrypt(data, to: [recipient])
                do { try file.handle.write(contentsOf: sealed) } catch {
                    throw VaultError.storage("cannot write \(path).age")
                }
                let header = suite.headerSHA256(ofSealed: sealed)
                return (StagedFile(path: path, digest: FileDigest(of: data), headerSHA256: header), file)
            case .file(let url):
                let sealed = try reportingWithinFile(progress, from: done, of: total) {
                    try suite.encryptFileDigestingHeader(at: url, into: file.handle, recipients: [recipient])
                }
                return (StagedFile(path: path, digest: sealed.plaintext, headerSHA256: sealed.headerSHA256), file)
            case .opened(let opened):
                let input = try opened.handle()
                let sealed = try reportingWithinFile(progress, from: done, of: total) {
                    try suite.encryptFileDigestingHeader(reading: input, into: file.handle, recipients: [recipient])
                }
                return (StagedFile(path: path, digest: sealed.plaintext, headerSHA256: sealed.headerSHA256), file)
            }
        } catch let error as VaultError {
            file.discard()
            throw error
        } catch {
            file.discard()
            throw VaultError(.unreadableInput, "cannot encrypt \(path)")
        }
    }

    /// Runs `body` (one file's encryption or decryption) with `progress` hearing the bytes the age pipeline
    /// finishes inside it, counted on from `done`: a bar moves through a single large file (1 MiB steps).
    nonisolated static func reportingWithinFile<T>(
        _ progress: ProgressHandler?, from done: Int64, of total: Int64, _ body: () throws -> T
    ) rethrows -> T {
        guard let progress else { return try body() }
        let sofar = Mutex(done)
        return try AgeProgress.withObserver(
            { bytes in
                let now = sofar.withLock {
                    $0 = min(total, $0 + Int64(bytes))
                    return $0
                }
                progress(ProgressEvent(done: now, total: total, unit: .bytes))
            }, body)
    }

    /// ``sources(at:ignoring:)`` with every file opened once, walking from `url` with no link followed: the scan
    /// and the staging of a push then read the same files, not the same paths.
    nonisolated static func openedSources(
        at url: URL, ignoring ignored: Set<String> = []
    ) throws -> [(path: String, source: FileSource)] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path(percentEncoded: false), isDirectory: &isDirectory) else {
            throw VaultError(.unreadableInput, "no such file or directory: \(url.lastPathComponent)")
        }
        if !isDirectory.boolValue { return [(url.lastPathComponent, .opened(try OpenedFile(url, relative: nil)))] }
        let files = try VaultFiles.regularFiles(under: url, ignoring: ignored)
        guard !files.isEmpty else { throw VaultError(.emptyInput, "the directory holds no files") }
        return try files.map { ($0, .opened(try OpenedFile(url, relative: $0))) }
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
