import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Removal and inspection that never follow a symbolic link: whoever can write to the vault directory may plant
/// links, and recovery must not delete (or read) what they point at.
extension VaultFiles {
    /// What is at a path, without following a final symbolic link.
    enum EntryKind: Equatable {
        case missing, directory, regularFile, symbolicLink, other
    }

    /// The contents of the regular file at `url`, at most `limit` bytes, read without following a symbolic link or
    /// blocking on a FIFO; nil when it is missing, not a regular file, larger than `limit`, or unreadable. For the
    /// small files the vault reads whole (a version's manifest and signature): an unbounded read of a sparse file
    /// planted there took the server to 1.6 GB (second review of the recorded headers, finding 4).
    static func readRegularFile(_ url: URL, limit: Int) -> Data? {
        let descriptor = open(url.path(percentEncoded: false), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size >= 0,
            info.st_size <= off_t(limit)
        else { return nil }
        // One byte more than its size: a file that grows while it is read is refused, not cut.
        let capacity = Int(info.st_size) + 1
        var bytes = [UInt8](repeating: 0, count: capacity)
        var count = 0
        while count < capacity {
            let read = bytes.withUnsafeMutableBytes {
                pread(descriptor, $0.baseAddress! + count, capacity - count, off_t(count))
            }
            if read < 0 && errno == EINTR { continue }
            guard read >= 0 else { return nil }
            if read == 0 { break }
            count += read
        }
        return count == capacity ? nil : Data(bytes[..<count])
    }

    static func kind(of url: URL) -> EntryKind {
        var info = stat()
        guard lstat(url.path(percentEncoded: false), &info) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .regularFile
        case S_IFLNK: return .symbolicLink
        default: return .other
        }
    }

    /// Throws when `url` is a symbolic link, naming it relative to `root` (refuse and report, never follow).
    static func refuseSymbolicLink(_ url: URL, under root: URL) throws {
        guard kind(of: url) == .symbolicLink else { return }
        throw VaultError(
            .invalidPath,
            "symbolic link in the vault: \(relativePath(of: url, under: root)); remove it after checking who put it there"
        )
    }

    /// Throws when any component of `url` below `root` is a symbolic link (the first one is named): checking only
    /// the last component let `models` or `data` be a link to a tree elsewhere.
    static func refuseSymbolicLinks(along url: URL, under root: URL) throws {
        let base = root.standardizedFileURL
        let components = relativePath(of: url, under: root).split(separator: "/")
        var current = base
        for component in components {
            current = current.appending(path: String(component))
            try refuseSymbolicLink(current, under: root)
        }
    }

    /// Opens the directory `url` from `root` down, one component at a time with `O_NOFOLLOW`, so a component
    /// swapped for a link (even after it was checked) is not entered. `nil` if any step fails.
    static func openDirectoryNoFollow(_ url: URL, under root: URL) -> Int32? {
        let rootPath = root.standardizedFileURL.path(percentEncoded: false)
        let path = url.standardizedFileURL.path(percentEncoded: false)
        guard path == rootPath || path.hasPrefix(rootPath.hasSuffix("/") ? rootPath : rootPath + "/") else {
            return nil
        }
        var fd = open(rootPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        for component in path.dropFirst(rootPath.count).split(separator: "/") {
            let next = openat(fd, String(component), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            close(fd)
            guard next >= 0 else { return nil }
            fd = next
        }
        return fd
    }

    static func relativePath(of url: URL, under root: URL) -> String {
        let base = root.standardizedFileURL.path(percentEncoded: false)
        let path = url.standardizedFileURL.path(percentEncoded: false)
        guard path.hasPrefix(base) else { return url.lastPathComponent }
        return String(path.dropFirst(base.count).drop { $0 == "/" })
    }

    /// Removes a file, link or directory tree. A link is removed itself; nothing is followed: directories are
    /// opened with `O_NOFOLLOW` and entries unlinked relative to their parent's descriptor, so a directory swapped
    /// for a link mid-way is not entered.
    static func removeTree(_ url: URL) {
        let parent = open(
            url.deletingLastPathComponent().path(percentEncoded: false), O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        guard parent >= 0 else { return }
        defer { close(parent) }
        removeEntry(named: url.lastPathComponent, in: parent, depth: 0)
    }

    /// `removeTree(_:)` for recovery: the parent is reached from `root` without following any link on the way.
    static func removeTree(_ url: URL, under root: URL) {
        guard let parent = openDirectoryNoFollow(url.deletingLastPathComponent(), under: root) else { return }
        defer { close(parent) }
        removeEntry(named: url.lastPathComponent, in: parent, depth: 0)
    }

    private static func removeEntry(named name: String, in parent: Int32, depth: Int) {
        if unlinkat(parent, name, 0) == 0 { return }  // a file or a link: gone, not followed
        // A directory (EISDIR on Linux, EPERM on Darwin): empty it through a no-follow descriptor, then remove it.
        guard depth < 64 else { return }
        let fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        guard fd >= 0 else { return }
        guard let stream = fdopendir(fd) else {
            close(fd)
            return
        }
        var names: [String] = []
        while let entry = readdir(stream) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if entryName != "." && entryName != ".." { names.append(entryName) }
        }
        for entryName in names { removeEntry(named: entryName, in: fd, depth: depth + 1) }
        closedir(stream)  // closes fd
        unlinkat(parent, name, AT_REMOVEDIR)
    }

    /// How long a temporary file must sit untouched before recovery treats its writer as dead.
    static let staleTemporaryAge: TimeInterval = 120

    /// Whether `name` is one of the temporary files the vault writes: `AtomicFile`'s `.NAME.SUFFIX.tmp` (which
    /// covers a rotation's `..NAME.rotate.SUFFIX.tmp`) and a rotation's `.NAME.rotate`.
    static func isTemporaryName(_ name: String) -> Bool {
        name.hasPrefix(".") && (name.hasSuffix(".tmp") || name.hasSuffix(".rotate"))
    }

    /// Removes stale temporary files under `base` (a killed rotation left 81 MB behind), reached from `root` and
    /// walked through no-follow descriptors (`openat`, `fstatat`, `unlinkat`): no link is followed on the way
    /// down or inside. Files touched in the last ``staleTemporaryAge`` seconds may have a live writer and stay.
    static func removeStaleTemporaries(under base: URL, root: URL) {
        guard let fd = openDirectoryNoFollow(base, under: root) else { return }
        removeStaleTemporaries(in: fd, depth: 0)
    }

    /// Walks the directory `fd` (and closes it).
    private static func removeStaleTemporaries(in fd: Int32, depth: Int) {
        guard let stream = fdopendir(fd) else {
            close(fd)
            return
        }
        defer { closedir(stream) }  // closes fd
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        let now = Date().timeIntervalSince1970
        for name in names {
            var info = stat()
            guard fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR where depth < 8:
                let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if child >= 0 { removeStaleTemporaries(in: child, depth: depth + 1) }
            case S_IFREG where isTemporaryName(name):
                if now - Double(info.st_mtim.tv_sec) >= staleTemporaryAge { unlinkat(fd, name, 0) }
            default:
                continue
            }
        }
    }
}
