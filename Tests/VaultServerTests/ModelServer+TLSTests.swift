import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOSSL
import TestSupport
import Testing
import X509

@testable import VaultServer

@Suite(.serialized) struct ModelServerTLSTests {
    @Test func refusesTLS11AndAcceptsTLS12() async throws {
        try await withLiveServer(clientTLS: {
            $0.maximumTLSVersion = .tlsv11; $0.minimumTLSVersion = .tlsv1
        }) {
            live in
            await #expect(throws: (any Error).self) { try await live.send(.GET, "/v2/health/live") }
        }
        try await withLiveServer(clientTLS: { $0.maximumTLSVersion = .tlsv12 }) { live in
            let response = try await live.send(.GET, "/v2/health/live")
            #expect(response.status == 200)
        }
    }

    @Test func refusesPlaintextHTTPOnTheTLSPort() async throws {
        try await withLiveServer { live in
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(live.port)/v2/health/live")
            request.method = .GET
            do {
                let response = try await client.execute(request, timeout: .seconds(5))
                _ = try await response.body.collect(upTo: 1 << 20)
                Issue.record("plaintext HTTP was answered with \(response.status.code)")
            } catch {
                // Expected: the TLS port closes the connection on a plaintext request.
            }
            try await client.shutdown()
        }
    }

    @Test func opensslClientCannotNegotiateTLS10Or11() async throws {
        guard Interop.available("openssl") else {
            try Interop.skipOrFail("openssl")
        }
        try await withLiveServer { live in
            let target = "127.0.0.1:\(live.port)"
            for version in ["-tls1", "-tls1_1"] {
                let old = try await ChildProcess.tool(
                    "openssl", ["s_client", "-connect", target, version, "-cipher", "DEFAULT:@SECLEVEL=0"],
                    mergesErrors: true
                ).runAsync()
                #expect(old.status != 0, "openssl \(version) handshake succeeded")
                #expect(!old.stdout.contains("BEGIN CERTIFICATE"), "openssl \(version) received the certificate")
            }
            let current = try await ChildProcess.tool(
                "openssl", ["s_client", "-connect", target, "-tls1_2"], mergesErrors: true
            ).runAsync()
            #expect(current.status == 0)
            #expect(current.stdout.contains("BEGIN CERTIFICATE"))
            let plaintext = try await Self.plaintextProbe(port: live.port)
            #expect(!plaintext.contains("HTTP/1.1 200"))
        }
    }

    /// Writes a plain HTTP request to the TLS port and returns what comes back before the server closes.
    /// Every TLS 1.2 suite a server with an ECDSA certificate could negotiate (ECDSA-authenticated or anonymous,
    /// as `openssl ciphers` lists them at security level 0), tried one at a time: only AEAD suites (AES-GCM,
    /// ChaCha20-Poly1305) may be accepted; the CBC/HMAC-SHA1 suites of issue #19 must not.
    @Test func opensslFindsOnlyAEADSuitesOverTLS12() async throws {
        guard Interop.available("openssl") else {
            try Interop.skipOrFail("openssl")
        }
        let listing = try await ChildProcess.tool(
            "openssl", ["ciphers", "-v", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"], mergesErrors: true
        ).runAsync()
        let suites = listing.stdout.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 4, fields[1] != "TLSv1.3", fields[3] == "Au=ECDSA" || fields[3] == "Au=None"
            else { return nil }
            return String(fields[0])
        }
        try #require(suites.count >= 10)
        try await withLiveServer { live in
            var accepted: [String] = []
            for suite in suites {
                let attempt = try await ChildProcess.tool(
                    "openssl",
                    ["s_client", "-connect", "127.0.0.1:\(live.port)", "-tls1_2", "-cipher", suite + ":@SECLEVEL=0"],
                    mergesErrors: true
                ).runAsync()
                if attempt.status == 0 && attempt.stdout.contains("BEGIN CERTIFICATE") { accepted.append(suite) }
            }
            #expect(!accepted.isEmpty)
            let weak = accepted.filter { !($0.contains("GCM") || $0.contains("CHACHA20")) }
            #expect(weak.isEmpty, "non-AEAD TLS 1.2 suites accepted: \(weak)")
        }
    }

    static func plaintextProbe(port: Int) async throws -> String {
        try await ChildProcess.tool(
            "bash",
            [
                "-c",
                "exec 3<>/dev/tcp/127.0.0.1/\(port); printf 'GET /v2/health/live HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' >&3; timeout 5 cat <&3",
            ],
            mergesErrors: true
        ).runAsync().stdout
    }

    @Test func mutualTLSRequiresAClientCertificateFromTheCA() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (caPEM, clientPEM, clientKeyPEM) = try Self.makeClientCertificate()
        let caPath = directory.appendingPathComponent("ca.pem").path
        try caPEM.write(toFile: caPath, atomically: true, encoding: .utf8)

        try await withLiveServer(configure: { $0.clientCAPath = caPath }) { live in
            await #expect(throws: (any Error).self) { try await live.send(.GET, "/v2/health/live") }
        }
        try await withLiveServer(
            configure: { $0.clientCAPath = caPath },
            clientTLS: {
                $0.certificateChain = [.certificate(try! NIOSSLCertificate(bytes: Array(clientPEM.utf8), format: .pem))]
                $0.privateKey = .privateKey(try! NIOSSLPrivateKey(bytes: Array(clientKeyPEM.utf8), format: .pem))
            }
        ) { live in
            let response = try await live.send(.GET, "/v2/health/live")
            #expect(response.status == 200)
        }
    }

    /// A CA and a client certificate it issued (PEM), made with swift-certificates.
    static func makeClientCertificate() throws -> (ca: String, client: String, clientKey: String) {
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName { CommonName("Test client CA") }
        let now = Date()
        let ca = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(caKey.publicKey),
            notValidBefore: now.addingTimeInterval(-60), notValidAfter: now.addingTimeInterval(3600),
            issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true))
            },
            issuerPrivateKey: .init(caKey))
        let clientKey = P256.Signing.PrivateKey()
        let client = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(clientKey.publicKey),
            notValidBefore: now.addingTimeInterval(-60), notValidAfter: now.addingTimeInterval(3600),
            issuer: caName, subject: try DistinguishedName { CommonName("client") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.clientAuth])
            },
            issuerPrivateKey: .init(caKey))
        return (
            try ca.serializeAsPEM().pemString, try client.serializeAsPEM().pemString, clientKey.pemRepresentation
        )
    }

    @Test func gracefulShutdownFinishesInFlightRequests() async throws {
        var slow = LinearModel.make()
        slow.delay = .milliseconds(700)
        try await withLiveServer(models: [.verified(slow)]) { live in
            async let response = live.send(
                .POST, "/v2/models/iris/infer", token: ModelServerRoutesTests.engineer,
                body: Array(RouteCase.inferBody.utf8))
            try await Task.sleep(for: .milliseconds(200))
            // Shut down while the inference runs: the request still completes.
            await live.group.triggerGracefulShutdown()
            #expect(try await response.status == 200)
        }
    }

    @Test func auditRecordsTheClientAddressOfALiveConnection() async throws {
        try await withLiveServer { live in
            let response = try await live.send(.GET, "/v2", token: ModelServerRoutesTests.engineer)
            #expect(response.status == 200)
            #expect(await live.audit.records.last?.clientAddress == "127.0.0.1")
        }
    }
}
