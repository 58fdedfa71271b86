public import Crypto
import Foundation

/// The post-quantum hybrid recipient `mlkem768x25519` (`age1pq1…`): HPKE with the X-Wing KEM.
public struct AgeHybridRecipient: AgeRecipient {
    static let info = Data("age-encryption.org/mlkem768x25519".utf8)
    static let suite = HPKE.Ciphersuite(kem: .XWingMLKEM768X25519, kdf: .HKDF_SHA256, aead: .chaChaPoly)
    let publicKey: XWingMLKEM768X25519.PublicKey

    /// Parses an `age1pq1…` recipient.
    public init(_ encoded: String) throws {
        guard let (hrp, data) = Bech32.decode(encoded), hrp == "age1pq", data.count == 1216,
            encoded.lowercased() == encoded,
            let key = try? XWingMLKEM768X25519.PublicKey(rawRepresentation: data)
        else { throw AgeError.invalidKey("invalid post-quantum recipient") }
        self.publicKey = key
    }

    init(publicKey: XWingMLKEM768X25519.PublicKey) {
        self.publicKey = publicKey
    }

    /// The Bech32 `age1pq1…` encoding.
    public var encoded: String { Bech32.encode(hrp: "age1pq", data: Array(publicKey.rawRepresentation)) }

    /// Wraps the file key with HPKE SealBase.
    public func wrap(_ fileKey: SymmetricKey) throws -> [AgeStanza] {
        var sender = try HPKE.Sender(recipientKey: publicKey, ciphersuite: Self.suite, info: Self.info)
        let body = try fileKey.withUnsafeBytes { try sender.seal(Data($0)) }
        return [
            AgeStanza(
                arguments: ["mlkem768x25519", StrictBase64.encodeString(sender.encapsulatedKey)], body: body)
        ]
    }
}

/// The post-quantum hybrid identity (`AGE-SECRET-KEY-PQ-1…`), a 32-byte X-Wing seed.
public struct AgeHybridIdentity: AgeIdentity {
    let seed: Data
    let privateKey: XWingMLKEM768X25519.PrivateKey

    /// A new random identity.
    public static func generate() -> AgeHybridIdentity {
        let seed = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        // A 32-byte seed is always a valid X-Wing private key.
        return try! AgeHybridIdentity(seed: seed)
    }

    init(seed: Data) throws {
        self.seed = seed
        self.privateKey = try XWingMLKEM768X25519.PrivateKey(seedRepresentation: seed, publicKey: nil)
    }

    /// Parses an `AGE-SECRET-KEY-PQ-1…` identity.
    public init(_ encoded: String) throws {
        guard let (hrp, data) = Bech32.decode(encoded), hrp == "age-secret-key-pq-", data.count == 32,
            encoded.uppercased() == encoded
        else { throw AgeError.invalidKey("invalid post-quantum identity") }
        do { try self.init(seed: Data(data)) } catch { throw AgeError.invalidKey("invalid post-quantum identity") }
    }

    /// The Bech32 encoding. This is a secret: never log it.
    public var encoded: String { Bech32.encode(hrp: "AGE-SECRET-KEY-PQ-", data: Array(seed)) }

    /// The matching recipient.
    public var recipient: AgeHybridRecipient { AgeHybridRecipient(publicKey: privateKey.publicKey) }

    /// Unwraps the file key from the first `mlkem768x25519` stanza addressed to this identity.
    public func unwrap(_ stanzas: [AgeStanza]) throws -> SymmetricKey? {
        for stanza in stanzas where stanza.type == "mlkem768x25519" {
            guard stanza.arguments.count == 2 else { throw AgeError.header("malformed mlkem768x25519 stanza") }
            let enc = try AgeWrap.argument(stanza.arguments[1], count: 1120, "mlkem768x25519 encapsulated key")
            guard stanza.body.count == 32 else { throw AgeError.header("malformed mlkem768x25519 stanza body") }
            // The last 32 bytes are the X25519 share; a low-order share gives an all-zero secret, which the
            // spec's X25519 refuses. A random scalar detects it without the identity's own X25519 key.
            guard let peer = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: enc.suffix(32)),
                let probe = try? Curve25519.KeyAgreement.PrivateKey().sharedSecretFromKeyAgreement(with: peer),
                !probe.withUnsafeBytes({ $0.allSatisfy { $0 == 0 } })
            else { throw AgeError.header("mlkem768x25519 share is a low-order point") }
            guard
                var recipient = try? HPKE.Recipient(
                    privateKey: privateKey, ciphersuite: AgeHybridRecipient.suite, info: AgeHybridRecipient.info,
                    encapsulatedKey: enc),
                let plain = try? recipient.open(stanza.body)
            else { continue }
            return SymmetricKey(data: plain)
        }
        return nil
    }
}
