public import Crypto
import Foundation

/// Signs notes with Ed25519 per C2SP signed-note: `— <name> base64(keyID || signature)`.
public struct NoteSigner: Sendable {
    /// The key name in signature lines (for checkpoints, the log origin).
    public let name: String
    private let key: Curve25519.Signing.PrivateKey
    /// The key that seals each record a writer appends (HKDF-SHA256 of the signing key): only a holder of the audit
    /// key can write a record that recovery adopts after a writer that did not close. Derived once: every batch and
    /// every catch-up uses it.
    let recordSealKey: SymmetricKey

    /// Creates a signer; `name` must be non-empty with no spaces or `+`.
    public init(name: String, key: Curve25519.Signing.PrivateKey) throws {
        guard NoteVerifier.isValidKeyName(name) else { throw AuditLogError.invalidOrigin }
        self.name = name
        self.key = key
        recordSealKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: key.rawRepresentation),
            info: Data("modelvault audit record seal v1".utf8), outputByteCount: 32)
    }

    /// The matching verifier.
    public var verifier: NoteVerifier { try! NoteVerifier(name: name, publicKey: key.publicKey) }

    /// The signed note: `text` (which must end in a newline), a blank line, one signature line.
    public func sign(_ text: String) throws -> String {
        guard text.hasSuffix("\n") else { throw AuditLogError.corruptCheckpoint }
        let signature = try key.signature(for: Data(text.utf8))
        var blob = NoteVerifier.keyIDBytes(verifier.keyID)
        blob.append(contentsOf: signature)
        return text + "\n" + "\u{2014} \(name) " + Data(blob).base64EncodedString() + "\n"
    }
}

/// Verifies Ed25519 signed notes from one known key.
public struct NoteVerifier: Sendable, Equatable {
    /// The key name.
    public let name: String
    /// The Ed25519 public key.
    public let publicKey: Curve25519.Signing.PublicKey
    /// SHA-256(name || 0x0A || 0x01 || public key)[:4], big-endian.
    public let keyID: UInt32

    /// Creates a verifier for a name and key.
    public init(name: String, publicKey: Curve25519.Signing.PublicKey) throws {
        guard Self.isValidKeyName(name) else { throw AuditLogError.invalidOrigin }
        self.name = name
        self.publicKey = publicKey
        var input = Array(name.utf8)
        input.append(0x0A)
        input.append(0x01)
        input.append(contentsOf: publicKey.rawRepresentation)
        let digest = Array(SHA256.hash(data: input))
        keyID = digest[0..<4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Parses a verifier key `<name>+<hex key ID>+base64(0x01 || public key)`.
    public init(vkey: String) throws {
        // Only the first two `+` separate fields: the base64 key may itself contain `+`.
        let parts = vkey.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let id = UInt32(parts[1], radix: 16), parts[1].count == 8,
            let blob = Data(base64Encoded: String(parts[2])), blob.count == 33, blob.first == 0x01,
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: blob.dropFirst())
        else { throw AuditLogError.unknownKey }
        try self.init(name: String(parts[0]), publicKey: key)
        guard keyID == id else { throw AuditLogError.unknownKey }
    }

    /// The verifier key string, `<name>+<hex key ID>+base64(0x01 || public key)`.
    public var vkey: String {
        let blob = Data([0x01] + publicKey.rawRepresentation)
        return "\(name)+\(String(format: "%08x", keyID))+\(blob.base64EncodedString())"
    }

    /// SHA-256 of the verifier key string, in hex: what a user pins to check a key read from somewhere an attacker
    /// may write (a vault's `audit/verifier.vkey`).
    public var fingerprint: String {
        SHA256.hash(data: Data(vkey.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Checks a signed note and returns its text (including the final newline).
    ///
    /// Signatures from other keys are ignored; a signature from this key that fails rejects the note;
    /// at least one signature from this key must verify.
    public func verify(_ note: String) throws -> String {
        guard note.hasSuffix("\n"), !note.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" }),
            let split = note.range(of: "\n\n", options: .backwards)
        else { throw AuditLogError.corruptCheckpoint }
        let text = String(note[..<split.lowerBound]) + "\n"
        let signatureLines = note[split.upperBound...].dropLast().split(
            separator: "\n", omittingEmptySubsequences: false)
        guard !signatureLines.isEmpty else { throw AuditLogError.corruptCheckpoint }
        var verified = false
        for line in signatureLines {
            guard line.hasPrefix("\u{2014} ") else { throw AuditLogError.corruptCheckpoint }
            let fields = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 2, let blob = Data(base64Encoded: String(fields[1])), blob.count >= 4 else {
                throw AuditLogError.corruptCheckpoint
            }
            let id = blob.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard fields[0] == name, id == keyID else { continue }
            guard blob.count == 68, publicKey.isValidSignature(blob.dropFirst(4), for: Data(text.utf8)) else {
                throw AuditLogError.badSignature
            }
            verified = true
        }
        guard verified else { throw AuditLogError.unknownKey }
        return text
    }

    /// Key names are non-empty and contain no Unicode spaces or `+`.
    static func isValidKeyName(_ name: String) -> Bool {
        !name.isEmpty && !name.contains { $0.isWhitespace || $0 == "+" }
            && !name.unicodeScalars.contains { $0.value < 0x20 }
    }

    /// Verifiers are equal when name, key and key ID are.
    public static func == (lhs: NoteVerifier, rhs: NoteVerifier) -> Bool {
        lhs.name == rhs.name && lhs.keyID == rhs.keyID
            && lhs.publicKey.rawRepresentation == rhs.publicKey.rawRepresentation
    }

    static func keyIDBytes(_ id: UInt32) -> [UInt8] {
        [UInt8(id >> 24), UInt8(id >> 16 & 0xFF), UInt8(id >> 8 & 0xFF), UInt8(id & 0xFF)]
    }
}
