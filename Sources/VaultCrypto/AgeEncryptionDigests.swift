import Crypto
public import Foundation

/// What encrypting a file yields besides the file: the digest of its plaintext and the SHA-256 of the header written.
///
/// With the identities it is wrapped for, a header fixes its file key (unwrapping is deterministic), so whoever
/// records this digest when it encrypts can later recognise the header it wrote, and so the file key, from the header
/// alone: no pass over the payload (the vault's streamed pull, #14).
public struct AgeEncryptionDigests: Sendable, Hashable {
    /// The SHA-256 and length of the plaintext encrypted.
    public var plaintext: AgePlaintextDigest
    /// The SHA-256 of the header bytes written, from `age-encryption.org/v1` through the MAC line's newline.
    public var headerSHA256: [UInt8]

    /// Digests from their parts.
    public init(plaintext: AgePlaintextDigest, headerSHA256: [UInt8]) {
        self.plaintext = plaintext
        self.headerSHA256 = headerSHA256
    }
}

extension Age {
    /// The SHA-256 of the header of the binary age file `file` (held in memory): the digest
    /// ``AgeEncryptionDigests/headerSHA256`` gives for a file encrypted to disk. An armored file, or one whose header
    /// does not parse, throws.
    public static func headerSHA256(of file: some DataProtocol) throws -> [UInt8] {
        let reader = ByteReader(bytes: Array(file))
        guard try !AgeArmor.isArmored(reader) else { throw AgeError.request("an armored file has no binary header") }
        _ = try AgeHeader.read(from: reader)
        return Array(SHA256.hash(data: Array(file.prefix(reader.consumed))))
    }

    /// The bytes an age payload of `plaintext` bytes takes after its header: the 16-byte nonce, the plaintext, and a
    /// 16-byte tag per 64 KiB chunk (one chunk for an empty file; a last chunk may be full). Nil on overflow.
    public static func sealedPayloadSize(ofPlaintext plaintext: Int) -> Int? {
        guard plaintext >= 0 else { return nil }
        let chunks = plaintext == 0 ? 1 : (plaintext - 1) / AgePayload.chunkSize + 1
        let (tags, tagOverflow) = chunks.multipliedReportingOverflow(by: AgePayload.tagSize)
        let (body, bodyOverflow) = plaintext.addingReportingOverflow(tags)
        let (total, totalOverflow) = body.addingReportingOverflow(AgePayload.nonceSize)
        return tagOverflow || bodyOverflow || totalOverflow ? nil : total
    }
}
