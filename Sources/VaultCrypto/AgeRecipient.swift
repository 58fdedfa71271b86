public import Crypto
import Foundation

/// Something a file key can be wrapped to: produces the header stanzas for one recipient.
public protocol AgeRecipient: Sendable {
    /// Wraps the 16-byte `fileKey` into one or more stanzas.
    func wrap(_ fileKey: SymmetricKey) throws -> [AgeStanza]
}

/// Something that can unwrap a file key from header stanzas.
public protocol AgeIdentity: Sendable {
    /// Returns the file key if a stanza is addressed to this identity, nil if none is, and throws if a stanza of
    /// this identity's type is malformed.
    func unwrap(_ stanzas: [AgeStanza]) throws -> SymmetricKey?
}

/// Wrapping helpers shared by the native recipient types.
enum AgeWrap {
    static let zeroNonce = try! ChaChaPoly.Nonce(data: [UInt8](repeating: 0, count: 12))

    static func seal(_ fileKey: SymmetricKey, with key: SymmetricKey) throws -> Data {
        let box = try fileKey.withUnsafeBytes { try ChaChaPoly.seal($0, using: key, nonce: zeroNonce) }
        return box.ciphertext + box.tag
    }

    /// Opens a 32-byte body; nil when authentication fails (the stanza is for someone else).
    static func open(_ body: Data, with key: SymmetricKey) -> SymmetricKey? {
        guard body.count == 32,
            let box = try? ChaChaPoly.SealedBox(nonce: zeroNonce, ciphertext: body.prefix(16), tag: body.suffix(16)),
            let plain = try? ChaChaPoly.open(box, using: key)
        else { return nil }
        return SymmetricKey(data: plain)
    }

    /// Decodes a canonical unpadded base64 argument of an exact length.
    static func argument(_ text: String, count: Int, _ what: String) throws -> Data {
        guard let bytes = StrictBase64.decodeString(text), bytes.count == count else {
            throw AgeError.header("malformed \(what)")
        }
        return Data(bytes)
    }
}
