import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A log file descriptor with explicit durability (POSIX; a value type so it can cross to the I/O queues).
struct LogFile: Sendable {
    let fd: Int32

    /// Opens (creating with mode 0600) a file for reading and writing; with `appending`, every write goes to the end.
    static func open(_ url: URL, create: Bool = true, appending: Bool = true) throws -> LogFile {
        let flags = O_RDWR | O_CLOEXEC | (appending ? O_APPEND : 0) | (create ? O_CREAT : 0)
        let fd = url.withUnsafeFileSystemRepresentation { path in
            path.map { systemOpen($0, flags, 0o600) } ?? -1
        }
        guard fd >= 0 else { throw AuditLogError.io(errno) }
        return LogFile(fd: fd)
    }

    /// Takes the exclusive advisory lock, waiting for other writers (in this or another process).
    func lock() throws {
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw AuditLogError.io(errno) }
        }
    }

    /// Takes (or converts to) a shared lock, waiting while another process holds it exclusively.
    func lockShared() throws {
        while flock(fd, LOCK_SH) != 0 {
            guard errno == EINTR else { throw AuditLogError.io(errno) }
        }
    }

    /// Takes (or converts to) the exclusive lock if nobody else holds the lock; never waits.
    func tryLockExclusive() -> Bool {
        flock(fd, LOCK_EX | LOCK_NB) == 0
    }

    /// Releases the lock.
    func unlock() {
        _ = flock(fd, LOCK_UN)
    }

    /// The current length in bytes.
    func size() throws -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw AuditLogError.io(errno) }
        return Int(info.st_size)
    }

    /// `count` bytes from `offset` (fewer if the file is shorter).
    func read(from offset: Int, count: Int) throws -> Data {
        var data = Data(count: count)
        var done = 0
        try data.withUnsafeMutableBytes { buffer in
            while done < count {
                let n = pread(fd, buffer.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw AuditLogError.io(errno)
                }
                if n == 0 { break }
                done += n
            }
        }
        return data.prefix(done)
    }

    /// The bytes from `offset` up to the first NUL byte (where preallocated zeroes begin) or `end`.
    func readRecords(from offset: Int, upTo end: Int) throws -> Data {
        var result = Data()
        var position = offset
        var chunk = 4096
        while position < end {
            let piece = try read(from: position, count: min(chunk, end - position))
            guard !piece.isEmpty else { break }
            let length = piece.withUnsafeBytes { EntriesFile.leadingRecordLength($0) }
            result.append(piece.prefix(length))
            if length < piece.count { break }
            position += piece.count
            chunk = min(chunk * 4, 4 << 20)
        }
        return result
    }

    /// Whether any byte in `offset..<end` is not zero.
    func hasNonZeroBytes(from offset: Int, upTo end: Int) throws -> Bool {
        var position = offset
        while position < end {
            let piece = try read(from: position, count: min(1 << 20, end - position))
            guard !piece.isEmpty else { break }
            if piece.withUnsafeBytes({ EntriesFile.contentLength($0) }) > 0 { return true }
            position += piece.count
        }
        return false
    }

    /// Appends all of `data` (one or more `write` calls at the end of the file).
    func append(_ data: Data) throws {
        try data.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let n = write(fd, buffer.baseAddress! + done, buffer.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw AuditLogError.io(errno)
                }
                done += n
            }
        }
    }

    /// Writes all of `data` at `offset` (the file grows if needed).
    func overwrite(_ data: Data, at offset: Int) throws {
        try data.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let n = pwrite(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw AuditLogError.io(errno)
                }
                done += n
            }
        }
    }

    /// Makes written data durable.
    func sync() throws {
        #if canImport(Darwin)
        // F_FULLFSYNC flushes the drive cache too; fall back to fsync where unsupported.
        if fcntl(fd, F_FULLFSYNC) == 0 { return }
        guard fsync(fd) == 0 else { throw AuditLogError.io(errno) }
        #else
        guard fdatasync(fd) == 0 else { throw AuditLogError.io(errno) }
        #endif
    }

    /// Cuts the file to `length` bytes and makes that durable.
    func truncate(to length: Int) throws {
        guard ftruncate(fd, off_t(length)) == 0 else { throw AuditLogError.io(errno) }
        try sync()
    }

    /// Releases the descriptor (and with it the lock).
    func close() {
        _ = systemClose(fd)
    }

    /// Makes a directory entry (a newly created or replaced file) durable. A failure throws: a witness that answered
    /// after a state replacement that did not reach the disk could cosign an older head again after a crash.
    static func syncDirectory(_ url: URL) throws {
        let fd = url.withUnsafeFileSystemRepresentation { path in
            path.map { systemOpen($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0) } ?? -1
        }
        guard fd >= 0 else { throw AuditLogError.io(errno) }
        defer { _ = systemClose(fd) }
        guard fsync(fd) == 0 else { throw AuditLogError.io(errno) }
    }
}

private func systemOpen(_ path: UnsafePointer<CChar>, _ flags: Int32, _ mode: mode_t) -> Int32 {
    open(path, flags, mode)
}

private func systemClose(_ fd: Int32) -> Int32 {
    close(fd)
}
