/// The SHA-256 and length of a plaintext, computed as it streams through encryption or decryption, so a file
/// is read once to be both hashed and encrypted (or decrypted and checked).
public struct AgePlaintextDigest: Sendable, Hashable {
    /// The SHA-256 of the plaintext.
    public var sha256: [UInt8]
    /// The plaintext's length in bytes.
    public var count: Int

    /// A digest from its parts.
    public init(sha256: [UInt8], count: Int) {
        self.sha256 = sha256
        self.count = count
    }
}
