import AccessControl
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Testing
import Vault
import VaultClient
import VaultCrypto
import VaultServer
import VaultServing

/// A registry in front of the real one that alters the streamed pull: a compromised server, or a man in the middle
/// a wrongly trusted CA let in. Everything else it forwards.
struct TamperingRegistry: RegistryBackend {
    enum Tamper: Sendable {
        /// Serves the stream as the vault made it.
        case none
        /// Flips one byte inside the streamed age payload of `w.bin`.
        case flipPayloadByte
        /// Sends version 2's `w.bin.age` (re-wrapped for the same caller) in place of version 1's.
        case swapInVersionTwo
        /// Flips one byte of the signature bundle.
        case corruptSignature
        /// Sends `w.bin.age` before the signed manifest and signature.
        case filesBeforeSignature
        /// Stops in the middle of `w.bin.age`.
        case truncate
        /// Announces and sends 64 MiB more of `w.bin.age` than the vault made (zeros after the real bytes): a
        /// server filling the client's disk before any digest can be checked.
        case oversize
    }

    let inner: VaultRegistry
    let tamper: Tamper

    func listModels(principal: String) async throws -> [RegistryModelSummary] {
        try await inner.listModels(principal: principal)
    }
    func showModel(named name: String) async throws -> RegistryModelDetail { try await inner.showModel(named: name) }
    func listDatasets(principal: String) async throws -> [RegistryDataset] {
        try await inner.listDatasets(principal: principal)
    }
    func showDataset(named name: String) async throws -> RegistryDataset { try await inner.showDataset(named: name) }
    func pushModelVersion(
        named name: String, _ request: PushModelRequest, principal: String
    ) async throws -> RegistryModelVersion { throw RegistryError.notFound }
    func pullModelVersion(
        named name: String, version: String, recipient: String, principal: String
    ) async throws -> PulledModel { throw RegistryError.notFound }
    func moveAlias(_ alias: String, ofModel name: String, to version: String, principal: String) async throws {}
    func exportAudit(csv: Bool, since: Date?) async throws -> Data { Data() }
    func complianceReport(format: ReportFormat) async throws -> Data { Data() }
    func deployModel(
        named name: String, _ request: DeployModelRequest, into directory: URL, principal: String
    ) async throws { throw RegistryError.notFound }

