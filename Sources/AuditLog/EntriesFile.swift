import Foundation

/// Layout of an audit directory and the line framing of its entries file.
enum EntriesFile {
    static let entriesName = "entries.jsonl"
    static let checkpointsName = "checkpoints.log"

    /// The byte ranges of complete lines (without their newline) and the length of the complete prefix.
    /// Anything after the last newline is an unfinished record.
    static func lineRanges(in data: Data) -> (lines: [Range<Int>], completeByteCount: Int) {
        data.withUnsafeBytes { buffer -> ([Range<Int>], Int) in
            guard let base = buffer.baseAddress else { return ([], 0) }
            var lines: [Range<Int>] = []
            var start = 0
            while start < buffer.count {
                guard let hit = memchr(base + start, 0x0A, buffer.count - start) else { break }
                let end = base.distance(to: UnsafeRawPointer(hit))
                lines.append(start..<end)
                start = end + 1
            }
            return (lines, start)
        }
    }

    /// Splits one line into its stored leaf hash and leaf data, or `nil` if it is not framed as a record.
    static func parse(_ line: UnsafeRawBufferPointer) -> (stored: TreeHash, leaf: UnsafeRawBufferPointer)? {
        guard line.count > 66, line[64] == 0x20,
            let stored = TreeHash.parseHex(UnsafeRawBufferPointer(rebasing: line[0..<64]))
        else { return nil }
        return (stored, UnsafeRawBufferPointer(rebasing: line[65...]))
    }
}
