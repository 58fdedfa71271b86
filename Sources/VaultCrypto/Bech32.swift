/// Bech32 (BIP 173) as age uses it: no length cap, since post-quantum recipients are long.
enum Bech32 {
    private static let charset = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)
    private static let reverse: [Int8] = {
        var table = [Int8](repeating: -1, count: 128)
        for (index, character) in charset.enumerated() { table[Int(character)] = Int8(index) }
        return table
    }()

    private static func polymod(_ values: [UInt8]) -> UInt32 {
        let generators: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]
        var check: UInt32 = 1
        for value in values {
            let top = check >> 25
            check = (check & 0x1ff_ffff) << 5 ^ UInt32(value)
            for bit in 0..<5 where (top >> UInt32(bit)) & 1 == 1 { check ^= generators[bit] }
        }
        return check
    }

    private static func expand(_ hrp: [UInt8]) -> [UInt8] {
        hrp.map { $0 >> 5 } + [0] + hrp.map { $0 & 31 }
    }

    private static func convert(_ data: [UInt8], from: Int, to: Int, pad: Bool) -> [UInt8]? {
        var accumulator = 0
        var bits = 0
        var result: [UInt8] = []
        let maxValue = (1 << to) - 1
        for value in data {
            guard Int(value) >> from == 0 else { return nil }
            accumulator = (accumulator << from) | Int(value)
            bits += from
            while bits >= to {
                bits -= to
                result.append(UInt8((accumulator >> bits) & maxValue))
            }
        }
        if pad {
            if bits > 0 { result.append(UInt8((accumulator << (to - bits)) & maxValue)) }
        } else if bits >= from || (accumulator << (to - bits)) & maxValue != 0 {
            return nil
        }
        return result
    }

    /// Encodes `data` under `hrp`; an upper-case `hrp` gives an all upper-case string.
    static func encode(hrp: String, data: [UInt8]) -> String {
        let upper = hrp.uppercased() == hrp && hrp.lowercased() != hrp
        let lowerHRP = Array(hrp.lowercased().utf8)
        let values = convert(data, from: 8, to: 5, pad: true) ?? []
        let checksum = polymod(expand(lowerHRP) + values + [0, 0, 0, 0, 0, 0]) ^ 1
        var output = lowerHRP + [UInt8(ascii: "1")]
        output += values.map { charset[Int($0)] }
        output += (0..<6).map { charset[Int((checksum >> UInt32(5 * (5 - $0))) & 31)] }
        let text = String(decoding: output, as: UTF8.self)
        return upper ? text.uppercased() : text
    }

    /// Decodes a Bech32 string into its lower-case HRP and data, or nil if it is invalid.
    static func decode(_ text: String) -> (hrp: String, data: [UInt8])? {
        guard text.lowercased() == text || text.uppercased() == text else { return nil }
        let bytes = Array(text.lowercased().utf8)
        guard let separator = bytes.lastIndex(of: UInt8(ascii: "1")), separator >= 1,
            bytes.count - separator - 1 >= 6
        else { return nil }
        let hrp = Array(bytes[..<separator])
        guard hrp.allSatisfy({ (33...126).contains($0) }) else { return nil }
        var values: [UInt8] = []
        for character in bytes[(separator + 1)...] {
            guard character < 128, reverse[Int(character)] >= 0 else { return nil }
            values.append(UInt8(reverse[Int(character)]))
        }
        guard polymod(expand(hrp) + values) == 1 else { return nil }
        guard let data = convert(Array(values.dropLast(6)), from: 5, to: 8, pad: false) else { return nil }
        return (String(decoding: hrp, as: UTF8.self), data)
    }
}
