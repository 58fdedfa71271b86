import Crypto
public import Foundation
import _CryptoExtras

/// A Fernet key: 16 bytes of HMAC-SHA256 signing key followed by 16 bytes of AES-128 encryption key.
///
/// Only for importing legacy models; new data is stored as age files.
public struct FernetKey: Sendable {
    let signingKey: SymmetricKey
    let encryptionKey: SymmetricKey

    /// Reads the URL-safe base64 form written by Python's `Fernet.generate_key()` (surrounding whitespace ok).
    ///
    /// - Throws: `FernetError` if the text is not base64 of exactly 32 bytes.
    public init(base64URL: String) throws {
        guard let bytes = Fernet.decodeBase64URL(base64URL.trimmingCharacters(in: .whitespacesAndNewlines)),
            bytes.count == 32
        else { throw FernetError(.invalidKey) }
        self.init(bytes: bytes)
    }

    /// Wraps 32 raw key bytes.
    public init(bytes: some DataProtocol) {
        let raw = Array(bytes)
        precondition(raw.count == 32, "a Fernet key is 32 bytes")
        signingKey = SymmetricKey(data: raw[0..<16])
        encryptionKey = SymmetricKey(data: raw[16..<32])
    }
}

/// An error reading a Fernet key or token. The description never includes the key, token or plaintext.
public struct FernetError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Why the key or token was refused.
    public enum Kind: Sendable, Equatable {
        /// The key is not URL-safe base64 of 32 bytes.
        case invalidKey
        /// The token is not URL-safe base64, too short, or not version 0x80.
        case malformedToken
        /// The HMAC does not match: the token was altered or the key is wrong.
        case authenticationFailed
        /// The token is older than the allowed time to live.
        case expired
        /// The token's timestamp is too far in the future.
        case futureTimestamp
        /// The ciphertext does not decrypt to correctly padded data.
        case decryptionFailed
    }

    /// The category of failure.
    public let kind: Kind

    init(_ kind: Kind) { self.kind = kind }

    public var description: String {
        switch kind {
        case .invalidKey: "the Fernet key is not URL-safe base64 of 32 bytes"
        case .malformedToken: "the Fernet token is malformed"
        case .authenticationFailed: "the Fernet token failed authentication (altered, or the wrong key)"
        case .expired: "the Fernet token has expired"
        case .futureTimestamp: "the Fernet token's timestamp is too far in the future"
        case .decryptionFailed: "the Fernet token does not decrypt to valid padded data"
        }
    }
}

/// Fernet tokens (version 0x80: AES-128-CBC with PKCS#7 padding, then HMAC-SHA256), as Python's
/// `cryptography.fernet` writes them. See https://github.com/fernet/spec/blob/master/Spec.md.
public enum Fernet {
    static let version: UInt8 = 0x80
    /// Tokens stamped up to this far ahead of the verifier's clock are accepted, as in the reference.
    static let maxClockSkew: TimeInterval = 60
    /// version (1) + timestamp (8) + IV (16) + HMAC (32); the ciphertext length is checked after the HMAC.
    static let minimumLength = 1 + 8 + 16 + 32

    /// Verifies and decrypts a token.
    ///
    /// - Parameters:
    ///   - ttl: if given, tokens older than this many seconds (or stamped more than 60 s ahead) are refused.
    ///   - now: the verifier's clock, for the TTL check.
    /// - Throws: `FernetError`.
    public static func decrypt(
        token: String, key: FernetKey, ttl: TimeInterval? = nil, now: Date = Date()
    ) throws
        -> Data
    {
        guard let bytes = decodeBase64URL(token.trimmingCharacters(in: .whitespacesAndNewlines)),
            bytes.count >= minimumLength, bytes[0] == version
        else { throw FernetError(.malformedToken) }
        let timestamp = bytes[1..<9].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        if let ttl {
            let current = now.timeIntervalSince1970.rounded(.down)
            if Double(timestamp) + ttl < current { throw FernetError(.expired) }
            if current + maxClockSkew < Double(timestamp) { throw FernetError(.futureTimestamp) }
        }
        let signed = bytes[0..<(bytes.count - 32)]
        let tag = bytes[(bytes.count - 32)...]
        // HMAC.isValidAuthenticationCode compares in constant time.
        guard HMAC<SHA256>.isValidAuthenticationCode(tag, authenticating: signed, using: key.signingKey) else {
            throw FernetError(.authenticationFailed)
        }
        let ciphertext = bytes[25..<(bytes.count - 32)]
        guard !ciphertext.isEmpty, ciphertext.count % 16 == 0, let iv = try? AES._CBC.IV(ivBytes: bytes[9..<25]),
            let plaintext = try? AES._CBC.decrypt(ciphertext, using: key.encryptionKey, iv: iv)
        else { throw FernetError(.decryptionFailed) }
        return plaintext
    }

    /// Encrypts `plaintext` into a token. Fernet is import-only in ModelVault; this exists for tests and
    /// tooling, with an injectable IV and clock so the spec's generate vectors can be reproduced.
    public static func encrypt(
        _ plaintext: some DataProtocol, key: FernetKey, iv: [UInt8]? = nil, now: Date = Date()
    ) throws -> String {
        let ivBytes = iv ?? Array(AES._CBC.IV())
        guard ivBytes.count == 16 else { throw FernetError(.malformedToken) }
        let timestamp = UInt64(max(0, now.timeIntervalSince1970.rounded(.down)))
        var token = [version]
        token += (0..<8).reversed().map { UInt8(truncatingIfNeeded: timestamp >> (8 * UInt64($0))) }
        token += ivBytes
        token += try AES._CBC.encrypt(plaintext, using: key.encryptionKey, iv: AES._CBC.IV(ivBytes: ivBytes))
        token += HMAC<SHA256>.authenticationCode(for: token, using: key.signingKey)
        return encodeBase64URL(token)
    }

    /// URL-safe base64 with padding, as the reference writes it.
    static func encodeBase64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
    }

    /// URL-safe base64; padding optional. Nil on any character outside the URL-safe alphabet.
    static func decodeBase64URL(_ text: String) -> [UInt8]? {
        guard !text.contains("+"), !text.contains("/") else { return nil }
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        if standard.count % 4 != 0 { standard += String(repeating: "=", count: 4 - standard.count % 4) }
        return Data(base64Encoded: standard).map(Array.init)
    }
}
