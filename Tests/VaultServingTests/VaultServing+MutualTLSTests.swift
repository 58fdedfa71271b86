import AccessControl
import AuditLog
import Crypto
import Foundation
import GRDB
import NIOSSL
import Testing
import Vault
import VaultServer
import VaultServing
import X509

/// Mutual TLS as an alternative to bearer tokens: a client certificate the handshake verified against the
/// server's client CA authenticates the principal its public key is mapped to (`user cert add`), and nothing
/// else does. Each attack is a request that must be refused.
@Suite(.serialized) struct VaultServingMutualTLSTests {
    @Test func aMappedCertificateAuthenticatesItsPrincipalWithNoToken() async throws {
        let pki = try TestClientPKI()
        let client = try pki.issue(name: "alice-laptop")
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        try await fixture.map(client, to: "user-\(Role.securityEngineer.rawValue)")
        try await withVaultServer(fixture, configure: pki.require, clientTLS: client.present) { live in
            let allowed = try await live.send(.GET, "/v1/audit/tail?count=1", token: nil)
            #expect(allowed.status == 200, "\(allowed.body)")
            // The role matrix still applies: security engineers may not download datasets.
            let refused = try await live.send(.GET, "/v1/datasets/none/versions/latest/download", token: nil)
            #expect(refused.status == 403)
        }
        let entries = try AuditLogReader(directory: fixture.root.appending(path: "audit")).entries().map(\.1)
        #expect(entries.contains { $0.principal == "user-security-engineer" && $0.action == "audit.read" })
    }

    @Test func aClientWithNoCertificateIsRefusedAtTheHandshake() async throws {
        let pki = try TestClientPKI()
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        try await withVaultServer(fixture, configure: pki.require) { live in
            await #expect(throws: (any Error).self) {
                try await live.send(.GET, "/v1/models", token: fixture.tokens[.admin])
            }
        }
    }

    @Test func aCertificateFromAnotherCAIsRefusedEvenWhenItsKeyIsMapped() async throws {
        let pki = try TestClientPKI()
        let other = try TestClientPKI()
        let foreign = try other.issue(name: "mallory")
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        try await fixture.map(foreign, to: "admin")
        try await withVaultServer(fixture, configure: pki.require, clientTLS: foreign.present) { live in
            await #expect(throws: (any Error).self) { try await live.send(.GET, "/v1/models", token: nil) }
        }
    }

    @Test func aCertificateWhosePublicKeyIsNotMappedAuthenticatesNobody() async throws {
        let pki = try TestClientPKI()
        let unmapped = try pki.issue(name: "stranger")
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        try await fixture.map(try pki.issue(name: "someone-else"), to: "admin")
        try await withVaultServer(fixture, configure: pki.require, clientTLS: unmapped.present) { live in
            let response = try await live.send(.GET, "/v1/models", token: nil)
            #expect(response.status == 401)
            // The certificate only got it past the handshake: a token still works on its own.
            let withToken = try await live.send(.GET, "/v1/models", token: fixture.tokens[.dataScientist])
            #expect(withToken.status == 200)
        }
    }

    @Test func aRemovedOrExpiredMappingAuthenticatesNobody() async throws {
        let pki = try TestClientPKI()
        let client = try pki.issue(name: "ops")
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        try await fixture.map(client, to: "admin")
        try await withVaultServer(fixture, configure: pki.require, clientTLS: client.present) { live in
            #expect(try await live.send(.GET, "/v1/models", token: nil).status == 200)
            try await fixture.adminSession().removeClientCertificate(spkiSHA256: client.spkiSHA256)
            let refused = try await eventually { try await live.send(.GET, "/v1/models", token: nil).status == 401 }
            #expect(refused, "a removed mapping still authenticates")
            // Mapped again, but with a validity that has already ended.
            try await fixture.map(client, to: "admin", notAfter: Date().addingTimeInterval(-1))
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await live.send(.GET, "/v1/models", token: nil).status == 401)
        }
    }

    @Test func aCertificateAndATokenNamingDifferentPrincipalsAreRefused() async throws {
        let pki = try TestClientPKI()
        let client = try pki.issue(name: "data-scientist")
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        try await fixture.map(client, to: "user-\(Role.dataScientist.rawValue)")
        try await withVaultServer(fixture, configure: pki.require, clientTLS: client.present) { live in
            let mixed = try await live.send(.GET, "/v1/audit/tail?count=1", token: fixture.tokens[.admin])
            #expect(mixed.status == 401, "an admin token rode on a data scientist's certificate")
            let bogus = try await live.send(.GET, "/v1/models", token: "mvt_notARealToken")
            #expect(bogus.status == 401, "a bad token was ignored next to a good certificate")
            let same = try await live.send(.GET, "/v1/models", token: fixture.tokens[.dataScientist])
            #expect(same.status == 200)
        }
    }

    @Test func aMappingPlantedByAnAttackerWithWriteAccessAuthenticatesNobody() async throws {
        let pki = try TestClientPKI()
        let client = try pki.issue(name: "attacker")
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        try await withVaultServer(fixture, configure: pki.require, clientTLS: client.present) { live in
            // Under the running server, the attacker writes the row exactly as the vault would, but cannot MAC it.
            let mapping = try ClientCertificateMapping(spkiSHA256: client.spkiSHA256, principal: "admin")
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            encoder.dateEncodingStrategy = .iso8601
            let queue = try DatabaseQueue(
                path: fixture.root.appending(path: "catalog.sqlite").path(percentEncoded: false))
            try await queue.write { db in
                try db.execute(
                    sql: "INSERT INTO trust_pins (name, value) VALUES (?, ?)",
                    arguments: [
                        "client-certificate.\(client.spkiSHA256)",
                        String(decoding: try encoder.encode(mapping), as: UTF8.self),
                    ])
            }
            let response = try await live.send(.GET, "/v1/audit/tail?count=1", token: nil)
            #expect(response.status == 401)
        }
        await #expect(throws: (any Error).self) {
            try await fixture.access.caller(presentingCertificateSPKI: client.spkiSHA256)
        }
    }
}

