public import Crypto
import Foundation

/// A 32-byte SHA-256 value in the Merkle tree (a leaf hash, an interior node or a root).
///
/// Stored inline (no heap allocation) because the verifier handles millions of them.
public struct TreeHash: Hashable, Sendable, CustomStringConvertible {
    /// The hash bytes, in order.
    public var storage: SIMD32<UInt8>

    /// Wraps 32 bytes; `nil` for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        var storage = SIMD32<UInt8>()
        for (index, byte) in bytes.enumerated() { storage[index] = byte }
        self.storage = storage
    }

    /// Converts a swift-crypto digest.
    public init(_ digest: SHA256.Digest) {
        var storage = SIMD32<UInt8>()
        withUnsafeMutableBytes(of: &storage) { target in
            digest.withUnsafeBytes { target.copyMemory(from: $0) }
        }
        self.storage = storage
    }

    /// Parses 64 lowercase or uppercase hex digits.
    public init?(hex: some StringProtocol) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        guard let parsed = Self.parseHex(utf8[...]) else { return nil }
        self = parsed
    }

    /// Parses 64 hex digits from raw bytes (the record prefix), without building a String.
    static func parseHex(_ digits: some Collection<UInt8>) -> TreeHash? {
        guard digits.count == 64 else { return nil }
        var storage = SIMD32<UInt8>()
        var high: UInt8 = 0
        for (position, digit) in digits.enumerated() {
            let value: UInt8
            switch digit {
            case 0x30...0x39: value = digit &- 0x30
            case 0x61...0x66: value = digit &- 0x61 &+ 10
            case 0x41...0x46: value = digit &- 0x41 &+ 10
            default: return nil
            }
            if position & 1 == 0 {
                high = value
            } else {
                storage[position >> 1] = high << 4 | value
            }
        }
        return TreeHash(storage: storage)
    }

    private init(storage: SIMD32<UInt8>) { self.storage = storage }

    /// The 32 bytes.
    public var bytes: [UInt8] { withUnsafeBytes(of: storage) { Array($0) } }

    /// Lowercase hex.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for index in 0..<32 {
            out.append(digits[Int(storage[index] >> 4)])
            out.append(digits[Int(storage[index] & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Standard base64, as in checkpoints and proofs.
    public var base64: String { Data(bytes).base64EncodedString() }

    /// Parses standard base64 of 32 bytes.
    public init?(base64: String) {
        guard let data = Data(base64Encoded: base64) else { return nil }
        self.init(bytes: data)
    }

    /// Hex form.
    public var description: String { hex }
}
