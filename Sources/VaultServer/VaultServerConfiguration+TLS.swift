import Foundation
import NIOSSL

/// The TLS material the server listens with, resolved from the configuration.
struct ServerTLS: Sendable {
    /// The NIOSSL server configuration (TLS 1.2 minimum).
    var configuration: TLSConfiguration
    /// The self-signed certificate, when one was generated.
    var selfSigned: SelfSignedCertificate?
}

extension VaultServerConfiguration {
    /// Builds the TLS configuration: reads or generates the certificate, sets TLS 1.2 as the minimum and,
    /// with a client CA, requires client certificates. Returns `nil` for plain HTTP.
    func makeTLS() throws -> ServerTLS? {
        let chain: [NIOSSLCertificateSource]
        let key: NIOSSLPrivateKeySource
        var selfSigned: SelfSignedCertificate?
        switch transport {
        case .insecureHTTP:
            return nil
        case .tls(let certificatePath, let privateKeyPath):
            do {
                chain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { .certificate($0) }
            } catch {
                throw VaultServerError.unreadableCertificate
            }
            guard !chain.isEmpty else { throw VaultServerError.unreadableCertificate }
            do {
                key = .privateKey(try NIOSSLPrivateKey(file: privateKeyPath, format: .pem))
            } catch {
                throw VaultServerError.unreadablePrivateKey
            }
        case .selfSigned(let output):
            let certificate = try SelfSignedCertificate.generate(host: host)
            do {
                chain = [
                    .certificate(try NIOSSLCertificate(bytes: Array(certificate.certificatePEM.utf8), format: .pem))
                ]
                key = .privateKey(try NIOSSLPrivateKey(bytes: Array(certificate.privateKeyPEM.utf8), format: .pem))
            } catch {
                throw VaultServerError.certificateGenerationFailed
            }
            if let output { try certificate.writeCertificate(to: output) }
            selfSigned = certificate
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: key)
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = ["http/1.1"]
        if let clientCAPath {
            let roots: [NIOSSLCertificate]
            do {
                roots = try NIOSSLCertificate.fromPEMFile(clientCAPath)
            } catch {
                throw VaultServerError.unreadableClientCA
            }
            guard !roots.isEmpty else { throw VaultServerError.unreadableClientCA }
            configuration.trustRoots = .certificates(roots)
            // Clients are identified by certificate chain, not host name.
            configuration.certificateVerification = .noHostnameVerification
        }
        return ServerTLS(configuration: configuration, selfSigned: selfSigned)
    }
}
