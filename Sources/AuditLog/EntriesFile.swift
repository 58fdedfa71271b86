import Foundation

/// Layout of an audit directory and the line framing of its entries file.
enum EntriesFile {
    static let entriesName = "entries.jsonl"
    static let checkpointsName = "checkpoints.log"
    /// Every open writer holds a shared `flock` on this file for its lifetime (the kernel drops it when the process
    /// dies, even by SIGKILL), so whoever gets it exclusively knows that no writer is open.
    static let writersName = "writers.lock"

    /// The byte ranges of complete lines (without their newline), the length of the complete prefix, and the
    /// length without trailing NUL padding (a live writer preallocates with zeroes; records never hold a NUL).
    /// Anything after the last newline and before the padding is an unfinished record.
    static func lineRanges(in data: Data) -> (lines: [Range<Int>], completeByteCount: Int, contentByteCount: Int) {
        data.withUnsafeBytes { buffer -> ([Range<Int>], Int, Int) in
            guard let base = buffer.baseAddress else { return ([], 0, 0) }
            let content = contentLength(buffer)
            var lines: [Range<Int>] = []
            var start = 0
            while start < content {
                guard let hit = memchr(base + start, 0x0A, content - start) else { break }
                let end = base.distance(to: UnsafeRawPointer(hit))
                lines.append(start..<end)
                start = end + 1
            }
            return (lines, start, content)
        }
    }

    /// The length of `buffer` without its trailing NUL bytes.
    static func contentLength(_ buffer: UnsafeRawBufferPointer) -> Int {
        var end = buffer.count
        // Padding is long and word-aligned in practice: skip it eight bytes at a time.
        while end >= 8, end % 8 == 0, buffer.loadUnaligned(fromByteOffset: end - 8, as: UInt64.self) == 0 { end -= 8 }
        while end > 0, buffer[end - 1] == 0 { end -= 1 }
        return end
    }

    /// The length of the leading part of `buffer` that holds no NUL byte: where a writer's records end.
    static func leadingRecordLength(_ buffer: UnsafeRawBufferPointer) -> Int {
        guard let base = buffer.baseAddress, let hit = memchr(base, 0, buffer.count) else { return buffer.count }
        return base.distance(to: UnsafeRawPointer(hit))
    }

    /// Splits one line into its stored leaf hash and leaf data, or `nil` if it is not framed as a record.
    static func parse(_ line: UnsafeRawBufferPointer) -> (stored: TreeHash, leaf: UnsafeRawBufferPointer)? {
        guard line.count > 66, line[64] == 0x20,
            let stored = TreeHash.parseHex(UnsafeRawBufferPointer(rebasing: line[0..<64]))
        else { return nil }
        return (stored, UnsafeRawBufferPointer(rebasing: line[65...]))
    }
}
