import AccessControl
import AuditLog
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import TestSupport
import Testing
import Vault
import VaultCrypto
import VaultServer
import VaultServing

/// A test-side codec of the file stream (`application/vnd.modelvault.files`), written from the contract in
/// /work/helper-notes/remote-api.md rather than from the server's code.
enum FileStreamCodec {
    static func encode(_ files: [(path: String, data: Data)], end: Bool = true) -> ByteBuffer {
        var buffer = ByteBuffer()
        for file in files {
            buffer.writeInteger(UInt16(file.path.utf8.count))
            buffer.writeString(file.path)
            buffer.writeInteger(UInt64(file.data.count))
            buffer.writeBytes(file.data)
        }
        if end { buffer.writeInteger(UInt16(0)) }
        return buffer
    }

    static func decode(_ body: ByteBuffer) throws -> [String: Data] {
        var body = body
        var files: [String: Data] = [:]
        struct Truncated: Error {}
        while true {
            guard let length = body.readInteger(as: UInt16.self) else { throw Truncated() }
            if length == 0 { break }
            guard let path = body.readString(length: Int(length)), let size = body.readInteger(as: UInt64.self),
                let bytes = body.readBytes(length: Int(size))
            else { throw Truncated() }
            files[path] = Data(bytes)
        }
        #expect(body.readableBytes == 0)
        return files
    }
}

/// The server over the fixture's vault with a configuration of the test's own, driven in process.
func withConfiguredApplication<T: Sendable>(
    _ fixture: ServingFixture, configure: (inout VaultServerConfiguration) -> Void = { _ in },
    rotationPassphrase: String? = ServingFixture.passphrase,
    _ body: @Sendable (any TestClientProtocol) async throws -> T
) async throws -> T {
    var configuration = VaultServerConfiguration()
    configuration.port = 0
    configuration.catalogPollInterval = .milliseconds(200)
    configuration.rateLimit = .init(requestsPerSecond: 10_000, burst: 10_000)
    // Debug builds on a loaded machine: key rotation (scrypt) must not hit the request timeout.
    configuration.requestTimeout = .seconds(600)
    configure(&configuration)
    var logger = Logger(label: "test.streams")
    logger.logLevel = .critical
    let server = try ModelServer(
        configuration: configuration,
        catalog: VaultModelCatalog(access: fixture.access, selections: nil, logger: logger),
        authenticator: VaultTokenAuthenticator(access: fixture.access, cacheLifetime: .milliseconds(200)),
        audit: VaultRequestAuditor(access: fixture.access),
        registry: VaultRegistry(access: fixture.access, rotationPassphrase: rotationPassphrase),
        logger: logger)
    return try await server.makeApplication().test(.router) { client in try await body(client) }
}

extension TestClientProtocol {
    /// Sends `body` (a file stream when given) with `token`.
    func stream(
        _ method: HTTPRequest.Method, _ path: String, token: String?, body: ByteBuffer? = nil
    ) async throws -> TestResponse {
        var fields = HTTPFields()
        if let token { fields[.authorization] = "Bearer \(token)" }
        if body != nil { fields[.contentType] = "application/vnd.modelvault.files" }
        return try await execute(uri: path, method: method, headers: fields, body: body)
    }
}

