import Crypto
public import Foundation
import X509

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A self-signed P-256 server certificate for development (`modelvault serve --self-signed`).
public struct SelfSignedCertificate: Sendable {
    /// The certificate in PEM, to give to clients as their trust anchor.
    public let certificatePEM: String
    /// The private key in PEM (PKCS#8). A secret: never log it.
    let privateKeyPEM: String
    /// The SHA-256 fingerprint of the certificate's DER encoding, as colon-separated upper-case hex.
    public let fingerprint: String
    /// The names the certificate is valid for (subject alternative names).
    public let names: [String]

    /// Generates a certificate for `host` (plus `localhost`, `127.0.0.1` and `::1`), valid from one hour ago
    /// for `validity`.
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
            let subject = try DistinguishedName {
                OrganizationName("ModelVault development")
                CommonName(names[0])
            }
            let extensions = try Certificate.Extensions {
                // Self-signed trust anchors must be CA-capable for BoringSSL/OpenSSL clients; path length 0
                // keeps it from issuing anything.
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
                SubjectAlternativeNames(alternatives)
            }
            var serial = [UInt8](repeating: 0, count: 16)
            for index in serial.indices { serial[index] = UInt8.random(in: 0...255) }
            serial[0] &= 0x7f
            let seconds = TimeInterval(validity.components.seconds)
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(bytes: ArraySlice(serial)),
                publicKey: Certificate.PublicKey(key.publicKey), notValidBefore: now.addingTimeInterval(-3600),
                notValidAfter: now.addingTimeInterval(seconds), issuer: subject, subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
                issuerPrivateKey: Certificate.PrivateKey(key))
            let document = try certificate.serializeAsPEM()
            return SelfSignedCertificate(
                certificatePEM: document.pemString, privateKeyPEM: key.pemRepresentation,
                fingerprint: Self.fingerprint(der: document.derBytes), names: names)
        } catch {
            throw VaultServerError.certificateGenerationFailed
        }
    }

    /// The SHA-256 fingerprint of a DER certificate as colon-separated upper-case hex (`AB:CD:...`).
    public static func fingerprint(der: some DataProtocol) -> String {
        SHA256.hash(data: der).map { String(format: "%02X", $0) }.joined(separator: ":")
    }

    /// Writes the certificate PEM to `path` atomically (temporary file, fsync, rename), mode 0644.
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
                try handle.write(contentsOf: Data(certificatePEM.utf8))
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
