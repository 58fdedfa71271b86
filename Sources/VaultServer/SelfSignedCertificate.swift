import Crypto
public import Foundation
import X509

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A development server certificate (`modelvault serve --self-signed`): a P-256 leaf (`CA:FALSE`, serverAuth)
/// issued by a throwaway CA whose private key is discarded as soon as the leaf is signed. Clients trust the CA
/// certificate; since nobody holds its key, it cannot mint a certificate for any other host.
public struct SelfSignedCertificate: Sendable {
    /// The served leaf certificate in PEM.
    public let certificatePEM: String
    /// The throwaway CA's certificate in PEM, to give to clients as their trust anchor.
    public let trustAnchorPEM: String
    /// The private key in PEM (PKCS#8). A secret: never log it.
    let privateKeyPEM: String
    /// The SHA-256 fingerprint of the certificate's DER encoding, as colon-separated upper-case hex.
    public let fingerprint: String
    /// The names the certificate is valid for (subject alternative names).
    public let names: [String]

    /// Generates a leaf for `host` (plus `localhost`, `127.0.0.1` and `::1`) and its throwaway CA, both valid
    /// from one hour ago for `validity`.
    public static func generate(
        host: String, validity: Duration = .seconds(7 * 24 * 3600), now: Date = Date()
    )
        throws -> SelfSignedCertificate
    {
        do {
            let key = P256.Signing.PrivateKey()
            var names = ["localhost", "127.0.0.1", "::1"]
            if !names.contains(host.lowercased()) && !host.isEmpty { names.insert(host, at: 0) }
            var alternatives: [GeneralName] = []
            for name in names {
                if let bytes = Self.ipAddressBytes(name) {
                    alternatives.append(.ipAddress(.init(contentBytes: ArraySlice(bytes))))
                } else {
                    alternatives.append(.dnsName(name))
                }
            }
            let notBefore = now.addingTimeInterval(-3600)
            let notAfter = now.addingTimeInterval(TimeInterval(validity.components.seconds))
            // The throwaway CA: its key lives only in this scope.
            let authorityKey = P256.Signing.PrivateKey()
            let authorityPublicKey = Certificate.PublicKey(authorityKey.publicKey)
            let authorityName = try DistinguishedName {
                OrganizationName("ModelVault development")
                CommonName(
                    "ModelVault throwaway CA \(Self.serial().prefix(4).map { String(format: "%02x", $0) }.joined())")
            }
            let authorityIdentifier = SubjectKeyIdentifier(hash: authorityPublicKey)
            let authority = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(bytes: ArraySlice(Self.serial())),
                publicKey: authorityPublicKey, notValidBefore: notBefore, notValidAfter: notAfter,
                issuer: authorityName, subject: authorityName, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    // Path length 0: it can sign leaves only, and its key is gone after this one.
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    authorityIdentifier
                },
                issuerPrivateKey: Certificate.PrivateKey(authorityKey))
            let subject = try DistinguishedName {
                OrganizationName("ModelVault development")
                CommonName(names[0])
            }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
                AuthorityKeyIdentifier(keyIdentifier: authorityIdentifier.keyIdentifier)
                SubjectAlternativeNames(alternatives)
            }
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(bytes: ArraySlice(Self.serial())),
                publicKey: Certificate.PublicKey(key.publicKey), notValidBefore: notBefore,
                notValidAfter: notAfter, issuer: authorityName, subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
                issuerPrivateKey: Certificate.PrivateKey(authorityKey))
            let document = try certificate.serializeAsPEM()
            return SelfSignedCertificate(
                certificatePEM: document.pemString, trustAnchorPEM: try authority.serializeAsPEM().pemString,
                privateKeyPEM: key.pemRepresentation, fingerprint: Self.fingerprint(der: document.derBytes),
                names: names)
        } catch {
            throw VaultServerError.certificateGenerationFailed
        }
    }

    /// A positive 128-bit serial number.
    private static func serial() -> [UInt8] {
        var serial = [UInt8](repeating: 0, count: 16)
        for index in serial.indices { serial[index] = UInt8.random(in: 0...255) }
        serial[0] &= 0x7f
        return serial
    }

    /// The SHA-256 fingerprint of a DER certificate as colon-separated upper-case hex (`AB:CD:...`).
    public static func fingerprint(der: some DataProtocol) -> String {
        SHA256.hash(data: der).map { String(format: "%02X", $0) }.joined(separator: ":")
    }

    /// Writes the trust anchor's PEM (what clients trust) to `path` atomically (temporary file, fsync, rename),
    /// mode 0644.
    public func writeCertificate(to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            let created = FileManager.default.createFile(
                atPath: temporary.path, contents: nil, attributes: [.posixPermissions: 0o644])
            guard created else { throw VaultServerError.certificateGenerationFailed }
            let handle = try FileHandle(forWritingTo: temporary)
            do {
                try handle.write(contentsOf: Data(trustAnchorPEM.utf8))
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
            if rename(temporary.path, url.path) != 0 { throw VaultServerError.certificateGenerationFailed }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw VaultServerError.certificateGenerationFailed
        }
    }

    private static func ipAddressBytes(_ text: String) -> [UInt8]? {
        if text == "::1" { return [UInt8](repeating: 0, count: 15) + [1] }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let bytes = parts.compactMap { UInt8($0) }
        return bytes.count == 4 ? bytes : nil
    }
}
