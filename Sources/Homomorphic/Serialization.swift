import Crypto
import Foundation

/// Versioned compact binary serialisation.
///
/// Every object starts with the magic "MVHE", a format version, an object kind and the 64-bit identifier of the
/// parameters it belongs to; then sizes, then polynomial rows packed at their modulus bit width (LSB first).
/// Readers check the magic, version, kind, parameter identifier, every count, every residue (< q) and that no
/// byte is left over, and throw `HEError.malformedData` otherwise.
enum WireFormat {
    static let magic: [UInt8] = Array("MVHE".utf8)
    static let version: UInt8 = 1

    enum Kind: UInt8 {
        case parameters = 1
        case secretKey = 2
        case publicKey = 3
        case relinearizationKey = 4
        case galoisKeys = 5
        case ciphertext = 6
        case query = 7
        case result = 8
    }
}

struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func header(_ kind: WireFormat.Kind, parametersID: UInt64) {
        bytes += WireFormat.magic
        bytes.append(WireFormat.version)
        bytes.append(kind.rawValue)
        u64(parametersID)
    }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func f64(_ v: Double) { u64(v.bitPattern) }
    mutating func raw(_ v: [UInt8]) { bytes += v }
    mutating func blob(_ v: [UInt8]) {
        u32(UInt32(v.count))
        bytes += v
    }

    /// Packs `values` (each < 2^bits) LSB-first.
    mutating func packed(_ values: ArraySlice<UInt64>, bits: Int) {
        var accumulator: UInt64 = 0
        var filled = 0
        bytes.reserveCapacity(bytes.count + (values.count * bits + 7) / 8)
        for value in values {
            accumulator |= value << filled
            let taken = 64 - filled
            if bits >= taken {
                // Flush the full 64-bit word, keep the bits of `value` that did not fit.
                withUnsafeBytes(of: accumulator.littleEndian) { bytes += $0 }
                accumulator = taken == 64 ? 0 : value >> taken
                filled = bits - taken
            } else {
                filled += bits
            }
        }
        while filled > 0 {
            bytes.append(UInt8(truncatingIfNeeded: accumulator))
            accumulator >>= 8
            filled -= min(8, filled)
        }
    }
}

struct ByteReader {
    let bytes: [UInt8]
    var position = 0
    let what: String

    init(_ bytes: [UInt8], what: String) {
        self.bytes = bytes
        self.what = what
    }

    var malformed: HEError { HEError.malformedData(what) }

    mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count - position >= count else { throw malformed }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    mutating func header(_ kind: WireFormat.Kind, parametersID: UInt64?) throws -> UInt64 {
        guard try Array(take(4)) == WireFormat.magic, try u8() == WireFormat.version, try u8() == kind.rawValue
        else { throw malformed }
        let id = try u64()
        if let parametersID, id != parametersID { throw HEError.parametersMismatch }
        return id
    }

    mutating func u8() throws -> UInt8 { try take(1).first! }
    mutating func u16() throws -> UInt16 { try take(2).reversed().reduce(0) { $0 << 8 | UInt16($1) } }
    mutating func u32() throws -> UInt32 { try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) } }
    mutating func u64() throws -> UInt64 { try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) } }
    mutating func f64() throws -> Double { Double(bitPattern: try u64()) }
    mutating func blob(maxCount: Int) throws -> [UInt8] {
        let count = Int(try u32())
        guard count <= maxCount else { throw malformed }
        return Array(try take(count))
    }

    mutating func finish() throws {
        guard position == bytes.count else { throw malformed }
    }

    /// Unpacks `count` values of `bits` bits, each checked < `bound`.
    mutating func packed(count: Int, bits: Int, bound: UInt64, into output: inout [UInt64], at offset: Int) throws {
        let byteCount = (count * bits + 7) / 8
        let slice = try take(byteCount)
        let mask: UInt64 = bits == 64 ? .max : (1 << bits) - 1
        var accumulator: UInt64 = 0
        var available = 0
        var index = slice.startIndex
        for i in 0..<count {
            var value: UInt64
            if available >= bits {
                value = accumulator & mask
                accumulator = bits == 64 ? 0 : accumulator >> bits
                available -= bits
            } else {
                value = accumulator
                var have = available
                accumulator = 0
                available = 0
                while have < bits {
                    let byte = UInt64(bytes[index])
                    index += 1
                    value |= byte << have
                    let used = min(8, bits - have)
                    if used < 8 {
                        accumulator = byte >> used
                        available = 8 - used
                    }
                    have += 8
                }
                value &= mask
            }
            guard value < bound else { throw malformed }
            output[offset + i] = value
        }
        // Padding bits of the last byte must be zero (canonical encoding).
        guard accumulator == 0 else { throw malformed }
    }
}

