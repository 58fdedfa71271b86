public import Crypto
public import Foundation

/// Verifies Ed25519 cosignatures per C2SP tlog-cosignature (`cosignature/v1`): a note signature line
/// `— <name> base64(key ID || u64 timestamp || Ed25519 signature)` over `cosignature/v1\ntime <t>\n` followed by the
/// checkpoint body.
public struct CosignatureVerifier: Sendable, Equatable {
    /// The cosigner (witness) name.
    public let name: String
    /// The Ed25519 public key.
    public let publicKey: Curve25519.Signing.PublicKey
    /// SHA-256(name || 0x0A || 0x04 || public key)[:4], big-endian.
    public let keyID: UInt32

    /// Creates a verifier for a cosigner name and key.
    public init(name: String, publicKey: Curve25519.Signing.PublicKey) throws {
        guard NoteVerifier.isValidKeyName(name) else { throw AuditLogError.invalidOrigin }
        self.name = name
        self.publicKey = publicKey
        var input = Array(name.utf8)
        input.append(0x0A)
        input.append(0x04)
        input.append(contentsOf: publicKey.rawRepresentation)
        keyID = Array(SHA256.hash(data: input))[0..<4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Parses a verifier key `<name>+<hex key ID>+base64(0x04 || public key)` (signed-note vkey, type 0x04).
    public init(vkey: String) throws {
        let parts = vkey.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].count == 8, let id = UInt32(parts[1], radix: 16),
            let blob = Data(base64Encoded: String(parts[2])), blob.count == 33, blob.first == 0x04,
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: blob.dropFirst())
        else { throw AuditLogError.unknownKey }
        try self.init(name: String(parts[0]), publicKey: key)
        guard keyID == id else { throw AuditLogError.unknownKey }
    }

    /// Verifiers are equal when name, key and key ID are.
    public static func == (lhs: CosignatureVerifier, rhs: CosignatureVerifier) -> Bool {
        lhs.name == rhs.name && lhs.keyID == rhs.keyID
            && lhs.publicKey.rawRepresentation == rhs.publicKey.rawRepresentation
    }

    /// The verifier key string.
    public var vkey: String {
        "\(name)+\(String(format: "%08x", keyID))+\(Data([0x04] + publicKey.rawRepresentation).base64EncodedString())"
    }

    /// SHA-256 of the verifier key string, in hex: what an operator compares out of band when pinning a witness.
    public var fingerprint: String {
        SHA256.hash(data: Data(vkey.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The message a `cosignature/v1` signs: header line, timestamp line, then the checkpoint body.
    public static func message(body: String, timestamp: UInt64) -> Data {
        Data("cosignature/v1\ntime \(timestamp)\n\(body)".utf8)
    }

    /// Checks the cosignature from this key on a cosigned checkpoint note and returns its timestamp. Signature lines
    /// from other keys are ignored; one from this key that fails rejects the note.
    public func verify(_ note: String) throws -> UInt64 {
        guard note.hasSuffix("\n"), let split = note.range(of: "\n\n") else { throw AuditLogError.corruptCheckpoint }
        let body = String(note[..<split.lowerBound]) + "\n"
        var newest: UInt64?
        for line in note[split.upperBound...].dropLast().split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix("\u{2014} ") else { throw AuditLogError.corruptCheckpoint }
            let fields = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 2, let blob = Data(base64Encoded: String(fields[1])), blob.count >= 4 else {
                throw AuditLogError.corruptCheckpoint
            }
            let bytes = Array(blob)
            let id = bytes[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard fields[0] == name, id == keyID else { continue }
            guard bytes.count == 76 else { throw AuditLogError.badSignature }
            let timestamp = bytes[4..<12].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard timestamp <= UInt64(Int64.max),
                publicKey.isValidSignature(
                    Data(bytes[12...]), for: Self.message(body: body, timestamp: timestamp))
            else { throw AuditLogError.badSignature }
            newest = max(newest ?? 0, timestamp)
        }
        guard let newest else { throw AuditLogError.unknownKey }
        return newest
    }
}

/// Makes Ed25519 `cosignature/v1` signature lines (the witness side).
public struct CosignatureSigner: Sendable {
    /// The matching verifier.
    public let verifier: CosignatureVerifier
    private let key: Curve25519.Signing.PrivateKey

    /// Creates a cosigner; `name` must be a valid note key name.
    public init(name: String, key: Curve25519.Signing.PrivateKey) throws {
        verifier = try CosignatureVerifier(name: name, publicKey: key.publicKey)
        self.key = key
    }

    /// One signature line (ending in a newline) cosigning the checkpoint `body` at `timestamp` (POSIX seconds).
    public func cosign(body: String, at timestamp: UInt64) throws -> String {
        guard body.hasSuffix("\n"), timestamp <= UInt64(Int64.max) else { throw AuditLogError.corruptCheckpoint }
        let signature = try key.signature(for: CosignatureVerifier.message(body: body, timestamp: timestamp))
        var blob = NoteVerifier.keyIDBytes(verifier.keyID)
        blob += (0..<8).map { UInt8(truncatingIfNeeded: timestamp >> (56 - 8 * $0)) }
        blob += signature
        return "\u{2014} \(verifier.name) \(Data(blob).base64EncodedString())\n"
    }
}
