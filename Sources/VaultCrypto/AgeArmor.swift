/// Strict ASCII armor (RFC 7468 strict PEM, label `AGE ENCRYPTED FILE`): 64-column canonical padded base64,
/// LF or CRLF line ends, whitespace tolerated only before and after the block.
enum AgeArmor {
    static let begin = Array("-----BEGIN AGE ENCRYPTED FILE-----".utf8)
    static let end = Array("-----END AGE ENCRYPTED FILE-----".utf8)
    static let columns = 64

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0a || byte == 0x0d || byte == 0x0b || byte == 0x0c
    }

    /// True if the input looks armored: its first non-whitespace byte is `-` (a binary age file starts with
    /// `age-`). The strict decoder then rejects anything that is not exactly the armor.
    static func isArmored(_ reader: ByteReader) throws -> Bool {
        var count = 64
        while true {
            let window = try reader.peek(count)
            if let first = window.first(where: { !isWhitespace($0) }) { return first == UInt8(ascii: "-") }
            if window.count < count { return false }
            count *= 2
        }
    }

    /// A pull function yielding the decoded bytes of the armored input in `reader`.
    static func decoder(_ reader: ByteReader) -> (Int) throws -> [UInt8] {
        var started = false
        var finished = false
        return { count in
            if finished { return [] }
            if !started {
                try reader.skip(while: isWhitespace)
                guard let (line, _) = try reader.readLine(maxLength: 128), strip(line).elementsEqual(begin) else {
                    throw AgeError.armor("missing or malformed begin line")
                }
                started = true
            }
            var output: [UInt8] = []
            while output.count < count {
                guard let (raw, terminated) = try reader.readLine(maxLength: 128) else {
                    throw AgeError.armor("missing end line")
                }
                let line = strip(raw)
                if line.elementsEqual(end) {
                    try reader.skip(while: isWhitespace)
                    guard try reader.isAtEnd() else { throw AgeError.armor("data after the end line") }
                    finished = true
                    return output
                }
                guard terminated, !line.isEmpty, line.count <= columns,
                    let decoded = StrictBase64.decode(line, padded: true)
                else { throw AgeError.armor("malformed line") }
                output += decoded
                if line.count < columns {
                    // A short line is the last one: the end line must follow.
                    guard let (next, _) = try reader.readLine(maxLength: 128), strip(next).elementsEqual(end) else {
                        throw AgeError.armor("short line before the end")
                    }
                    try reader.skip(while: isWhitespace)
                    guard try reader.isAtEnd() else { throw AgeError.armor("data after the end line") }
                    finished = true
                    return output
                }
                if line.last == UInt8(ascii: "=") {
                    // Padding ends the data even on a full line.
                    guard let (next, _) = try reader.readLine(maxLength: 128), strip(next).elementsEqual(end) else {
                        throw AgeError.armor("data after padding")
                    }
                    try reader.skip(while: isWhitespace)
                    guard try reader.isAtEnd() else { throw AgeError.armor("data after the end line") }
                    finished = true
                    return output
                }
            }
            return output
        }
    }

    /// Drops one trailing CR (the LF is already gone).
    private static func strip(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        line.last == 0x0d ? line.dropLast() : line
    }

    /// Encodes a stream as armor: feed bytes with `write`, then call `finish`.
    struct Encoder {
        private var pending: [UInt8] = []
        private var started = false

        /// Returns the armored text for `bytes` that is complete so far.
        mutating func write(_ bytes: [UInt8]) -> [UInt8] {
            var output: [UInt8] = []
            if !started {
                output += begin + [10]
                started = true
            }
            pending += bytes
            let whole = pending.count / 48 * 48
            guard whole > 0 else { return output }
            output.reserveCapacity(output.count + whole / 48 * 65)
            var offset = 0
            while offset < whole {
                output += StrictBase64.encode(pending[offset..<(offset + 48)], padded: true)
                output.append(10)
                offset += 48
            }
            pending.removeFirst(whole)
            return output
        }

        /// Returns the last line and the end line.
        mutating func finish() -> [UInt8] {
            var output = write([])
            if !pending.isEmpty {
                output += StrictBase64.encode(pending, padded: true)
                output.append(10)
            }
            return output + end + [10]
        }
    }
}
