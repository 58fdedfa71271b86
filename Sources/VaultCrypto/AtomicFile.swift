public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Atomic file writes: a temporary file in the destination directory, fsync, then rename, so readers see the
/// old file or the complete new one, and a failed write leaves nothing behind.
public enum AtomicFile {
    /// Writes `data` to `url` atomically with the given POSIX permissions.
    public static func write(_ data: some DataProtocol, to url: URL, permissions: Int = 0o644) throws {
        try write(to: url, permissions: permissions) { handle in
            do { try handle.write(contentsOf: data) } catch { throw AgeError.io("cannot write the output file") }
        }
    }

    /// Creates `url` atomically from what `body` writes to the handle; if `body` throws, its error is rethrown and
    /// no file is left.
    public static func write(
        to url: URL, permissions: Int = 0o644, _ body: (FileHandle) throws -> Void
    ) throws {
        let directory = url.deletingLastPathComponent()
        let suffix = UInt64.random(in: 0...UInt64.max)
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(String(suffix, radix: 36)).tmp")
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(permissions))
        guard descriptor >= 0 else { throw AgeError.io("cannot create the output file") }
        // The umask may have cleared bits; set exactly what was asked.
        _ = fchmod(descriptor, mode_t(permissions))
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: false)
        var committed = false
        defer {
            if !committed {
                close(descriptor)
                unlink(temporary.path)
            }
        }
        try body(handle)
        guard fsync(descriptor) == 0 else { throw AgeError.io("cannot flush the output file") }
        committed = true
        close(descriptor)
        guard rename(temporary.path, url.path) == 0 else {
            unlink(temporary.path)
            throw AgeError.io("cannot move the output file into place")
        }
        let directoryDescriptor = open(directory.path, O_RDONLY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }
}
