import Crypto
public import Foundation

/// SHA-256 of an API token: the only form in which a token is ever stored.
public struct TokenHash: Hashable, Sendable, Codable {
    /// The 32 hash bytes.
    public let bytes: [UInt8]

    /// Wraps 32 hash bytes.
    public init(bytes: [UInt8]) throws {
        guard bytes.count == SHA256.byteCount else { throw AccessControlError.invalidToken }
        self.bytes = bytes
    }

    /// Parses the lowercase hex form written by `hex`.
    public init(hex: String) throws {
        guard hex.utf8.count == 2 * SHA256.byteCount else { throw AccessControlError.invalidToken }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(SHA256.byteCount)
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { throw AccessControlError.invalidToken }
            bytes.append(byte)
            index = next
        }
        try self.init(bytes: bytes)
    }

    /// Lowercase hex, for the catalog.
    public var hex: String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// The public token id: 16 hex characters derived from the hash (not the token), used to list and revoke.
    ///
    /// Domain-separated so that the id reveals nothing about the stored hash beyond what it names.
    public var id: String {
        var hasher = SHA256()
        hasher.update(data: Array("modelvault token id\n".utf8))
        hasher.update(data: bytes)
        return hasher.finalize().prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// Constant-time equality, so a lookup does not leak how many leading bytes matched.
    public func constantTimeEquals(_ other: TokenHash) -> Bool {
        guard bytes.count == other.bytes.count else { return false }
        var difference: UInt8 = 0
        for index in bytes.indices { difference |= bytes[index] ^ other.bytes[index] }
        return difference == 0
    }

    /// Encodes as hex.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }

    /// Decodes the hex form.
    public init(from decoder: any Decoder) throws {
        try self.init(hex: try decoder.singleValueContainer().decode(String.self))
    }
}

/// API tokens: `mvt_` + base64url of 256 random bits. Shown once at creation, stored only as `TokenHash`.
public enum APIToken {
    /// The prefix that makes a ModelVault token recognisable (to secret scanners, and to people).
    public static let prefix = "mvt_"
    /// Random bytes in a token.
    public static let randomByteCount = 32

    /// A fresh token and its hash. Randomness comes from swift-crypto's `SymmetricKey` (the system CSPRNG).
    /// Show `token` to the user once; store only `hash`.
    public static func generate() -> (token: String, hash: TokenHash) {
        let key = SymmetricKey(size: .bits256)
        let token = key.withUnsafeBytes { prefix + base64URL(Data($0)) }
        return (token, hash(token))
    }

    /// The stored form of a token: SHA-256 of its UTF-8 text.
    public static func hash(_ token: String) -> TokenHash {
        try! TokenHash(bytes: Array(SHA256.hash(data: Array(token.utf8))))
    }

    /// Whether `text` has the shape of a token (prefix, length, alphabet). Checked before hashing.
    public static func isWellFormed(_ text: String) -> Bool {
        guard text.hasPrefix(prefix) else { return false }
        let body = text.utf8.dropFirst(prefix.utf8.count)
        return body.count == 43
            && body.allSatisfy { byte in
                (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                    || byte == 0x2D || byte == 0x5F
            }
    }

    /// Finds the stored record for a presented token and checks it is usable now.
    ///
    /// Looks up by the public id (an index lookup in a catalog), then compares full hashes in constant time.
    /// - Throws: `invalidToken` (malformed or unknown), `revokedToken` or `expiredToken`.
    public static func authenticate(
        _ token: String, among records: some Sequence<TokenRecord>, now: Date = Date()
    )
        throws -> TokenRecord
    {
        guard isWellFormed(token) else { throw AccessControlError.invalidToken }
        let presented = hash(token)
        let id = presented.id
        guard let record = records.first(where: { $0.id == id && $0.hash.constantTimeEquals(presented) }) else {
            throw AccessControlError.invalidToken
        }
        try record.checkUsable(at: now)
        return record
    }

    private static func base64URL(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// A stored token: who it belongs to, its hash, and its life cycle. Never contains the token.
public struct TokenRecord: Hashable, Sendable, Codable {
    /// Public id derived from the hash (`TokenHash.id`).
    public var id: String { hash.id }
    /// The principal the token authenticates.
    public var principal: String
    /// SHA-256 of the token.
    public var hash: TokenHash
    /// When it was created.
    public var createdAt: Date
    /// When it stops working; `nil` for no expiry (flagged by compliance reports).
    public var expiresAt: Date?
    /// When it was revoked, if it was.
    public var revokedAt: Date?

    /// Creates a record.
    public init(
        principal: String, hash: TokenHash, createdAt: Date = Date(), expiresAt: Date? = nil,
        revokedAt: Date? = nil
    ) {
        self.principal = principal
        self.hash = hash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }

    /// Whether the presented token's hash is this record's, compared in constant time.
    public func matches(_ presented: TokenHash) -> Bool { hash.constantTimeEquals(presented) }

    /// Throws `revokedToken` or `expiredToken` if the token may not be used at `now`.
    public func checkUsable(at now: Date = Date()) throws {
        if let revokedAt, revokedAt <= now { throw AccessControlError.revokedToken }
        if let expiresAt, expiresAt <= now { throw AccessControlError.expiredToken }
    }
}
