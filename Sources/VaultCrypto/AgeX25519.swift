public import Crypto
import Foundation

/// An X25519 age recipient (`age1…`).
public struct AgeX25519Recipient: AgeRecipient, Hashable {
    let publicKey: Data

    /// Parses an `age1…` recipient.
    public init(_ encoded: String) throws {
        guard let (hrp, data) = Bech32.decode(encoded), hrp == "age", data.count == 32,
            encoded.lowercased() == encoded
        else { throw AgeError.invalidKey("invalid X25519 recipient") }
        self.publicKey = Data(data)
    }

    init(publicKey: Data) {
        self.publicKey = publicKey
    }

    /// The Bech32 `age1…` encoding.
    public var encoded: String { Bech32.encode(hrp: "age", data: Array(publicKey)) }

    /// Wraps the file key to this recipient with a fresh ephemeral key.
    public func wrap(_ fileKey: SymmetricKey) throws -> [AgeStanza] {
        let ephemeral = Curve25519.KeyAgreement.PrivateKey()
        let share = ephemeral.publicKey.rawRepresentation
        let shared = try ephemeral.sharedSecretFromKeyAgreement(
            with: Curve25519.KeyAgreement.PublicKey(rawRepresentation: publicKey))
        let key = AgeX25519Identity.wrapKey(shared: shared, share: share, recipient: publicKey)
        let body = try AgeWrap.seal(fileKey, with: key)
        return [AgeStanza(arguments: ["X25519", StrictBase64.encodeString(share)], body: body)]
    }
}

/// An X25519 age identity (`AGE-SECRET-KEY-1…`).
public struct AgeX25519Identity: AgeIdentity {
    let privateKey: Curve25519.KeyAgreement.PrivateKey

    /// A new random identity.
    public static func generate() -> AgeX25519Identity {
        AgeX25519Identity(privateKey: Curve25519.KeyAgreement.PrivateKey())
    }

    init(privateKey: Curve25519.KeyAgreement.PrivateKey) {
        self.privateKey = privateKey
    }

    /// Parses an `AGE-SECRET-KEY-1…` identity.
    public init(_ encoded: String) throws {
        guard let (hrp, data) = Bech32.decode(encoded), hrp == "age-secret-key-", data.count == 32,
            encoded.uppercased() == encoded,
            let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: data)
        else { throw AgeError.invalidKey("invalid X25519 identity") }
        self.privateKey = key
    }

    /// The Bech32 encoding. This is a secret: never log it.
    public var encoded: String { Bech32.encode(hrp: "AGE-SECRET-KEY-", data: Array(privateKey.rawRepresentation)) }

    /// The matching recipient.
    public var recipient: AgeX25519Recipient { AgeX25519Recipient(publicKey: privateKey.publicKey.rawRepresentation) }

    static func wrapKey(shared: SharedSecret, share: Data, recipient: Data) -> SymmetricKey {
        shared.hkdfDerivedSymmetricKey(
            using: SHA256.self, salt: share + recipient, sharedInfo: Data("age-encryption.org/v1/X25519".utf8),
            outputByteCount: 32)
    }

    /// Unwraps the file key from the first `X25519` stanza addressed to this identity.
    public func unwrap(_ stanzas: [AgeStanza]) throws -> SymmetricKey? {
        let ownKey = privateKey.publicKey.rawRepresentation
        for stanza in stanzas where stanza.type == "X25519" {
            guard stanza.arguments.count == 2 else { throw AgeError.header("malformed X25519 stanza") }
            let share = try AgeWrap.argument(stanza.arguments[1], count: 32, "X25519 ephemeral share")
            guard stanza.body.count == 32 else { throw AgeError.header("malformed X25519 stanza body") }
            // swift-crypto refuses an all-zero shared secret (a low-order share), as the spec requires.
            guard let peer = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: share),
                let shared = try? privateKey.sharedSecretFromKeyAgreement(with: peer),
                !shared.withUnsafeBytes({ $0.allSatisfy { $0 == 0 } })
            else { throw AgeError.header("X25519 share is a low-order point") }
            let key = Self.wrapKey(shared: shared, share: share, recipient: ownKey)
            if let fileKey = AgeWrap.open(stanza.body, with: key) { return fileKey }
        }
        return nil
    }
}
