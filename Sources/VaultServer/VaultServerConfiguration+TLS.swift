import Foundation
import NIOSSL
import Synchronization

/// The TLS material the server listens with, resolved from the configuration.
struct ServerTLS: Sendable {
    /// The NIOSSL server configuration (TLS 1.2 minimum).
    var configuration: TLSConfiguration
    /// The self-signed certificate, when one was generated.
    var selfSigned: SelfSignedCertificate?
    /// The certificate chain and key every new handshake uses; replaced on reload.
    let credentials: TLSCredentials
}

/// A certificate chain and its private key.
struct TLSKeyPair: Sendable {
    var chain: [NIOSSLCertificateSource]
    var key: NIOSSLPrivateKeySource
}

/// The certificate chain and key that new handshakes use. A reload swaps them; connections already established
/// keep the ones they were made with, so nothing in flight is dropped.
final class TLSCredentials: Sendable {
    private let current: Mutex<TLSKeyPair>

    init(_ pair: TLSKeyPair) { current = Mutex(pair) }

    /// The pair the next handshake uses.
    var pair: TLSKeyPair { current.withLock { $0 } }

    /// Makes `pair` the one new handshakes use.
    func replace(with pair: TLSKeyPair) { current.withLock { $0 = pair } }

    /// The NIOSSL hook, called during each handshake (after the ClientHello): it hands the current pair to the
    /// connection.
    var contextCallback: NIOSSLContextCallback {
        { [self] _, promise in
            let pair = self.pair
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = pair.chain
            override.privateKey = pair.key
            promise.succeed(override)
        }
    }
}

extension VaultServerConfiguration {
    /// The TLS 1.2 suites offered: ECDHE with AES-GCM or ChaCha20-Poly1305, for ECDSA and RSA certificates.
    static let tls12Suites: [NIOTLSCipher] = [
        .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ]

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
            let pair = try Self.loadKeyPair(certificatePath: certificatePath, privateKeyPath: privateKeyPath)
            chain = pair.chain
            key = pair.key
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
        let credentials = TLSCredentials(TLSKeyPair(chain: chain, key: key))
        configuration.sslContextCallback = credentials.contextCallback
        configuration.minimumTLSVersion = .tlsv12
        // TLS 1.2 with forward-secret AEAD suites only (no CBC/HMAC-SHA1); TLS 1.3 suites are all AEAD.
        configuration.cipherSuiteValues = Self.tls12Suites
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
        return ServerTLS(configuration: configuration, selfSigned: selfSigned, credentials: credentials)
    }

    /// Reads a certificate chain and private key from PEM files and checks that they belong together (a TLS
    /// context is built from them), so a reload never installs a pair that would fail every handshake.
    /// The key file must not be writable by anyone but its owner nor readable by others.
    static func loadKeyPair(certificatePath: String, privateKeyPath: String) throws -> TLSKeyPair {
        let chain: [NIOSSLCertificateSource]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { .certificate($0) }
        } catch {
            throw VaultServerError.unreadableCertificate
        }
        guard !chain.isEmpty else { throw VaultServerError.unreadableCertificate }
        try SecretFile.checkPermissions(privateKeyPath)
        let key: NIOSSLPrivateKeySource
        do {
            key = .privateKey(try NIOSSLPrivateKey(file: privateKeyPath, format: .pem))
        } catch {
            throw VaultServerError.unreadablePrivateKey
        }
        do {
            _ = try NIOSSLContext(
                configuration: TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: key))
        } catch {
            throw VaultServerError.mismatchedCertificateAndKey
        }
        return TLSKeyPair(chain: chain, key: key)
    }
}
