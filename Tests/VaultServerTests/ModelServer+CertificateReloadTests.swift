import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import ServiceLifecycle
import Testing

@testable import VaultServer

#if canImport(Glibc)
import Glibc
#endif

/// Issue #19: certificates and keys reload on SIGHUP with no restart; connections already open keep theirs; a bad
/// new certificate or key is refused and the previous one stays in use.
@Suite(.serialized) struct ModelServerCertificateReloadTests {
    /// Two certificates for 127.0.0.1, each under its own throwaway CA, written as files the server reads.
    struct Files {
        let directory: URL
        let first = try! SelfSignedCertificate.generate(host: "127.0.0.1")
        let second = try! SelfSignedCertificate.generate(host: "127.0.0.1")
        var certificatePath: String { directory.appendingPathComponent("tls.crt").path }
        var keyPath: String { directory.appendingPathComponent("tls.key").path }

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }

        /// Replaces the files the way an operator (or the kubelet) does: write aside, then rename into place.
        func install(certificate: String, key: String, keyMode: Int = 0o400) throws {
            try write(certificate, to: certificatePath, mode: 0o644)
            try write(key, to: keyPath, mode: keyMode)
        }

        private func write(_ text: String, to path: String, mode: Int) throws {
            let aside = path + ".new"
            try Data(text.utf8).write(to: URL(fileURLWithPath: aside))
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: aside)
            #expect(rename(aside, path) == 0)
        }
    }

    /// The status of `GET /v2/health/live` from a fresh client (a new handshake) that trusts only `anchorPEM`;
    /// `nil` when the handshake fails.
    ///
    /// A refused handshake is retried until `timeout`, so a probe expected to fail keeps it short; one expected to
    /// succeed (`expectingSuccess`) gets 30 s, so a loaded machine (CI runs suites in parallel) is not a refusal.
    static func liveStatus(port: Int, trusting anchorPEM: String, expectingSuccess: Bool = false) async throws -> Int? {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(anchorPEM.utf8), format: .pem)])
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        var request = HTTPClientRequest(url: "https://127.0.0.1:\(port)/v2/health/live")
        request.method = .GET
        var status: Int?
        do {
            let response = try await client.execute(request, timeout: .seconds(expectingSuccess ? 30 : 3))
            _ = try await response.body.collect(upTo: 1 << 16)
            status = Int(response.status.code)
        } catch {
            status = nil
        }
        try await client.shutdown()
        return status
    }

    @Test func aCertificateReplacedOnDiskIsServedAfterSIGHUPWithoutDroppingInFlightRequests() async throws {
        let files = try Files()
        defer { try? FileManager.default.removeItem(at: files.directory) }
        try files.install(certificate: files.first.certificatePEM, key: files.first.privateKeyPEM)
        var slow = LinearModel.make()
        slow.delay = .milliseconds(1500)
        let (server, _, _, _) = try makeTestServer(
            models: [.verified(slow)],
            configure: {
                $0.transport = .tls(certificatePath: files.certificatePath, privateKeyPath: files.keyPath)
            }, authenticator: TableAuthenticator.standard, registry: nil)
        let running = Task { try await server.runUntilSignalled() }
        defer { running.cancel() }
        let port = await server.boundPort()
        #expect(
            try await Self.liveStatus(port: port, trusting: files.first.trustAnchorPEM, expectingSuccess: true) == 200)
        #expect(try await Self.liveStatus(port: port, trusting: files.second.trustAnchorPEM) == nil)

        // A slow inference is in flight over the first certificate while the certificate changes.
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates([
            try NIOSSLCertificate(bytes: Array(files.first.trustAnchorPEM.utf8), format: .pem)
        ])
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        var request = HTTPClientRequest(url: "https://127.0.0.1:\(port)/v2/models/iris/infer")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(ModelServerRoutesTests.engineer)")
        request.body = .bytes(ByteBuffer(string: RouteCase.inferBody))
        let inFlight = Task {
            let response = try await client.execute(request, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 20)
            return Int(response.status.code)
        }
        try await Task.sleep(for: .milliseconds(300))

        try files.install(certificate: files.second.certificatePEM, key: files.second.privateKeyPEM)
        kill(getpid(), SIGHUP)
        var served: Int?
        for _ in 0..<50 where served == nil {
            try await Task.sleep(for: .milliseconds(100))
            served = try await Self.liveStatus(port: port, trusting: files.second.trustAnchorPEM)
        }
        #expect(served == 200, "the new certificate is served after SIGHUP")
        #expect(try await Self.liveStatus(port: port, trusting: files.first.trustAnchorPEM) == nil)
        #expect(try await inFlight.value == 200, "the request in flight over the old certificate completed")
        try await client.shutdown()
        running.cancel()
        _ = await running.result
    }

    @Test func aBadNewCertificateOrKeyIsRefusedAndThePreviousOneStaysInUse() async throws {
        let files = try Files()
        defer { try? FileManager.default.removeItem(at: files.directory) }
        try files.install(certificate: files.first.certificatePEM, key: files.first.privateKeyPEM)
        try await withLiveServer(configure: {
            $0.transport = .tls(certificatePath: files.certificatePath, privateKeyPath: files.keyPath)
        }) { live in
            let anchor = files.first.trustAnchorPEM
            #expect(try await Self.liveStatus(port: live.port, trusting: anchor, expectingSuccess: true) == 200)

            try files.install(
                certificate: "-----BEGIN CERTIFICATE-----\nnot a certificate\n", key: files.second.privateKeyPEM)
            #expect(throws: VaultServerError.unreadableCertificate) { try live.server.reloadCertificates() }
            #expect(try await Self.liveStatus(port: live.port, trusting: anchor, expectingSuccess: true) == 200)

            // A valid certificate with someone else's key would fail every handshake: refused before it is used.
            try files.install(certificate: files.second.certificatePEM, key: files.first.privateKeyPEM)
            #expect(throws: VaultServerError.mismatchedCertificateAndKey) { try live.server.reloadCertificates() }
            #expect(try await Self.liveStatus(port: live.port, trusting: anchor, expectingSuccess: true) == 200)

            try files.install(certificate: files.second.certificatePEM, key: files.second.privateKeyPEM, keyMode: 0o644)
            #expect(throws: VaultServerError.secretFilePermissions) { try live.server.reloadCertificates() }
            #expect(try await Self.liveStatus(port: live.port, trusting: anchor, expectingSuccess: true) == 200)
            #expect(VaultServerError.secretFilePermissions.description.contains("0400"))
        }
    }

    @Test func aWorldReadableOrGroupWritableKeyIsRefusedAtStart() throws {
        let files = try Files()
        defer { try? FileManager.default.removeItem(at: files.directory) }
        for mode in [0o644, 0o604, 0o460, 0o600 | 0o002] {
            try files.install(certificate: files.first.certificatePEM, key: files.first.privateKeyPEM, keyMode: mode)
            #expect(throws: VaultServerError.secretFilePermissions) {
                _ = try makeTestServer(
                    models: [],
                    configure: {
                        $0.transport = .tls(certificatePath: files.certificatePath, privateKeyPath: files.keyPath)
                    }, authenticator: TableAuthenticator.standard, registry: nil)
            }
        }
        // Owner-only, and group read (what the kubelet makes of 0400 with fsGroup), are accepted.
        for mode in [0o400, 0o600, 0o440] {
            try files.install(certificate: files.first.certificatePEM, key: files.first.privateKeyPEM, keyMode: mode)
            _ = try makeTestServer(
                models: [],
                configure: {
                    $0.transport = .tls(certificatePath: files.certificatePath, privateKeyPath: files.keyPath)
                }, authenticator: TableAuthenticator.standard, registry: nil)
        }
    }
}