extension CKKSParameters {
    /// The 64-bit identifier: the first 8 bytes of SHA-256 over N, the moduli and the scale.
    public var identifier: UInt64 {
        var writer = ByteWriter()
        writer.u64(UInt64(polyDegree))
        for q in coefficientModuli { writer.u64(q) }
        writer.f64(scale)
        return Array(SHA256.hash(data: writer.bytes)).prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Serialises the parameters.
    public func serialized() -> [UInt8] {
        var writer = ByteWriter()
        writer.header(.parameters, parametersID: identifier)
        writer.u32(UInt32(polyDegree))
        writer.u8(UInt8(coefficientModuli.count))
        for q in coefficientModuli { writer.u64(q) }
        writer.f64(scale)
        return writer.bytes
    }

    /// Parses and validates serialised parameters (including the security bound).
    public init(serialized bytes: [UInt8]) throws {
        var reader = ByteReader(bytes, what: "parameters")
        let id = try reader.header(.parameters, parametersID: nil)
        let degree = Int(try reader.u32())
        let count = Int(try reader.u8())
        guard (2...64).contains(count) else { throw reader.malformed }
        let moduli = try (0..<count).map { _ in try reader.u64() }
        let scale = try reader.f64()
        try reader.finish()
        let parameters: CKKSParameters
        do {
            parameters = try CKKSParameters(polyDegree: degree, coefficientModuli: moduli, scale: scale)
        } catch let error as HEError where error == .insecureParameters {
            throw error
        } catch {
            throw reader.malformed
        }
        guard parameters.identifier == id else { throw reader.malformed }
        self = parameters
    }
}

extension CKKSContext {
    /// Writes each row packed at its modulus' bit width (the basis itself is not written: readers know it).
    func write(_ poly: EvaluationPoly, to writer: inout ByteWriter) {
        for i in 0..<poly.count {
            let modulus = moduli[modulusIndex(row: i, of: poly)]
            writer.packed(poly.row(i), bits: modulus.bitWidth)
        }
    }

    /// Reads a poly of `rows` rows over `basis` (the kind of object says which), each residue checked < q.
    func readPoly(rows: Int, basis: RNSBasis, from reader: inout ByteReader) throws -> EvaluationPoly {
        var poly = EvaluationPoly(degree: degree, count: rows, basis: basis)
        for i in 0..<rows {
            let modulus = moduli[modulusIndex(row: i, count: rows, basis: basis)]
            try reader.packed(
                count: degree, bits: modulus.bitWidth, bound: modulus.value, into: &poly.data, at: i * degree)
        }
        return poly
    }

    // MARK: secret key

    /// Serialises a secret key: ternary coefficients at two bits each. Store it only encrypted or mode 0600.
    public func serialize(_ key: SecretKey) -> [UInt8] {
        var writer = ByteWriter()
        writer.header(.secretKey, parametersID: parametersID)
        var row = key.storage.withResidues { Array($0[0..<degree]) }
        ntt[0].inverse(&row)
        let codes = row.map { UInt64(moduli[0].centered($0) + 1) }
        writer.packed(codes[...], bits: 2)
        return writer.bytes
    }

    /// Parses a secret key.
    public func deserializeSecretKey(_ bytes: [UInt8]) throws -> SecretKey {
        var reader = ByteReader(bytes, what: "secret key")
        _ = try reader.header(.secretKey, parametersID: parametersID)
        var codes = [UInt64](repeating: 0, count: degree)
        try reader.packed(count: degree, bits: 2, bound: 3, into: &codes, at: 0)
        try reader.finish()
        let coefficients = codes.map { Int64($0) - 1 }
        return SecretKey(poly: nttPoly(small: coefficients, count: moduli.count, basis: .extended))
    }

    // MARK: public key

    /// Serialises a public key (b and the seed of a).
    public func serialize(_ key: PublicKey) -> [UInt8] {
        var writer = ByteWriter()
        writer.header(.publicKey, parametersID: parametersID)
        writer.raw(key.seed)
        write(key.b, to: &writer)
        return writer.bytes
    }

    /// Parses a public key.
    public func deserializePublicKey(_ bytes: [UInt8]) throws -> PublicKey {
        var reader = ByteReader(bytes, what: "public key")
        _ = try reader.header(.publicKey, parametersID: parametersID)
        let seed = Array(try reader.take(32))
        let b = try readPoly(rows: moduli.count, basis: .extended, from: &reader)
        try reader.finish()
        var expander = SeededPRG(seed: seed)
        return PublicKey(b: b, a: sampleUniform(count: moduli.count, basis: .extended, using: &expander), seed: seed)
    }

    // MARK: key-switching keys

    private func write(_ key: KeySwitchKey, to writer: inout ByteWriter) {
        writer.raw(key.seed)
        writer.u8(UInt8(key.b.count))
        for b in key.b { write(b, to: &writer) }
    }

