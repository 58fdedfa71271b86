import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Replaces a small file so that, after a crash at any point, it holds either the old or the new contents, and once
/// this returns the new contents survive power loss: a fresh temporary file (never following a symlink) is written
/// and `fsync`ed, renamed over the target, and the directory is `fsync`ed.
enum DurableFile {
    static func replace(_ url: URL, with data: Data, permissions: mode_t = 0o600) throws {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        let fd = temporary.withUnsafeFileSystemRepresentation { path in
            path.map { open($0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, permissions) } ?? -1
        }
        guard fd >= 0 else { throw AuditLogError.io(errno) }
        let file = LogFile(fd: fd)
        do {
            try file.append(data)
            guard fsync(fd) == 0 else { throw AuditLogError.io(errno) }
            file.close()
        } catch {
            file.close()
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
        let renamed = temporary.withUnsafeFileSystemRepresentation { from in
            url.withUnsafeFileSystemRepresentation { to in
                guard let from, let to else { return Int32(-1) }
                return rename(from, to)
            }
        }
        guard renamed == 0 else {
            let code = errno
            try? FileManager.default.removeItem(at: temporary)
            throw AuditLogError.io(code)
        }
        try LogFile.syncDirectory(directory)
    }
}