/// A client CA and the certificates it issues, made with swift-certificates.
struct TestClientPKI {
    let key = P256.Signing.PrivateKey()
    let name: DistinguishedName
    let certificatePEM: String
    let directory: URL

    init() throws {
        name = try DistinguishedName { CommonName("Test client CA \(UUID().uuidString.prefix(8))") }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-60), notValidAfter: now.addingTimeInterval(3600),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true))
            },
            issuerPrivateKey: .init(key))
        certificatePEM = try certificate.serializeAsPEM().pemString
        directory = FileManager.default.temporaryDirectory.appending(path: "client-ca-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try certificatePEM.write(to: directory.appending(path: "ca.pem"), atomically: true, encoding: .utf8)
    }

    /// Makes the server request client certificates and verify them against this CA.
    var require: (inout VaultServerConfiguration) -> Void {
        let path = directory.appending(path: "ca.pem").path(percentEncoded: false)
        return { $0.clientCAPath = path }
    }

    /// A client certificate for `name`, with its key.
    func issue(name commonName: String) throws -> TestClientCertificate {
        let clientKey = P256.Signing.PrivateKey()
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(clientKey.publicKey),
            notValidBefore: now.addingTimeInterval(-60), notValidAfter: now.addingTimeInterval(3600),
            issuer: name, subject: try DistinguishedName { CommonName(commonName) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.clientAuth])
            },
            issuerPrivateKey: .init(key))
        return try TestClientCertificate(
            certificatePEM: try certificate.serializeAsPEM().pemString, keyPEM: clientKey.pemRepresentation)
    }
}

/// A client certificate and key, and the SHA-256 of its SubjectPublicKeyInfo (what a mapping names).
struct TestClientCertificate {
    let certificate: NIOSSLCertificate
    let key: NIOSSLPrivateKey
    let spkiSHA256: String

    init(certificatePEM: String, keyPEM: String) throws {
        certificate = try NIOSSLCertificate(bytes: Array(certificatePEM.utf8), format: .pem)
        key = try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)
        let spki = try certificate.extractPublicKey().toSPKIBytes()
        spkiSHA256 = SHA256.hash(data: spki).map { String(format: "%02x", $0) }.joined()
    }

    /// Makes the client present this certificate.
    var present: (inout TLSConfiguration) throws -> Void {
        let certificate = certificate
        let key = key
        return {
            $0.certificateChain = [.certificate(certificate)]
            $0.privateKey = .privateKey(key)
        }
    }
}

extension ServingFixture {
    /// Maps `client`'s public key to `principal`, as `modelvault user cert add` does.
    func map(_ client: TestClientCertificate, to principal: String, notAfter: Date? = nil) async throws {
        try await adminSession().addClientCertificate(
            try ClientCertificateMapping(spkiSHA256: client.spkiSHA256, principal: principal, notAfter: notAfter))
    }
}