/// Streamed push, pull, data add and data get (#14): bounded, validated, scanned, authorised by the route table.
@Suite struct VaultServingStreamTests {
    static let weights = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
    static let modelFiles: [(path: String, data: Data)] = [
        ("model.json", Data(#"{"kind":"test"}"#.utf8)), ("weights/w.bin", weights),
    ]

    /// A model pushed through the stream comes back through the download re-wrapped for the caller's recipient:
    /// the caller's own identity decrypts it to the same bytes, and the vault's files were never handed out.
    @Test func aStreamedPushPullsBackRewrappedForTheCallersRecipient() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let identity = AgeX25519Identity.generate()
        let token = fixture.tokens[.dataScientist]!
        try await withConfiguredApplication(fixture) { client in
            let pushed = try await client.stream(
                .post, "/v1/models/alpha/upload", token: token, body: FileStreamCodec.encode(Self.modelFiles))
            #expect(pushed.status == .created, "\(String(buffer: pushed.body))")
            let record = try JSONDecoder.iso.decode(RegistryModelVersion.self, from: Data(buffer: pushed.body))
            #expect(record.version == "1" && record.files.keys.sorted() == ["model.json", "weights/w.bin"])

            let pulled = try await client.stream(
                .get, "/v1/models/alpha/versions/1/download?recipient=\(identity.recipient.encoded)", token: token)
            #expect(pulled.status == .ok, "\(String(buffer: pulled.body))")
            #expect(pulled.headers[.contentType] == "application/vnd.modelvault.files")
            let files = try FileStreamCodec.decode(pulled.body)
            for (path, data) in Self.modelFiles {
                let sealed = try #require(files[path + ".age"], "\(files.keys.sorted())")
                #expect(try Age.decrypt(sealed, using: [identity]) == data)
            }
            #expect(files.keys.contains { $0.hasPrefix(".modelvault/") }, "the signature travels with the files")
            // By alias too, and a missing recipient is a clear 400.
            let missing = try await client.stream(.get, "/v1/models/alpha/versions/1/download", token: token)
            #expect(missing.status == .badRequest)
            #expect(String(buffer: missing.body).contains("recipient"))
        }
    }

    /// The attack: devops holds `model.pull-rewrapped` but not `model.pull`. A client that downloads for a
    /// recipient whose identity it holds and decrypts locally would hand devops the plaintext, whatever the
    /// `decryptedByCaller` flag says (review 4, F1: the flag alone was seen bypassed). Without `model.pull` the
    /// recipient must be the current identity of a recorded deployment of that model, on the streamed and the JSON
    /// route.
    @Test func aDownloadTheCallerDecryptsNeedsModelPullNotOnlyPullRewrapped() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        try await fixture.push("bc", epochs: 5)
        let admin = try await fixture.adminSession()
        _ = try await admin.pushModel("alpha", from: .files(["model.json": Data("{}".utf8)]))
        let recipient = AgeX25519Identity.generate().recipient.encoded
        let path = "/v1/models/alpha/versions/1/download?recipient=\(recipient)"
        let pod = try ServingBundle.generateIdentity()
        let bundles = FileManager.default.temporaryDirectory.appending(path: "pod-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: bundles) }
        try await admin.writeServingBundle(
            [try ModelReference(name: "bc", selector: .alias("production"))], for: pod.recipient, deployment: "pod",
            to: bundles, registeredAs: "pod")
        try await withConfiguredApplication(fixture) { client in
            let devops = fixture.tokens[.devops]
            let ownKey = try await client.stream(.get, path, token: devops)
            #expect(ownKey.status == .forbidden, "\(String(buffer: ownKey.body))")
            let json = try await client.execute(
                uri: "/v1/models/alpha/versions/1/pull", method: .post,
                headers: [.authorization: "Bearer \(devops!)", .contentType: "application/json"],
                body: ByteBuffer(string: #"{"recipient":"\#(recipient)"}"#))
            #expect(json.status == .forbidden, "\(String(buffer: json.body))")
            // The pod's identity is a deployment of `bc`: a re-wrap of `bc` for it is allowed, of `alpha` not (the
            // streamed pull review's L1: any deployment's identity was accepted for any model).
            let toPod = "/v1/models/bc/versions/1/download?recipient=\(pod.recipient)"
            #expect(try await client.stream(.get, toPod, token: devops).status == .ok)
            let otherModelToPod = "/v1/models/alpha/versions/1/download?recipient=\(pod.recipient)"
            let otherModel = try await client.stream(.get, otherModelToPod, token: devops)
            #expect(otherModel.status == .forbidden, "\(String(buffer: otherModel.body))")
            let decrypting = try await client.stream(.get, path + "&decryptedByCaller=true", token: devops)
            #expect(decrypting.status == .forbidden, "\(String(buffer: decrypting.body))")
            let scientist = fixture.tokens[.dataScientist]
            #expect(try await client.stream(.get, path + "&decryptedByCaller=true", token: scientist).status == .ok)
            let malformed = try await client.stream(.get, path + "&decryptedByCaller=yes", token: scientist)
            #expect(malformed.status == .badRequest)
        }
    }

    /// A dataset larger than the JSON body cap goes in and out as a stream; the server never collects it.
    @Test func aDatasetLargerThanTheJSONBodyCapStreamsInAndOut() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let csv = Data(String(repeating: "1.0,2.0,3.0,0\n", count: 200_000).utf8)  // 2.8 MB
        let token = fixture.tokens[.dataScientist]!
        try await withConfiguredApplication(fixture, configure: { $0.maxBodySize = 1 << 20 }) { client in
            let added = try await client.stream(
                .post, "/v1/datasets/alpha/upload?description=rows", token: token,
                body: FileStreamCodec.encode([("rows.csv", csv)]))
            #expect(added.status == .created, "\(String(buffer: added.body))")
            #expect(String(buffer: added.body).contains(#""version":1"#))
            let got = try await client.stream(.get, "/v1/datasets/alpha/versions/latest/download", token: token)
            #expect(got.status == .ok)
            #expect(try FileStreamCodec.decode(got.body) == ["rows.csv": csv])
            // The JSON routes keep their cap.
            let json = try await client.execute(
                uri: "/v1/models/alpha/versions", method: .post,
                headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                body: ByteBuffer(repeating: 0x20, count: 2 << 20))
            #expect(json.status == .contentTooLarge)
        }
    }

    /// The attack: a stream over the staging cap, with or without a Content-Length, is refused with 413 and
    /// leaves no version and no staged file behind.
    @Test func aStreamOverTheStagingCapIsRefusedWith413() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let staging = FileManager.default.temporaryDirectory.appending(path: "stream-staging-\(UUID())")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: staging) }
        let token = fixture.tokens[.admin]!
        try await withConfiguredApplication(
            fixture,
            configure: {
                $0.maxStreamBytes = 100_000
                $0.stagingDirectory = staging
            }
        ) { client in
            let body = FileStreamCodec.encode([("w.bin", Data(count: 200_000))])
            let refused = try await client.stream(.post, "/v1/models/big/upload", token: token, body: body)
            #expect(refused.status == .contentTooLarge)
            #expect(String(buffer: refused.body) == #"{"error":"request body too large"}"#)
            // A header announcing more than the cap, whatever follows.
            var header = ByteBuffer()
            header.writeInteger(UInt16(5))
            header.writeString("w.bin")
            header.writeInteger(UInt64.max)
            let lying = try await client.stream(.post, "/v1/models/big/upload", token: token, body: header)
            #expect(lying.status == .contentTooLarge)
        }
        #expect(try await fixture.adminSession().models().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: staging.path).isEmpty)
    }

    /// The attack: hostile streams (path traversal, absolute or duplicate paths, truncation, trailing bytes, a
    /// nested path for a dataset) are refused with 400 and store nothing.
    @Test(arguments: [
        ("traversal", FileStreamCodec.encode([("../escape", Data("x".utf8))]), "models/m"),
        ("absolute", FileStreamCodec.encode([("/etc/passwd", Data("x".utf8))]), "models/m"),
        ("dot", FileStreamCodec.encode([("a/./b", Data("x".utf8))]), "models/m"),
        ("duplicate", FileStreamCodec.encode([("a", Data("x".utf8)), ("a", Data("y".utf8))]), "models/m"),
        ("truncated", FileStreamCodec.encode([("a", Data("xyz".utf8))], end: false), "models/m"),
        // Whole files that arrived (and were scanned and encrypted) before the stream broke are not committed.
        (
            "truncated after whole files",
            FileStreamCodec.encode([("a", Data("x".utf8)), ("b", Data("y".utf8))], end: false), "models/m"
        ),
        (
            "trailing",
            {
                var b = FileStreamCodec.encode([("a", Data("x".utf8))]); b.writeString("!"); return b
            }(),
            "models/m"
        ),
        ("file then directory", FileStreamCodec.encode([("a", Data("x".utf8)), ("a/b", Data("y".utf8))]), "models/m"),
        ("nested dataset file", FileStreamCodec.encode([("sub/rows.csv", Data("1\n".utf8))]), "datasets/d"),
    ])
    func aHostileStreamIsRefusedWith400(name: String, body: ByteBuffer, collection: String) async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let token = fixture.tokens[.admin]!
        try await withConfiguredApplication(fixture) { client in
            let refused = try await client.stream(.post, "/v1/\(collection)/upload", token: token, body: body)
            #expect(refused.status == .badRequest, "\(name): \(String(buffer: refused.body))")
            #expect(String(buffer: refused.body).contains("malformed file stream"), "\(name)")
        }
        let session = try await fixture.adminSession()
        #expect(try await session.models().isEmpty)
        #expect(try await session.datasets().isEmpty)
    }

    /// The attack: a pickle that runs `os.system` on load, pushed through the stream, is refused with 422 and
    /// the findings, as `model push` exits 7. Files are scanned and encrypted as they arrive: a benign file before
    /// the pickle (already encrypted into staging) and one after it leave nothing behind either.
    @Test func aStreamedHostilePickleIsRefusedWith422() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let staging = FileManager.default.temporaryDirectory.appending(path: "stream-staging-\(UUID())")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: staging) }
        try await withConfiguredApplication(fixture, configure: { $0.stagingDirectory = staging }) { client in
            let refused = try await client.stream(
                .post, "/v1/models/evil/upload", token: fixture.tokens[.admin],
                body: FileStreamCodec.encode([
                    ("a.json", Data("{}".utf8)), ("w.bin", VaultServingScanningTests.hostilePickle),
                    ("z.bin", Self.weights),
                ]))
            #expect(refused.status == .unprocessableContent)
            #expect(
                String(buffer: refused.body).contains("refused by the model scanner: w.bin#pickle.global.dangerous@"))
        }
        #expect(try await fixture.adminSession().models().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: staging.path).isEmpty)
        let vaultStaging = fixture.root.appending(path: ".staging").path(percentEncoded: false)
        #expect((FileManager.default.subpaths(atPath: vaultStaging) ?? []).filter { $0.hasSuffix(".age") }.isEmpty)
    }

    /// The attack (review of the arriving push, F2): an alias `setAlias` refuses (a number, `latest`, not a name)
    /// used to be checked after the version was stored, so each 400 left a version behind.
    @Test func aBadAliasIsRefusedBeforeAnythingIsStored() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        try await withConfiguredApplication(fixture) { client in
            for alias in ["123", "latest", "bad%2Fname"] {
                let refused = try await client.stream(
                    .post, "/v1/models/fa/upload?alias=\(alias)", token: fixture.tokens[.admin],
                    body: FileStreamCodec.encode(Self.modelFiles))
                #expect(refused.status == .badRequest, "\(alias): \(String(buffer: refused.body))")
            }
            // A name the early check passes but `setAlias` refuses later: a look-alike of an existing alias (the
            // re-attack found versions stored behind this 400), on the streamed and the JSON route.
            let first = try await client.stream(
                .post, "/v1/models/fa/upload?alias=prod", token: fixture.tokens[.admin],
                body: FileStreamCodec.encode(Self.modelFiles))
            #expect(first.status == .created)
            let lookAlike = try await client.stream(
                .post, "/v1/models/fa/upload?alias=pr0d", token: fixture.tokens[.admin],
                body: FileStreamCodec.encode(Self.modelFiles))
            #expect(lookAlike.status == .badRequest, "\(String(buffer: lookAlike.body))")
            let json = try await client.execute(
                uri: "/v1/models/fa/versions", method: .post,
                headers: [.authorization: "Bearer \(fixture.tokens[.admin]!)", .contentType: "application/json"],
                body: ByteBuffer(string: #"{"files":{"w.bin":"AAEC"},"alias":"pr0d"}"#))
            #expect(json.status == .badRequest, "\(String(buffer: json.body))")
        }
        let models = try await fixture.adminSession().models()
        #expect(models.map(\.name) == ["fa"] && models.first?.latestVersion == 1, "\(models)")
    }

    /// The server records an uploaded ONNX model's signature in the signed manifest from the files it received,
    /// and refuses (400) an ONNX model the interpreter cannot run (an unsupported operator), as a local push does,
    /// even from a client that skips the CLI's own check.
    @Test func anUploadedONNXModelIsDescribedByTheServerAndABrokenOneIsRefused() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let token = fixture.tokens[.admin]!
        try await withConfiguredApplication(fixture) { client in
            let broken = try await client.stream(
                .post, "/v1/models/bad/upload", token: token,
                body: FileStreamCodec.encode([("einsum.onnx", Data(TestONNXModels.unsupportedOperator))]))
            #expect(broken.status == .badRequest, "\(String(buffer: broken.body))")
            let pushed = try await client.stream(
                .post, "/v1/models/linear/upload", token: token,
                body: FileStreamCodec.encode([
                    ("README.md", Data("labels".utf8)), ("model.onnx", Data(TestONNXModels.linearClassifier)),
                ]))
            #expect(pushed.status == .created, "\(String(buffer: pushed.body))")
        }
        let session = try await fixture.adminSession()
        #expect(try await session.models().map(\.name) == ["linear"])
        let extensions = try await session.modelExtensions(ModelReference(parsing: "linear@1"))
        guard case .object(let signature) = extensions["onnxSignature"] else {
            Issue.record("no ONNX signature in \(extensions)")
            return
        }
        #expect(signature["format"] == .string("onnx"))
    }

    /// The attack, over the permission matrix: every role's token on every stream route is allowed exactly when
    /// the matrix grants the route's action; no token and a forged token get 401; a principal scoped to
    /// `alpha` is refused on `beta`. Each refusal is audited under the caller.
    @Test func everyStreamRouteFollowsThePermissionMatrix() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let admin = try await fixture.adminSession()
        _ = try await admin.pushModel("alpha", from: .files(["model.json": Data("{}".utf8)]))
        _ = try await admin.pushModel("beta", from: .files(["model.json": Data("{}".utf8)]))
        _ = try await admin.addDataset("alpha", contents: ["rows.csv": Data("1\n".utf8)])
        _ = try await admin.addDataset("beta", contents: ["rows.csv": Data("1\n".utf8)])
        try await admin.addPrincipal("scoped", binding: RoleBinding(role: .dataScientist, scope: .model("alpha")))
        try await admin.grant(RoleBinding(role: .dataScientist, scope: .dataset("alpha")), to: "scoped")
        let scoped = try await admin.createToken(for: "scoped").token
        let recipient = AgeX25519Identity.generate().recipient.encoded
        // Without `model.pull` (devops) a re-wrap is only for a recorded deployment identity of the model: make it
        // the identity of a deployment of both.
        try await fixture.push("bc", epochs: 5)
        let bundles = FileManager.default.temporaryDirectory.appending(path: "pod-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: bundles) }
        try await admin.writeServingBundle(
            [
                try ModelReference(name: "bc", selector: .alias("production")),
                try ModelReference(parsing: "alpha@1"), try ModelReference(parsing: "beta@1"),
            ], for: recipient, deployment: "pod", to: bundles, registeredAs: "pod")
        let upload = FileStreamCodec.encode([("model.json", Data("{}".utf8))])
        let dataUpload = FileStreamCodec.encode([("rows.csv", Data("2\n".utf8))])
        // (method, path for a resource name, body, vault action)
        let routes: [(HTTPRequest.Method, @Sendable (String) -> String, ByteBuffer?, Action)] = [
            (.post, { "/v1/models/\($0)/upload" }, upload, .modelPush),
            (.get, { "/v1/models/\($0)/versions/1/download?recipient=\(recipient)" }, nil, .modelPullRewrapped),
            (.post, { "/v1/datasets/\($0)/upload" }, dataUpload, .dataAdd),
            (.get, { "/v1/datasets/\($0)/versions/1/download" }, nil, .dataGet),
        ]
        let forged = String(fixture.tokens[.admin]!.dropLast()) + (fixture.tokens[.admin]!.hasSuffix("a") ? "b" : "a")
        try await withConfiguredApplication(fixture) { client in
            for (method, path, body, action) in routes {
                let alpha = path("alpha")
                for role in Role.allCases {
                    let response = try await client.stream(method, alpha, token: fixture.tokens[role], body: body)
                    let allowed = PermissionMatrix.allows(role, action)
                    #expect(
                        allowed ? (200..<300).contains(response.status.code) : response.status == .forbidden,
                        "\(role) \(method) \(alpha): \(response.status) \(String(buffer: response.body))")
                }
                for token in [nil, forged, "not-a-token"] {
                    let response = try await client.stream(method, alpha, token: token, body: body)
                    #expect(response.status == .unauthorized, "\(method) \(alpha) with \(token ?? "no token")")
                }
                let inScope = try await client.stream(method, alpha, token: scoped, body: body)
                #expect((200..<300).contains(inScope.status.code), "scoped \(method) \(alpha): \(inScope.status)")
                let outOfScope = try await client.stream(method, path("beta"), token: scoped, body: body)
                #expect(outOfScope.status == .forbidden, "scoped \(method) \(path("beta")): \(outOfScope.status)")
            }
        }
        let refusals = try AuditLogReader(directory: fixture.root.appending(path: "audit")).tail(400).map(\.entry)
            .filter { $0.principal == "scoped" && $0.outcome == .denied }
        #expect(refusals.count >= routes.count)
    }
}

extension JSONDecoder {
    static var iso: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