    private func readKeySwitchKey(from reader: inout ByteReader) throws -> KeySwitchKey {
        let seed = Array(try reader.take(32))
        let digits = Int(try reader.u8())
        guard digits == moduli.count - 1 else { throw reader.malformed }
        let b = try (0..<digits).map { _ in try readPoly(rows: moduli.count, basis: .extended, from: &reader) }
        return KeySwitchKey(b: b, a: expandKeySwitchA(seed: seed, digits: digits), seed: seed)
    }

    /// Serialises a relinearisation key (seeded: only the b halves and a seed).
    public func serialize(_ key: RelinearizationKey) -> [UInt8] {
        var writer = ByteWriter()
        writer.header(.relinearizationKey, parametersID: parametersID)
        write(key.key, to: &writer)
        return writer.bytes
    }

    /// Parses a relinearisation key.
    public func deserializeRelinearizationKey(_ bytes: [UInt8]) throws -> RelinearizationKey {
        var reader = ByteReader(bytes, what: "relinearisation key")
        _ = try reader.header(.relinearizationKey, parametersID: parametersID)
        let key = try readKeySwitchKey(from: &reader)
        try reader.finish()
        return RelinearizationKey(key: key)
    }

    /// Serialises Galois keys (seeded).
    public func serialize(_ keys: GaloisKeys) -> [UInt8] {
        var writer = ByteWriter()
        writer.header(.galoisKeys, parametersID: parametersID)
        writer.u16(UInt16(keys.keys.count))
        for element in keys.elements {
            writer.u32(UInt32(element))
            write(keys.keys[element]!, to: &writer)
        }
        return writer.bytes
    }

    /// Parses Galois keys; elements must be odd, below 2N, distinct and ascending.
    public func deserializeGaloisKeys(_ bytes: [UInt8]) throws -> GaloisKeys {
        var reader = ByteReader(bytes, what: "Galois keys")
        _ = try reader.header(.galoisKeys, parametersID: parametersID)
        let count = Int(try reader.u16())
        guard count <= slotCount else { throw reader.malformed }
        var keys: [Int: KeySwitchKey] = [:]
        var previous = 1
        for _ in 0..<count {
            let element = Int(try reader.u32())
            guard element > previous, element < 2 * degree, element & 1 == 1 else { throw reader.malformed }
            previous = element
            keys[element] = try readKeySwitchKey(from: &reader)
        }
        try reader.finish()
        return GaloisKeys(keys: keys)
    }

    // MARK: ciphertexts

    /// Serialises a ciphertext; a fresh symmetric ciphertext is written as (c0, seed), half the size.
    public func serialize(_ ciphertext: CKKSCiphertext) -> [UInt8] {
        var writer = ByteWriter()
        writer.header(.ciphertext, parametersID: parametersID)
        writeBody(ciphertext, to: &writer)
        return writer.bytes
    }

    func writeBody(_ ciphertext: CKKSCiphertext, to writer: inout ByteWriter) {
        writer.u8(UInt8(ciphertext.size))
        writer.u8(UInt8(ciphertext.level))
        writer.f64(ciphertext.scale)
        if let seed = ciphertext.seed, ciphertext.size == 2 {
            writer.u8(1)
            writer.raw(seed)
            write(ciphertext.polys[0], to: &writer)
        } else {
            writer.u8(0)
            for poly in ciphertext.polys { write(poly, to: &writer) }
        }
    }

    /// Parses a ciphertext.
    public func deserializeCiphertext(_ bytes: [UInt8]) throws -> CKKSCiphertext {
        var reader = ByteReader(bytes, what: "ciphertext")
        _ = try reader.header(.ciphertext, parametersID: parametersID)
        let ciphertext = try readBody(from: &reader)
        try reader.finish()
        return ciphertext
    }

    func readBody(from reader: inout ByteReader) throws -> CKKSCiphertext {
        let size = Int(try reader.u8())
        let level = Int(try reader.u8())
        let scale = try reader.f64()
        let seeded = try reader.u8()
        guard (2...3).contains(size), level <= maxLevel, scale.isFinite, scale >= 1, seeded <= 1,
            seeded == 0 || size == 2
        else { throw reader.malformed }
        if seeded == 1 {
            let seed = Array(try reader.take(32))
            let c0 = try readPoly(rows: level + 1, basis: .data, from: &reader)
            return CKKSCiphertext(polys: [c0, expandSeededA(seed: seed, rows: level + 1)], scale: scale, seed: seed)
        }
        let polys = try (0..<size).map { _ in try readPoly(rows: level + 1, basis: .data, from: &reader) }
        return CKKSCiphertext(polys: polys, scale: scale, seed: nil)
    }
}