    func streamModelVersion(
        named name: String, version: String, recipient: String, decryptedByCaller: Bool, principal: String
    ) async throws -> StreamedDownload? {
        guard
            let honest = try await inner.streamModelVersion(
                named: name, version: version, recipient: recipient, decryptedByCaller: decryptedByCaller,
                principal: principal)
        else { return nil }
        guard let weights = honest.files.firstIndex(where: { $0.path == "w.bin.age" }),
            let signature = honest.files.firstIndex(where: { $0.path == Vault.pulledSignaturePath })
        else { throw RegistryError.notFound }
        switch tamper {
        case .none:
            return honest
        case .flipPayloadByte:
            return StreamedDownload(
                files: honest.files,
                open: { index in
                    let source = try honest.open(index)
                    guard index == weights else { return source }
                    return StreamedDownload.Source(head: source.head, bodyCount: source.bodyCount) { buffer, offset in
                        let count = try source.readBody(buffer, offset)
                        let target = source.bodyCount / 2
                        if (offset..<(offset + count)).contains(target) { buffer[target - offset] ^= 0x01 }
                        return count
                    }
                }, finish: honest.finish)
        case .swapInVersionTwo:
            guard
                let other = try await inner.streamModelVersion(
                    named: name, version: "2", recipient: recipient, decryptedByCaller: decryptedByCaller,
                    principal: principal),
                let otherWeights = other.files.firstIndex(where: { $0.path == "w.bin.age" })
            else { throw RegistryError.notFound }
            var files = honest.files
            files[weights] = other.files[otherWeights]
            return StreamedDownload(
                files: files, open: { index in try index == weights ? other.open(otherWeights) : honest.open(index) },
                finish: honest.finish)
        case .corruptSignature:
            return StreamedDownload(
                files: honest.files,
                open: { index in
                    let source = try honest.open(index)
                    guard index == signature else { return source }
                    var head = source.head
                    head[head.count / 2] ^= 0x01
                    return StreamedDownload.Source(head: head, bodyCount: 0) { _, _ in 0 }
                }, finish: honest.finish)
        case .filesBeforeSignature:
            let order = [weights] + honest.files.indices.filter { $0 != weights }
            return StreamedDownload(
                files: order.map { honest.files[$0] }, open: { index in try honest.open(order[index]) },
                finish: honest.finish)
        case .oversize:
            let extra = 64 << 20
            return StreamedDownload(
                files: honest.files.enumerated().map { index, file in
                    index == weights ? StreamedDownload.File(path: file.path, size: file.size + extra) : file
                },
                open: { index in
                    let source = try honest.open(index)
                    guard index == weights else { return source }
                    return StreamedDownload.Source(head: source.head, bodyCount: source.bodyCount + extra) {
                        buffer, offset in
                        if offset < source.bodyCount {
                            return try source.readBody(
                                UnsafeMutableRawBufferPointer(
                                    rebasing: buffer[..<min(buffer.count, source.bodyCount - offset)]), offset)
                        }
                        let count = min(buffer.count, source.bodyCount + extra - offset)
                        buffer.baseAddress.map { memset($0, 0, count) }
                        return count
                    }
                }, finish: honest.finish)
        case .truncate:
            return StreamedDownload(
                files: honest.files,
                open: { index in
                    let source = try honest.open(index)
                    guard index == weights else { return source }
                    return StreamedDownload.Source(head: source.head, bodyCount: source.bodyCount) { buffer, offset in
                        struct Cut: Error {}
                        if offset >= source.bodyCount / 2 { throw Cut() }
                        return try source.readBody(
                            UnsafeMutableRawBufferPointer(
                                rebasing: buffer[..<min(buffer.count, source.bodyCount / 2 - offset)]), offset)
                    }
                }, finish: honest.finish)
        }
    }
}

