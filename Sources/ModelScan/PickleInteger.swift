/// Integer arguments of protocol 0 opcodes, read as CPython reads them: `INT` tries C `strtol` with base 0 (so
/// `010` is octal) and falls back to `int(text, 0)`; `LONG` drops a trailing `L` and uses `int(text, 0)`;
/// `GET`/`PUT` use `int(text, 10)`. Python's grammar allows surrounding whitespace, a sign, `0x`/`0o`/`0b` prefixes
/// and single underscores between digits; a line the scanner reads differently would hide what follows it.
enum PickleInteger: Equatable {
    /// A value that fits in 64 bits.
    case small(Int64)
    /// A larger value: little-endian two's complement bytes, as LONG1 stores them (empty when too long to keep).
    case big([UInt8])

    /// Bytes a numeric argument may contain (digits, prefixes, hex letters, sign, underscore, `L`, whitespace).
    static func mayAppearInNumber(_ byte: UInt8) -> Bool {
        digit(byte).map { $0 < 16 } == true || [0x78, 0x58, 0x6F, 0x4F, 0x5F, 0x2B, 0x2D, 0x4C].contains(byte)
            || isSpace(byte)
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }

    private static func digit(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: Int(byte - 0x30)
        case 0x41...0x5A: Int(byte - 0x41 + 10)
        case 0x61...0x7A: Int(byte - 0x61 + 10)
        default: nil
        }
    }

    /// `INT`'s argument (without the newline); nil when CPython refuses it.
    static func parseINT(_ line: [UInt8]) -> PickleInteger? {
        let text = Array(line.prefix { $0 != 0 })  // C string: a NUL ends it
        return strtol(text) ?? parse(text, base: 0)
    }

    /// `LONG`'s argument (without the newline): a final `L` is dropped first.
    static func parseLONG(_ line: [UInt8]) -> PickleInteger? {
        var text = line
        if text.count >= 1, text.last == 0x4C { text.removeLast() }
        return parse(Array(text.prefix { $0 != 0 }), base: 0)
    }

    /// `GET`/`PUT`'s argument: `int(text, 10)`.
    static func parseDecimal(_ line: [UInt8]) -> PickleInteger? {
        parse(Array(line.prefix { $0 != 0 }), base: 10)
    }

    /// C `strtol(text, &end, 0)` accepted only when it consumes everything and does not overflow.
    private static func strtol(_ text: [UInt8]) -> PickleInteger? {
        var index = 0
        while index < text.count, isSpace(text[index]) { index += 1 }
        var negative = false
        if index < text.count, text[index] == 0x2B || text[index] == 0x2D {
            negative = text[index] == 0x2D
            index += 1
        }
        var base: UInt64 = 10
        if index < text.count, text[index] == 0x30 {
            if index + 2 < text.count, text[index + 1] | 0x20 == 0x78,
                let d = digit(text[index + 2]), d < 16
            {
                base = 16
                index += 2
            } else {
                base = 8
            }
        }
        let start = index
        var value: UInt64 = 0
        while index < text.count, let d = digit(text[index]), UInt64(d) < base {
            let (product, o1) = value.multipliedReportingOverflow(by: base)
            let (sum, o2) = product.addingReportingOverflow(UInt64(d))
            if o1 || o2 { return nil }
            value = sum
            index += 1
        }
        guard index > start, index == text.count else { return nil }
        if negative {
            guard value <= UInt64(Int64.max) + 1 else { return nil }
            return .small(value == UInt64(Int64.max) + 1 ? Int64.min : -Int64(value))
        }
        guard value <= UInt64(Int64.max) else { return nil }
        return .small(Int64(value))
    }

    /// Python's `int(text, base)` for base 0 or 10.
    static func parse(_ text: [UInt8], base requested: Int) -> PickleInteger? {
        var index = 0
        while index < text.count, isSpace(text[index]) { index += 1 }
        var end = text.count
        while end > index, isSpace(text[end - 1]) { end -= 1 }
        var negative = false
        if index < end, text[index] == 0x2B || text[index] == 0x2D {
            negative = text[index] == 0x2D
            index += 1
        }
        var base = requested
        var onlyZeros = false
        if requested == 0 {
            if index + 1 < end, text[index] == 0x30, [0x78, 0x6F, 0x62].contains(text[index + 1] | 0x20) {
                base = text[index + 1] | 0x20 == 0x78 ? 16 : text[index + 1] | 0x20 == 0x6F ? 8 : 2
                index += 2
                if index < end, text[index] == 0x5F { index += 1 }  // `0x_1f` is valid
            } else {
                base = 10
                onlyZeros = index < end && text[index] == 0x30  // base 0 forbids `010`
            }
        }
        // Digits with single underscores between them.
        var digits = [Int]()
        var previousUnderscore = true
        while index < end {
            if text[index] == 0x5F {
                guard !previousUnderscore else { return nil }
                previousUnderscore = true
            } else {
                guard let d = digit(text[index]), d < base else { return nil }
                digits.append(d)
                previousUnderscore = false
            }
            index += 1
        }
        guard !digits.isEmpty, !previousUnderscore else { return nil }
        if onlyZeros, digits.contains(where: { $0 != 0 }) { return nil }
        // Magnitude as little-endian bytes (quadratic, so only for short values: the legacy PyTorch magic number has
        // 24 digits); longer values are kept opaque. Leading zeros do not count: `0` x 70 then `1` is 1, a memo key
        // CPython reads (scanner review 16: taken as too long, it ended the reading before `os.system`).
        let significant = digits.drop { $0 == 0 }
        guard significant.count <= 64 else { return .big([]) }
        var magnitude = [UInt8]()
        for d in significant {
            var carry = d
            for i in magnitude.indices {
                let v = Int(magnitude[i]) * base + carry
                magnitude[i] = UInt8(v & 0xFF)
                carry = v >> 8
            }
            while carry > 0 {
                magnitude.append(UInt8(carry & 0xFF))
                carry >>= 8
            }
        }
        if magnitude.count <= 8 {
            var value: UInt64 = 0
            for (i, byte) in magnitude.enumerated() { value |= UInt64(byte) << UInt64(8 * i) }
            if !negative, value <= UInt64(Int64.max) { return .small(Int64(value)) }
            if negative, value <= UInt64(Int64.max) + 1 {
                return .small(value == UInt64(Int64.max) + 1 ? Int64.min : -Int64(value))
            }
        }
        guard !negative else { return .big([]) }
        if let last = magnitude.last, last & 0x80 != 0 { magnitude.append(0) }
        return .big(magnitude)
    }
}
