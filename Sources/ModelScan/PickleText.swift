/// Decoders for the text arguments of protocol 0 opcodes, as CPython decodes them: a global's module and name can
/// be spelled with escapes (`'\x6fs'` is `'os'`), so the scanner must see what the loader sees.
enum PickleText {
    /// `STRING`: a quoted Python 2 `str` with `string-escape` escapes; nil when not quoted (Python refuses it).
    static func decodeQuotedString(_ line: [UInt8], truncated: Bool) -> PickleValue? {
        guard line.count >= 2, let quote = line.first, quote == 0x27 || quote == 0x22 else { return nil }
        if truncated { return .opaqueText }
        guard line.last == quote else { return nil }
        let body = line[1..<line.count - 1]
        var out = [UInt8]()
        var index = body.startIndex
        while index < body.endIndex {
            let byte = body[index]
            index += 1
            guard byte == 0x5C, index < body.endIndex else {
                out.append(byte)
                continue
            }
            let escape = body[index]
            index += 1
            switch escape {
            case 0x0A: break  // backslash-newline: nothing
            case 0x5C, 0x27, 0x22: out.append(escape)
            case 0x61: out.append(0x07)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x76: out.append(0x0B)
            case 0x30...0x37:
                var value = Int(escape - 0x30)
                var digits = 1
                while digits < 3, index < body.endIndex, (0x30...0x37).contains(body[index]) {
                    value = value * 8 + Int(body[index] - 0x30)
                    index += 1
                    digits += 1
                }
                out.append(UInt8(truncatingIfNeeded: value))
            case 0x78:
                guard index + 1 < body.endIndex, let high = hex(body[index]), let low = hex(body[index + 1]) else {
                    return nil  // CPython: invalid \x escape
                }
                out.append(UInt8(high * 16 + low))
                index += 2
            default:
                out.append(0x5C)
                out.append(escape)
            }
        }
        return .string(String(decoding: out, as: UTF8.self))
    }

    /// `UNICODE`: `raw-unicode-escape` as CPython decodes it: a backslash and the byte after it are taken as a
    /// pair, so only `\uXXXX` and `\UXXXXXXXX` after an odd run of backslashes are escapes (`\\u0061` is seven
    /// characters, scanner review 54); other bytes are Latin-1. A lone surrogate, which Python keeps and Swift
    /// cannot, and an escape Python refuses read as U+FFFD, so no two texts Python tells apart read alike here
    /// unless one of them holds U+FFFD.
    static func decodeRawUnicodeEscape(_ bytes: [UInt8]) -> String {
        var scalars = String.UnicodeScalarView()
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == 0x5C, index + 1 < bytes.count else {
                scalars.append(Unicode.Scalar(byte))
                index += 1
                continue
            }
            let next = bytes[index + 1]
            guard next == 0x75 || next == 0x55 else {
                scalars.append("\\")
                scalars.append(Unicode.Scalar(next))
                index += 2
                continue
            }
            let width = next == 0x75 ? 4 : 8
            var value: UInt32 = 0
            var valid = index + 2 + width <= bytes.count
            if valid {
                for digit in bytes[(index + 2)..<(index + 2 + width)] {
                    guard let nibble = hex(digit) else {
                        valid = false
                        break
                    }
                    value = value << 4 | UInt32(nibble)
                }
            }
            guard valid else {
                // CPython refuses the text (the load fails): nothing to match.
                scalars.append("\u{FFFD}")
                index = bytes.count
                continue
            }
            scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            index += 2 + width
        }
        return String(scalars)
    }

    private static func hex(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: Int(byte - 0x30)
        case 0x41...0x46: Int(byte - 0x41 + 10)
        case 0x61...0x66: Int(byte - 0x61 + 10)
        default: nil
        }
    }
}
