import Foundation

/// A buffered pull reader over a byte source (file, memory or armor decoder), used while parsing headers and
/// streaming payloads. Not shared across threads.
final class ByteReader {
    /// Returns up to `count` more bytes, or an empty array at end of input.
    private let pull: (Int) throws -> [UInt8]
    private var buffer: [UInt8] = []
    private var position = 0
    private var exhausted = false
    /// Bytes pulled from the source so far.
    private var pulled = 0

    init(pull: @escaping (Int) throws -> [UInt8]) {
        self.pull = pull
    }

    /// A reader over bytes in memory.
    convenience init(bytes: [UInt8]) {
        var offset = 0
        self.init { count in
            let end = min(bytes.count, offset + count)
            defer { offset = end }
            return Array(bytes[offset..<end])
        }
    }

    /// A reader over a file handle, from its current offset.
    convenience init(handle: FileHandle) {
        self.init { count in
            do {
                return [UInt8](try handle.read(upToCount: count) ?? Data())
            } catch {
                throw AgeError.io("cannot read the input")
            }
        }
    }

    private var available: Int { buffer.count - position }

    /// Bytes consumed so far: the source offset of the next byte `read` returns.
    var consumed: Int { pulled - available }

    /// Pulls until at least `count` bytes are buffered or the input ends.
    private func fill(_ count: Int) throws {
        if position > 0 && position >= buffer.count / 2 {
            buffer.removeFirst(position)
            position = 0
        }
        while available < count && !exhausted {
            let more = try pull(max(count - available, 64 * 1024))
            pulled += more.count
            if more.isEmpty {
                exhausted = true
            } else if buffer.isEmpty {
                buffer = more  // no copy when everything was consumed
            } else {
                buffer += more
            }
        }
    }

    /// Returns the next `count` bytes without consuming them (fewer at end of input).
    func peek(_ count: Int) throws -> ArraySlice<UInt8> {
        try fill(count)
        return buffer[position..<(position + min(count, available))]
    }

    /// Reads up to `count` bytes; fewer only at end of input.
    func read(upTo count: Int) throws -> [UInt8] {
        try fill(count)
        let taken = min(count, available)
        defer { position += taken }
        return Array(buffer[position..<(position + taken)])
    }

    /// True when no byte remains.
    func isAtEnd() throws -> Bool {
        try fill(1)
        return available == 0
    }

    /// Reads one line up to and including LF; returns nil at end of input. A line longer than `maxLength`
    /// or ending without LF is returned as read (the caller rejects it).
    func readLine(maxLength: Int) throws -> (line: ArraySlice<UInt8>, terminated: Bool)? {
        var scanned = 0
        while true {
            if let index = buffer[(position + scanned)...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[position..<index]
                position = index + 1
                return (line, true)
            }
            scanned = available
            if scanned > maxLength || exhausted {
                guard available > 0 else { return nil }
                let line = buffer[position...]
                position = buffer.count
                return (line, false)
            }
            try fill(available + 4096)
        }
    }

    /// Skips bytes while `predicate` holds.
    func skip(while predicate: (UInt8) -> Bool) throws {
        while true {
            try fill(1)
            guard available > 0, predicate(buffer[position]) else { return }
            position += 1
        }
    }
}
