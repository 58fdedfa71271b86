/// A small raw-DEFLATE decoder (RFC 1951) for archive members the scanner must read, with a hard bound on output
/// so a decompression bomb ends in an error instead of exhausting memory.
enum Inflate {
    enum Failure: Error {
        case malformed
        case tooLarge
    }

    private struct Bits {
        let input: [UInt8]
        var index = 0
        var buffer: UInt64 = 0
        var count = 0

        mutating func need(_ n: Int) throws {
            while count < n {
                guard index < input.count else { throw Failure.malformed }
                buffer |= UInt64(input[index]) << UInt64(count)
                index += 1
                count += 8
            }
        }

        mutating func take(_ n: Int) throws -> Int {
            if n == 0 { return 0 }
            try need(n)
            let value = Int(buffer & ((1 << UInt64(n)) - 1))
            buffer >>= UInt64(n)
            count -= n
            return value
        }

        mutating func alignToByte() {
            let drop = count % 8
            buffer >>= UInt64(drop)
            count -= drop
        }
    }

    /// Canonical Huffman decoding table: counts per length and symbols in code order.
    private struct Huffman {
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int] = []

        init(lengths: [Int]) throws {
            for length in lengths { counts[length] += 1 }
            counts[0] = 0
            var offsets = [Int](repeating: 0, count: 16)
            for length in 1..<16 { offsets[length] = offsets[length - 1] + counts[length - 1] }
            symbols = [Int](repeating: 0, count: lengths.count)
            for (symbol, length) in lengths.enumerated() where length != 0 {
                symbols[offsets[length]] = symbol
                offsets[length] += 1
            }
        }

        func decode(_ bits: inout Bits) throws -> Int {
            var code = 0
            var first = 0
            var index = 0
            for length in 1..<16 {
                code |= try bits.take(1)
                let count = counts[length]
                if code - first < count { return symbols[index + code - first] }
                index += count
                first = (first + count) << 1
                code <<= 1
            }
            throw Failure.malformed
        }
    }

    private static let lengthBase = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227,
        258,
    ]
    private static let lengthExtra = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ]
    private static let distanceBase = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
        6145, 8193, 12289, 16385, 24577,
    ]
    private static let distanceExtra = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
    ]

    /// Inflates `input`, failing past `limit` output bytes.
    static func inflate(_ input: [UInt8], limit: Int) throws -> [UInt8] {
        try inflateCounting(input, limit: limit).output
    }

    /// Inflates the DEFLATE stream at the start of `input`; also returns how many input bytes it used, so that what
    /// follows (a checksum, another stream) can be read.
    static func inflateCounting(_ input: [UInt8], limit: Int) throws -> (output: [UInt8], consumed: Int) {
        var bits = Bits(input: input)
        var output = [UInt8]()
        var final = 0
        repeat {
            final = try bits.take(1)
            switch try bits.take(2) {
            case 0:
                bits.alignToByte()
                let length = try bits.take(16)
                let complement = try bits.take(16)
                guard length == ~complement & 0xFFFF else { throw Failure.malformed }
                // Whole bytes may still sit in the bit buffer after alignment.
                for _ in 0..<length {
                    output.append(UInt8(try bits.take(8)))
                }
                guard output.count <= limit else { throw Failure.tooLarge }
            case 1:
                var lengths = [Int](repeating: 8, count: 288)
                for index in 144..<256 { lengths[index] = 9 }
                for index in 256..<280 { lengths[index] = 7 }
                try block(
                    &bits, &output, try Huffman(lengths: lengths), try Huffman(lengths: [Int](repeating: 5, count: 30)),
                    limit)
            case 2:
                let literalCount = try bits.take(5) + 257
                let distanceCount = try bits.take(5) + 1
                let codeCount = try bits.take(4) + 4
                let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
                var codeLengths = [Int](repeating: 0, count: 19)
                for index in 0..<codeCount { codeLengths[order[index]] = try bits.take(3) }
                let codeTable = try Huffman(lengths: codeLengths)
                var lengths = [Int]()
                while lengths.count < literalCount + distanceCount {
                    let symbol = try codeTable.decode(&bits)
                    switch symbol {
                    case 0..<16: lengths.append(symbol)
                    case 16:
                        guard let previous = lengths.last else { throw Failure.malformed }
                        lengths.append(contentsOf: repeatElement(previous, count: 3 + (try bits.take(2))))
                    case 17: lengths.append(contentsOf: repeatElement(0, count: 3 + (try bits.take(3))))
                    default: lengths.append(contentsOf: repeatElement(0, count: 11 + (try bits.take(7))))
                    }
                }
                guard lengths.count == literalCount + distanceCount else { throw Failure.malformed }
                try block(
                    &bits, &output, try Huffman(lengths: Array(lengths[..<literalCount])),
                    try Huffman(lengths: Array(lengths[literalCount...])), limit)
            default:
                throw Failure.malformed
            }
        } while final == 0
        bits.alignToByte()
        return (output, bits.index - bits.count / 8)
    }

    private static func block(
        _ bits: inout Bits, _ output: inout [UInt8], _ literals: Huffman, _ distances: Huffman, _ limit: Int
    ) throws {
        while true {
            let symbol = try literals.decode(&bits)
            if symbol < 256 {
                output.append(UInt8(symbol))
            } else if symbol == 256 {
                return
            } else {
                let index = symbol - 257
                guard index < lengthBase.count else { throw Failure.malformed }
                let length = lengthBase[index] + (try bits.take(lengthExtra[index]))
                let distanceSymbol = try distances.decode(&bits)
                guard distanceSymbol < distanceBase.count else { throw Failure.malformed }
                let distance = distanceBase[distanceSymbol] + (try bits.take(distanceExtra[distanceSymbol]))
                guard distance <= output.count else { throw Failure.malformed }
                let start = output.count - distance
                for offset in 0..<length { output.append(output[start + offset]) }
            }
            guard output.count <= limit else { throw Failure.tooLarge }
        }
    }
}
