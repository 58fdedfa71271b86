/// A failure of an age operation.
///
/// The description is a fixed, one-line text naming what failed; it never contains key material, plaintext or
/// passphrases.
public struct AgeError: Error, CustomStringConvertible, Sendable, Hashable {
    /// The stage of processing that failed, matching the failure classes of the age test vectors.
    public enum Kind: Sendable, Hashable {
        /// The ASCII armor is malformed.
        case armor
        /// The header does not parse, or a stanza addressed to an identity is malformed.
        case header
        /// None of the identities could unwrap the file key.
        case noIdentityMatched
        /// The header MAC does not match the unwrapped file key.
        case headerMAC
        /// The encrypted payload is truncated, modified or followed by trailing data.
        case payload
        /// A key, recipient or identity string is invalid.
        case invalidKey
        /// The requested operation is not allowed (for example mixing recipient types).
        case invalidRequest
        /// Reading a file failed.
        case io
        /// Writing the output failed (a full disk, a name the file system refuses, an I/O error): the input may be
        /// sound, so this is never reported as damage.
        case output
    }

    /// The stage that failed.
    public let kind: Kind
    /// A one-line, secret-free description of the failure.
    public let description: String

    init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}

extension AgeError {
    static func armor(_ what: String) -> AgeError { AgeError(.armor, "invalid armor: \(what)") }
    static func header(_ what: String) -> AgeError { AgeError(.header, "invalid header: \(what)") }
    static let noMatch = AgeError(.noIdentityMatched, "no identity matched any of the file's recipients")
    static let headerMAC = AgeError(.headerMAC, "header MAC mismatch")
    /// The stored header is not the one whose digest was recorded when the file was encrypted.
    public static let headerMismatch = AgeError(
        .header, "the header is not the one recorded when the file was encrypted")
    static func chunkAuthentication(_ index: UInt64) -> AgeError {
        AgeError(.payload, "payload chunk \(index) failed authentication")
    }
    static let trailingData = AgeError(.payload, "trailing data after the last chunk")
    static let truncated = AgeError(.payload, "truncated file: the final payload chunk is missing")
    static let emptyLastChunk = AgeError(.payload, "the last payload chunk is empty")
    static func invalidKey(_ what: String) -> AgeError { AgeError(.invalidKey, what) }
    static func request(_ what: String) -> AgeError { AgeError(.invalidRequest, what) }
    static func io(_ what: String) -> AgeError { AgeError(.io, what) }
    static func output(_ what: String) -> AgeError { AgeError(.output, what) }
}
