import Crypto
import Foundation
import NIOSSL
import Testing

@testable import VaultServer

@Suite struct VaultServerConfigurationTests {
    @Test(arguments: ["0.0.0.0", "10.0.0.1", "example.org", "::", "127.0.0.256"])
    func refusesPlainHTTPOffLoopback(_ host: String) {
        var configuration = VaultServerConfiguration()
        configuration.host = host
        configuration.transport = .insecureHTTP
        #expect(throws: VaultServerError.insecureHTTPNotOnLoopback) { try configuration.validate() }
    }

    @Test(arguments: ["127.0.0.1", "127.1.2.3", "localhost", "::1"])
    func allowsPlainHTTPOnLoopback(_ host: String) throws {
        var configuration = VaultServerConfiguration()
        configuration.host = host
        configuration.transport = .insecureHTTP
        try configuration.validate()
    }

    @Test func refusesOutOfRangeLimits() {
        var configuration = VaultServerConfiguration()
        configuration.maxBodySize = 0
        #expect(throws: VaultServerError.invalidConfiguration) { try configuration.validate() }
    }

    @Test func selfSignedCertificateHasFingerprintNamesAndExport() throws {
        let certificate = try SelfSignedCertificate.generate(host: "vault.internal")
        #expect(certificate.names == ["vault.internal", "localhost", "127.0.0.1", "::1"])
        let parsed = try NIOSSLCertificate(bytes: Array(certificate.certificatePEM.utf8), format: .pem)
        let der = try parsed.toDERBytes()
        let expected = SHA256.hash(data: der).map { String(format: "%02X", $0) }.joined(separator: ":")
        #expect(certificate.fingerprint == expected)
        #expect(!certificate.certificatePEM.contains("PRIVATE KEY"))

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("server.pem").path
        try certificate.writeCertificate(to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == certificate.trustAnchorPEM)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["server.pem"])
    }

    @Test func unreadableCertificateFilesFailWithFixedErrors() {
        var configuration = VaultServerConfiguration()
        configuration.transport = .tls(certificatePath: "/nonexistent/cert.pem", privateKeyPath: "/nonexistent/key.pem")
        #expect(throws: VaultServerError.unreadableCertificate) { try configuration.makeTLS() }
        #expect(!VaultServerError.unreadableCertificate.description.contains("/nonexistent"))
    }
}
