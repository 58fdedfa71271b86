import Crypto
public import Foundation
import NIOSSL
import X509

/// What names a client certificate for mutual TLS: the SHA-256 of its SubjectPublicKeyInfo (what the server
/// matches, so a re-issued certificate for the same key keeps working and any other key does not), with its
/// subject and expiry for people and for the mapping's own expiry.
public struct ClientCertificate: Sendable, Equatable {
    /// SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex.
    public var spkiSHA256: String
    /// The subject distinguished name (RFC 4514 text).
    public var subject: String
    /// The end of the certificate's validity.
    public var notValidAfter: Date

    /// Reads the first certificate of a PEM file.
    ///
    /// - Throws: `VaultServerError.unreadableCertificate` when the file is not a PEM certificate.
    public init(pemFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path), data.count <= 1 << 20 else {
            throw VaultServerError.unreadableCertificate
        }
        do {
            guard let first = try NIOSSLCertificate.fromPEMBytes(Array(data)).first else {
                throw VaultServerError.unreadableCertificate
            }
            let parsed = try Certificate(derEncoded: try first.toDERBytes())
            spkiSHA256 = try Self.spkiSHA256(of: first)
            subject = parsed.subject.description
            notValidAfter = parsed.notValidAfter
        } catch {
            throw VaultServerError.unreadableCertificate
        }
    }

    /// SHA-256 (lowercase hex) of a certificate's DER SubjectPublicKeyInfo.
    static func spkiSHA256(of certificate: NIOSSLCertificate) throws -> String {
        let spki = try certificate.extractPublicKey().toSPKIBytes()
        return SHA256.hash(data: spki).map { String(format: "%02x", $0) }.joined()
    }
}
