import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A descriptor of a regular file read by offset (`pread`), from where its handle stood: the parallel pipeline
/// needs to know the size up front and to read segments out of order.
struct RegularFile: Sendable {
    let descriptor: Int32
    /// The offset the handle was at: where the content starts.
    let start: Int
    /// Bytes from `start` to the end of the file when opened.
    let size: Int

    /// `nil` unless `handle` is a regular file (pipes and terminals take the sequential path).
    init?(_ handle: FileHandle) {
        let descriptor = handle.fileDescriptor
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        let start = lseek(descriptor, 0, SEEK_CUR)
        guard start >= 0, Int(status.st_size) >= start else { return nil }
        self.descriptor = descriptor
        self.start = Int(start)
        self.size = Int(status.st_size) - Int(start)
        // Segments are read mostly in order: let the kernel read ahead further.
        _ = posix_fadvise(descriptor, off_t(start), 0, Int32(POSIX_FADV_SEQUENTIAL))
    }

    /// A byte reader from `start` that does not move the handle's offset.
    func reader() -> ByteReader {
        var offset = 0
        let size = self.size
        return ByteReader { count in
            let taken = min(count, size - offset)
            guard taken > 0 else { return [] }
            var bytes = [UInt8](repeating: 0, count: taken)
            let read = try bytes.withUnsafeMutableBytes { try readFully(into: $0, at: offset) }
            offset += read
            return Array(bytes.prefix(read))
        }
    }

    /// Reads into `buffer` from content offset `offset` until it is full or the file ends; returns the count.
    func readFully(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int {
        var done = 0
        while done < buffer.count {
            let result = pread(
                descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(start + offset + done))
            if result < 0 && errno == EINTR { continue }
            guard result >= 0 else { throw AgeError.io("cannot read the input") }
            if result == 0 { break }
            done += result
        }
        return done
    }

    /// Reads exactly `buffer.count` bytes: the file must not shrink while it is processed.
    func readExactly(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        guard try readFully(into: buffer, at: offset) == buffer.count else {
            throw AgeError.io("the input changed while it was read")
        }
    }

    /// True when the file has grown past the size it had when opened.
    func hasGrown() throws -> Bool {
        var byte: UInt8 = 0
        return try withUnsafeMutableBytes(of: &byte) { try readFully(into: $0, at: size) } > 0
    }
}

/// Writes all of `bytes` to `descriptor` at its current offset, retrying short writes.
func writeFully(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) throws {
    var done = 0
    while done < bytes.count {
        let result = write(descriptor, bytes.baseAddress! + done, bytes.count - done)
        if result < 0 && errno == EINTR { continue }
        guard result > 0 else { throw AgeError.output("cannot write the output") }
        done += result
    }
}

extension RegularFile {
    /// Fills every buffer in turn from content offset `offset` with one `preadv`: `false` when the read came up
    /// short (the caller then reads buffer by buffer, to fail exactly where a sequential reader would).
    func readVectored(into buffers: [UnsafeMutableRawBufferPointer], at offset: Int) -> Bool {
        var vectors = buffers.map { iovec(iov_base: $0.baseAddress, iov_len: $0.count) }
        let total = buffers.reduce(0) { $0 + $1.count }
        let result = vectors.withUnsafeMutableBufferPointer {
            preadv(descriptor, $0.baseAddress, Int32($0.count), off_t(start + offset))
        }
        return result == total
    }
}

/// `open(2)` for reading a regular file (outside `Age`, whose `open` methods shadow it), through a final symbolic link
/// only with `followingLinks`; -1 on failure or for anything else. Opened without blocking and checked before use: a
/// FIFO put in a stored file's place, held by a writer or not, would otherwise hold the thread (reviews of the
/// recorded headers); `O_NONBLOCK` is cleared once the file is known to be regular.
func openRegularFile(_ path: String, followingLinks: Bool) -> Int32 {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followingLinks ? 0 : O_NOFOLLOW))
    guard descriptor >= 0 else { return -1 }
    var info = stat()
    let flags = fcntl(descriptor, F_GETFL)
    guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG, flags >= 0,
        fcntl(descriptor, F_SETFL, flags & ~O_NONBLOCK) == 0
    else {
        close(descriptor)
        return -1
    }
    return descriptor
}
