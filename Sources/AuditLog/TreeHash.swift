public import Crypto
import Foundation

/// A 32-byte SHA-256 value in the Merkle tree (a leaf hash, an interior node or a root).
///
/// Stored inline (no heap allocation) because the verifier handles millions of them. The bytes are kept as four
/// machine words, not as `SIMD32<UInt8>`: Swift 6.3.1's optimiser miscompiles async functions that keep a 32-byte
/// vector alive across an `await` (the coroutine frame lays the vector out at LLVM's 32-byte alignment while the
/// async context is only 16-aligned, so the code writes up to 16 bytes past the context it allocated: heap
/// corruption in the release build). No vector type, no over-aligned frame field. See
/// `TreeHashLayoutTests` and ARCHITECTURE.md ("Tests and CI").
public struct TreeHash: Hashable, Sendable, CustomStringConvertible {
    /// The 32 bytes in memory order (a homogeneous tuple is laid out contiguously).
    typealias Words = (UInt64, UInt64, UInt64, UInt64)

    /// The hash bytes, in order, as four words.
    var words: Words = (0, 0, 0, 0)

    /// Wraps 32 bytes; `nil` for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        withUnsafeMutableBytes(of: &words) { target in
            for (index, byte) in bytes.enumerated() { target[index] = byte }
        }
    }

    /// Converts a swift-crypto digest.
    public init(_ digest: SHA256.Digest) {
        withUnsafeMutableBytes(of: &words) { target in
            digest.withUnsafeBytes { target.copyMemory(from: $0) }
        }
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
        var hash = TreeHash()
        let valid = withUnsafeMutableBytes(of: &hash.words) { target -> Bool in
            var high: UInt8 = 0
            for (position, digit) in digits.enumerated() {
                let value: UInt8
                switch digit {
                case 0x30...0x39: value = digit &- 0x30
                case 0x61...0x66: value = digit &- 0x61 &+ 10
                case 0x41...0x46: value = digit &- 0x41 &+ 10
                default: return false
                }
                if position & 1 == 0 {
                    high = value
                } else {
                    target[position >> 1] = high << 4 | value
                }
            }
            return true
        }
        return valid ? hash : nil
    }

    /// All zero bytes (only as a starting value to fill in).
    private init() {}

    /// Calls `body` with the 32 bytes.
    func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try withUnsafeBytes(of: words, body)
    }

    public static func == (lhs: TreeHash, rhs: TreeHash) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2
            && lhs.words.3 == rhs.words.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }

    /// The 32 bytes.
    public var bytes: [UInt8] { withBytes { Array($0) } }

    /// Lowercase hex.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        withBytes { bytes in
            for byte in bytes {
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 0x0F)])
            }
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
