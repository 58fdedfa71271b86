public import Crypto
public import Foundation

/// An ECDSA private key that signs models, on one of the curves the reference tool supports.
///
/// The hash follows the curve, as in `model_signing`: SHA-256 for P-256, SHA-384 for P-384, SHA-512 for P-521.
public enum SigningKey: Sendable {
    /// A NIST P-256 key (signs with SHA-256).
    case p256(P256.Signing.PrivateKey)
    /// A NIST P-384 key (signs with SHA-384).
    case p384(P384.Signing.PrivateKey)
    /// A NIST P-521 key (signs with SHA-512).
    case p521(P521.Signing.PrivateKey)

    /// Reads an unencrypted PEM private key: PKCS#8 (`PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`).
    ///
    /// - Throws: `ModelSigningError` (`.unsupportedKey`) for any other key or text.
    public init(pem: String) throws {
        if let key = try? P256.Signing.PrivateKey(pemRepresentation: pem) {
            self = .p256(key)
        } else if let key = try? P384.Signing.PrivateKey(pemRepresentation: pem) {
            self = .p384(key)
        } else if let key = try? P521.Signing.PrivateKey(pemRepresentation: pem) {
            self = .p521(key)
        } else {
            throw ModelSigningError(.unsupportedKey)
        }
    }

    /// The matching public key.
    public var verifyingKey: VerifyingKey {
        switch self {
        case .p256(let key): .p256(key.publicKey)
        case .p384(let key): .p384(key.publicKey)
        case .p521(let key): .p521(key.publicKey)
        }
    }

    /// The private key as PKCS#8 PEM (a secret: never log it).
    public var pemRepresentation: String {
        switch self {
        case .p256(let key): key.pemRepresentation
        case .p384(let key): key.pemRepresentation
        case .p521(let key): key.pemRepresentation
        }
    }

    /// Signs `message` (hashing it with the curve's hash) and returns the DER-encoded signature.
    func derSignature(for message: Data) throws -> Data {
        switch self {
        case .p256(let key): try key.signature(for: message).derRepresentation
        case .p384(let key): try key.signature(for: message).derRepresentation
        case .p521(let key): try key.signature(for: message).derRepresentation
        }
    }
}

/// An ECDSA public key that verifies model signatures.
public enum VerifyingKey: Sendable {
    /// A NIST P-256 key.
    case p256(P256.Signing.PublicKey)
    /// A NIST P-384 key.
    case p384(P384.Signing.PublicKey)
    /// A NIST P-521 key.
    case p521(P521.Signing.PublicKey)

    /// Reads a PEM SubjectPublicKeyInfo (`PUBLIC KEY`) ECDSA key.
    ///
    /// - Throws: `ModelSigningError` (`.unsupportedKey`) for any other key or text.
    public init(pem: String) throws {
        if let key = try? P256.Signing.PublicKey(pemRepresentation: pem) {
            self = .p256(key)
        } else if let key = try? P384.Signing.PublicKey(pemRepresentation: pem) {
            self = .p384(key)
        } else if let key = try? P521.Signing.PublicKey(pemRepresentation: pem) {
            self = .p521(key)
        } else {
            throw ModelSigningError(.unsupportedKey)
        }
    }

    /// The DER SubjectPublicKeyInfo encoding.
    public var derRepresentation: Data {
        switch self {
        case .p256(let key): key.derRepresentation
        case .p384(let key): key.derRepresentation
        case .p521(let key): key.derRepresentation
        }
    }

    /// The SPKI PEM exactly as OpenSSL and Python `cryptography` write it: 64-column base64, final newline.
    public var pemRepresentation: String {
        let base64 = Array(derRepresentation.base64EncodedString())
        let lines = stride(from: 0, to: base64.count, by: 64).map {
            String(base64[$0..<min($0 + 64, base64.count)])
        }
        return "-----BEGIN PUBLIC KEY-----\n" + lines.joined(separator: "\n") + "\n-----END PUBLIC KEY-----\n"
    }

    /// The key hint the reference puts in the bundle: the hex SHA-256 of the SPKI PEM text.
    public var hint: String {
        SHA256.hash(data: Data(pemRepresentation.utf8)).hexString
    }

    /// Whether `der` is a valid signature of `message` under this key (hashing with the curve's hash).
    func isValid(derSignature der: Data, for message: Data) -> Bool {
        switch self {
        case .p256(let key):
            guard let signature = try? P256.Signing.ECDSASignature(derRepresentation: der) else { return false }
            return key.isValidSignature(signature, for: message)
        case .p384(let key):
            guard let signature = try? P384.Signing.ECDSASignature(derRepresentation: der) else { return false }
            return key.isValidSignature(signature, for: message)
        case .p521(let key):
            guard let signature = try? P521.Signing.ECDSASignature(derRepresentation: der) else { return false }
            return key.isValidSignature(signature, for: message)
        }
    }
}
