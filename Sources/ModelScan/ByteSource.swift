import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Random-access bytes the scanner reads: an open file (read with `pread`, never mapped or loaded whole) or a
/// buffer in memory (an inflated archive member, a test's bytes).
final class ByteSource {
    private enum Backing {
        case file(descriptor: Int32)
        case memory([UInt8])
        case slice(parent: ByteSource, offset: UInt64)
    }

    private let backing: Backing
    /// Total length in bytes.
    let size: UInt64
    /// Called with the bytes each read of a file-backed source returned (slices read through their root), for
    /// progress; re-read bytes count again.
    var onRead: ((Int) -> Void)?

    /// Opens `path` read-only without following a symbolic link in its last component.
    init(path: String) throws {
        var status = stat()
        guard lstat(path, &status) == 0 else {
            throw ScanError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        if (status.st_mode & S_IFMT) == S_IFLNK { throw ScanError.symbolicLink(path: path) }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw ScanError.unreadable(path: path, reason: "not a regular file")
        }
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ScanError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        guard fstat(descriptor, &status) == 0, status.st_size >= 0 else {
            close(descriptor)
            throw ScanError.unreadable(path: path, reason: "cannot stat")
        }
        backing = .file(descriptor: descriptor)
        size = UInt64(status.st_size)
    }

    /// Reads the regular file open as `descriptor` (duplicated: the caller keeps and closes its own).
    init(duplicating descriptor: Int32, name: String) throws {
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG, status.st_size >= 0 else {
            throw ScanError.unreadable(path: name, reason: "not a regular file")
        }
        let copy = dup(descriptor)
        guard copy >= 0 else { throw ScanError.unreadable(path: name, reason: String(cString: strerror(errno))) }
        backing = .file(descriptor: copy)
        size = UInt64(status.st_size)
    }

    /// Wraps bytes already in memory.
    init(bytes: [UInt8]) {
        backing = .memory(bytes)
        size = UInt64(bytes.count)
    }

    /// A window `[offset, offset+length)` of `parent` (clamped), read through it.
    init(slice parent: ByteSource, offset: UInt64, length: UInt64) {
        let start = min(offset, parent.size)
        // A slice of a slice reads its root directly: reads never recurse through nested windows.
        if case .slice(let root, let base) = parent.backing {
            backing = .slice(parent: root, offset: base + start)
        } else {
            backing = .slice(parent: parent, offset: start)
        }
        size = min(length, parent.size - start)
    }

    deinit {
        if case .file(let descriptor) = backing { close(descriptor) }
    }

    /// Up to `count` bytes at `offset`; fewer at the end, none past it.
    func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        guard offset < size, count > 0 else { return [] }
        let available = Int(min(UInt64(count), size - offset))
        switch backing {
        case .memory(let bytes):
            let start = Int(offset)
            return Array(bytes[start..<start + available])
        case .slice(let parent, let base):
            return try parent.read(at: base + offset, count: available)
        case .file(let descriptor):
            var result = [UInt8](repeating: 0, count: available)
            var filled = 0
            while filled < available {
                let got = result.withUnsafeMutableBytes { buffer in
                    pread(descriptor, buffer.baseAddress! + filled, available - filled, off_t(offset) + off_t(filled))
                }
                if got < 0 {
                    if errno == EINTR { continue }
                    throw ScanError.unreadable(path: "", reason: String(cString: strerror(errno)))
                }
                if got == 0 { break }
                filled += got
            }
            if filled < available { result.removeLast(available - filled) }
            onRead?(filled)
            return result
        }
    }
}

/// A forward-only reader over a region of a `ByteSource`, holding at most one bounded chunk in memory.
final class ByteStream {
    /// Bytes fetched per refill: large enough that refills are rare, small enough to keep memory flat.
    static let chunkSize = 1 << 18

    /// The source read.
    let source: ByteSource
    private let start: UInt64
    private let end: UInt64
    /// Absolute offset in `source` of `buffer[0]`.
    private var bufferBase: UInt64
    private var buffer: [UInt8] = []
    private var index = 0

    /// A stream over `source[start..<start+length]` (clamped to the source's size).
    init(source: ByteSource, start: UInt64 = 0, length: UInt64? = nil) {
        self.source = source
        let clampedStart = min(start, source.size)
        self.start = clampedStart
        let (sum, overflow) = clampedStart.addingReportingOverflow(length ?? source.size)
        self.end = overflow ? source.size : min(sum, source.size)
        self.bufferBase = clampedStart
    }

    /// Offset of the next byte, relative to the region's start.
    var position: UInt64 { bufferBase + UInt64(index) - start }

    /// Offset of the next byte in `source`.
    var sourceOffset: UInt64 { bufferBase + UInt64(index) }

    /// Bytes left in the region.
    var remaining: UInt64 { end - (bufferBase + UInt64(index)) }

    /// Whether the region is exhausted.
    var atEnd: Bool { index >= buffer.count && bufferBase + UInt64(buffer.count) >= end }

    private func refill() throws -> Bool {
        bufferBase += UInt64(buffer.count)
        index = 0
        guard bufferBase < end else {
            buffer = []
            return false
        }
        buffer = try source.read(at: bufferBase, count: Int(min(UInt64(Self.chunkSize), end - bufferBase)))
        return !buffer.isEmpty
    }

    /// The next byte, or nil at the end.
    @inline(__always)
    func readByte() throws -> UInt8? {
        if index < buffer.count {
            index += 1
            return buffer[index - 1]
        }
        guard try refill() else { return nil }
        index = 1
        return buffer[0]
    }

    /// Peeks at the next byte without consuming it.
    func peekByte() throws -> UInt8? {
        if index < buffer.count { return buffer[index] }
        guard try refill() else { return nil }
        return buffer[0]
    }

    /// Exactly `count` bytes, or nil if the region ends first. Callers bound `count`.
    func read(_ count: Int) throws -> [UInt8]? {
        guard count >= 0, UInt64(count) <= remaining else { return nil }
        var result = [UInt8]()
        result.reserveCapacity(count)
        while result.count < count {
            if index >= buffer.count { guard try refill() else { return nil } }
            let take = min(count - result.count, buffer.count - index)
            result.append(contentsOf: buffer[index..<index + take])
            index += take
        }
        return result
    }

    /// Skips `count` bytes without keeping them; false (at the end) if the region is shorter.
    func skip(_ count: UInt64) throws -> Bool {
        let inBuffer = UInt64(buffer.count - index)
        if count <= inBuffer {
            index += Int(count)
            return true
        }
        guard count <= remaining else {
            bufferBase = end
            buffer = []
            index = 0
            return false
        }
        bufferBase = bufferBase + UInt64(buffer.count) + (count - inBuffer)
        buffer = []
        index = 0
        return true
    }

    /// Little-endian unsigned integer of `width` bytes (1...8), or nil at the end.
    func readLE(_ width: Int) throws -> UInt64? {
        var value: UInt64 = 0
        for shift in 0..<width {
            guard let byte = try readByte() else { return nil }
            value |= UInt64(byte) << (8 * UInt64(shift))
        }
        return value
    }

    /// A line up to `\n` (excluded). Keeps at most `cap` bytes (`truncated` then true) but consumes the whole
    /// line; `complete` is false when the region ended before a newline.
    func readLine(cap: Int) throws -> (bytes: [UInt8], complete: Bool, truncated: Bool) {
        var bytes = [UInt8]()
        var truncated = false
        while let byte = try readByte() {
            if byte == 0x0A { return (bytes, true, truncated) }
            if bytes.count < cap { bytes.append(byte) } else { truncated = true }
        }
        return (bytes, false, truncated)
    }
}