/// The decrypting pull as the client sees it over a live server (#14): the server re-wraps while it streams and the
/// client decrypts while it receives, so the client's checks are the only ones between the bytes and the output.
@Suite struct VaultServingStreamedPullTests {
    /// 3 MiB and a bit: several decryption batches on the client, several 1 MiB reads on the server.
    static let weights = Data((0..<(3 << 20) + 12_345).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ $0 >> 9) })

    /// Runs a live server over `fixture`'s vault whose streamed pulls pass through `tamper`, and a client of it
    /// holding the data scientist's token.
    static func withClient<T: Sendable>(
        _ fixture: ServingFixture, tamper: TamperingRegistry.Tamper, _ body: (VaultClient) async throws -> T
    ) async throws -> T {
        var configuration = VaultServerConfiguration()
        configuration.port = 0
        configuration.rateLimit = .init(requestsPerSecond: 10_000, burst: 10_000)
        var logger = Logger(label: "test.streamed-pull")
        logger.logLevel = .critical
        let server = try ModelServer(
            configuration: configuration,
            catalog: VaultModelCatalog(access: fixture.access, selections: nil, logger: logger),
            authenticator: VaultTokenAuthenticator(access: fixture.access, cacheLifetime: .milliseconds(200)),
            audit: VaultRequestAuditor(access: fixture.access),
            registry: TamperingRegistry(inner: VaultRegistry(access: fixture.access), tamper: tamper), logger: logger)
        let group = ServiceGroup(services: [server], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            let port = await server.boundPort()
            try #require(port != 0, "the server did not start")
            let client = try VaultClientConfiguration(
                server: "https://127.0.0.1:\(port)", trustedCertificatesPEM: server.selfSignedCertificatePEM,
                token: fixture.tokens[.dataScientist]!)
            do {
                let value = try await VaultClient.with(client, body)
                await group.triggerGracefulShutdown()
                return value
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
        }
    }

    /// Pushes `alpha` twice (versions 1 and 2 differ in `w.bin`) and returns the pinned verifier.
    static func prepare(_ fixture: ServingFixture) async throws -> VaultClient.PinnedVerifier {
        let admin = try await fixture.adminSession()
        _ = try await admin.pushModel("alpha", from: .files(["config.json": Data("{}".utf8), "w.bin": weights]))
        var other = weights
        other[7] ^= 0xff
        _ = try await admin.pushModel("alpha", from: .files(["config.json": Data("{}".utf8), "w.bin": other]))
        return try VaultClient.PinnedVerifier(parsing: await admin.verifierPublicKeyPEM())
    }

    /// Pulls `alpha@1` into `work/out` through a server that applies `tamper`.
    static func pull(
        _ tamper: TamperingRegistry.Tamper, _ fixture: ServingFixture, _ verifier: VaultClient.PinnedVerifier,
        into work: URL
    ) async throws -> VaultClient.PullResult {
        try await withClient(fixture, tamper: tamper) { client in
            try await client.pullModel(
                "alpha", version: "1", into: work.appending(path: "out"), signatureFileName: Vault.pulledSignaturePath,
                verifier: verifier)
        }
    }

    @Test func anHonestStreamIsDecryptedAsItArrivesAndChecked() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let verifier = try await Self.prepare(fixture)
        let work = FileManager.default.temporaryDirectory.appending(path: "pull-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let result = try await Self.pull(.none, fixture, verifier, into: work)
        #expect(result.fileCount == 2)
        #expect(try Data(contentsOf: work.appending(path: "out/w.bin")) == Self.weights)
        #expect(try Data(contentsOf: work.appending(path: "out/config.json")) == Data("{}".utf8))
        #expect(FileManager.default.fileExists(atPath: work.appending(path: "out/.modelvault/manifest.json").path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path) == ["out"])
        // The vault audited the attempt as `model.pull-rewrapped` for the caller.
        let tail = try await fixture.adminSession().auditTail(20).map(\.entry)
        #expect(tail.contains { $0.action == "model.pull-rewrapped" && $0.principal == "user-data-scientist" })
    }

    /// The attacks: whatever the server alters in the stream, the client refuses the pull (exit 6 kinds for
    /// integrity, a failure for a cut stream) and nothing is left at the output or beside it.
    @Test(arguments: [
        (TamperingRegistry.Tamper.flipPayloadByte, VaultClientError.Kind.integrity, "cannot decrypt w.bin"),
        (.swapInVersionTwo, .integrity, "w.bin of alpha@1 does not match its digest"),
        (.corruptSignature, .integrity, "does not verify with the pinned verifier"),
        (.filesBeforeSignature, .integrity, "before its signed manifest"),
        (.oversize, .integrity, "w.bin of alpha@1 larger than its signed size"),
    ])
    func aTamperedStreamIsRefusedAndLeavesNothing(
        tamper: TamperingRegistry.Tamper, kind: VaultClientError.Kind, message: String
    ) async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let verifier = try await Self.prepare(fixture)
        let work = FileManager.default.temporaryDirectory.appending(path: "pull-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let error = try await #require(throws: VaultClientError.self) {
            try await Self.pull(tamper, fixture, verifier, into: work)
        }
        #expect(error.kind == kind, "\(error)")
        #expect(error.message.contains(message), "\(error)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path).isEmpty)
    }

    /// A stream cut off in the middle of a file (the server stopped, or the connection dropped) leaves nothing.
    @Test func aTruncatedStreamLeavesNoOutput() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let verifier = try await Self.prepare(fixture)
        let work = FileManager.default.temporaryDirectory.appending(path: "pull-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        await #expect(throws: (any Error).self) { try await Self.pull(.truncate, fixture, verifier, into: work) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path).isEmpty)
    }
}
