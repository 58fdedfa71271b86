/// The subset of Python literals a `.npy` header uses (numpy reads it with `ast.literal_eval`): dicts, tuples,
/// lists, strings (escapes, adjacent literals concatenated), integers, True/False/None. Bounded in depth.
enum PythonLiteral {
    case string(String)
    case int
    case bool
    case none
    case tuple([PythonLiteral])
    case list([PythonLiteral])
    case dict([(PythonLiteral, PythonLiteral)])

    /// Parses `text` whole; nil when it is not such a literal.
    static func parse(_ text: [UInt8]) -> PythonLiteral? {
        var parser = Parser(bytes: text)
        guard let value = parser.value(depth: 0) else { return nil }
        parser.skipSpace()
        return parser.index == text.count ? value : nil
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D, 0x0C].contains(bytes[index]) { index += 1 }
        }

        mutating func value(depth: Int) -> PythonLiteral? {
            guard depth < 16 else { return nil }
            skipSpace()
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case 0x7B: return dict(depth: depth)
            case 0x28, 0x5B:
                let close: UInt8 = bytes[index] == 0x28 ? 0x29 : 0x5D
                index += 1
                var items = [PythonLiteral]()
                var sawComma = false
                while true {
                    skipSpace()
                    if index < bytes.count, bytes[index] == close {
                        index += 1
                        break
                    }
                    guard let item = value(depth: depth + 1) else { return nil }
                    items.append(item)
                    skipSpace()
                    guard index < bytes.count else { return nil }
                    if bytes[index] == 0x2C {
                        sawComma = true
                        index += 1
                    } else if bytes[index] != close {
                        return nil
                    }
                }
                if close == 0x5D { return .list(items) }
                // `(x)` is x itself, not a tuple.
                return items.count == 1 && !sawComma ? items[0] : .tuple(items)
            case 0x27, 0x22:
                var text = ""
                while index < bytes.count, bytes[index] == 0x27 || bytes[index] == 0x22 {
                    guard let piece = string() else { return nil }
                    text += piece
                    skipSpace()
                }
                return .string(text)
            default:
                return word()
            }
        }

        mutating func dict(depth: Int) -> PythonLiteral? {
            index += 1
            var pairs = [(PythonLiteral, PythonLiteral)]()
            while true {
                skipSpace()
                if index < bytes.count, bytes[index] == 0x7D {
                    index += 1
                    return .dict(pairs)
                }
                guard let key = value(depth: depth + 1) else { return nil }
                skipSpace()
                guard index < bytes.count, bytes[index] == 0x3A else { return nil }
                index += 1
                guard let item = value(depth: depth + 1) else { return nil }
                pairs.append((key, item))
                skipSpace()
                guard index < bytes.count else { return nil }
                if bytes[index] == 0x2C {
                    index += 1
                } else if bytes[index] != 0x7D {
                    return nil
                }
            }
        }

        /// A number or a keyword.
        mutating func word() -> PythonLiteral? {
            let start = index
            while index < bytes.count,
                bytes[index] == 0x2D || bytes[index] == 0x2B || bytes[index] == 0x5F
                    || (0x30...0x39).contains(bytes[index]) || (0x41...0x5A).contains(bytes[index] & 0xDF)
            {
                index += 1
            }
            let word = String(decoding: bytes[start..<index], as: UTF8.self)
            switch word {
            case "True", "False": return .bool
            case "None": return .none
            default:
                guard PickleInteger.parse(Array(word.utf8), base: 0) != nil else { return nil }
                return .int
            }
        }

        /// One quoted string (single or double quotes, no triple quotes), with Python's escapes; a `b`/`r` prefix
        /// is not accepted (numpy writes neither).
        mutating func string() -> String? {
            let quote = bytes[index]
            index += 1
            var scalars = String.UnicodeScalarView()
            var raw = [UInt8]()
            func flush() {
                scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
                raw.removeAll()
            }
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if byte == quote {
                    flush()
                    return String(scalars)
                }
                if byte == 0x0A { return nil }
                guard byte == 0x5C else {
                    raw.append(byte)
                    continue
                }
                guard index < bytes.count else { return nil }
                let escape = bytes[index]
                index += 1
                flush()
                switch escape {
                case 0x0A: break
                case 0x5C, 0x27, 0x22: scalars.append(Unicode.Scalar(escape))
                case 0x61: scalars.append("\u{07}")
                case 0x62: scalars.append("\u{08}")
                case 0x66: scalars.append("\u{0C}")
                case 0x6E: scalars.append("\n")
                case 0x72: scalars.append("\r")
                case 0x74: scalars.append("\t")
                case 0x76: scalars.append("\u{0B}")
                case 0x30...0x37:
                    var value = UInt32(escape - 0x30)
                    var count = 1
                    while count < 3, index < bytes.count, (0x30...0x37).contains(bytes[index]) {
                        value = value * 8 + UInt32(bytes[index] - 0x30)
                        index += 1
                        count += 1
                    }
                    guard let scalar = Unicode.Scalar(value) else { return nil }
                    scalars.append(scalar)
                case 0x78, 0x75, 0x55:
                    let width = escape == 0x78 ? 2 : escape == 0x75 ? 4 : 8
                    guard index + width <= bytes.count else { return nil }
                    var value: UInt32 = 0
                    for byte in bytes[index..<(index + width)] {
                        guard let d = hexDigit(byte) else { return nil }
                        value = value << 4 | UInt32(d)
                    }
                    index += width
                    guard let scalar = Unicode.Scalar(value) else { return nil }
                    scalars.append(scalar)
                case 0x4E:
                    return nil  // \N{name}: never in a numpy header; refused rather than guessed
                default:
                    scalars.append("\\")
                    scalars.append(Unicode.Scalar(escape))
                }
            }
            return nil
        }

        func hexDigit(_ byte: UInt8) -> Int? {
            switch byte {
            case 0x30...0x39: Int(byte - 0x30)
            case 0x41...0x46: Int(byte - 0x41 + 10)
            case 0x61...0x66: Int(byte - 0x61 + 10)
            default: nil
            }
        }
    }
}
