import AccessControl
import AuditLog
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SampleData
import Testing
import Vault
import VaultServer
import VaultServing

/// The CLI's remaining commands over the server (#14): model verify, data show, keys, users, roles, tokens, the
/// audit log and the append-audit route, each one row of the route table, authorised and audited.
@Suite struct VaultServingRemoteCommandsTests {
    /// A request of the table: method, path, JSON body, and the vault action that decides it.
    struct Call: Sendable, CustomStringConvertible {
        var method: HTTPRequest.Method
        var path: String
        var body: String?
        var action: Action
        var description: String { "\(method) \(path)" }
    }

    static let calls: [Call] = [
        Call(method: .post, path: "/v1/models/alpha/versions/1/verify", action: .modelVerify),
        Call(method: .get, path: "/v1/datasets/alpha/versions/1", action: .dataShow),
        Call(method: .get, path: "/v1/keys", action: .keysList),
        Call(method: .post, path: "/v1/keys/rotate", body: #"{"reencrypt":false}"#, action: .keysRotate),
        Call(method: .get, path: "/v1/principals", action: .userList),
        Call(
            method: .post, path: "/v1/principals", body: #"{"name":"new-user","binding":"devops"}"#, action: .userManage
        ),
        Call(method: .delete, path: "/v1/principals/nobody", action: .userManage),
        Call(method: .put, path: "/v1/principals/nobody/roles/devops", action: .roleManage),
        Call(method: .delete, path: "/v1/principals/nobody/roles/devops", action: .roleManage),
        Call(method: .get, path: "/v1/tokens", action: .tokenList),
        Call(method: .post, path: "/v1/tokens", body: #"{"expiresIn":60}"#, action: .tokenCreateOwn),
        Call(method: .post, path: "/v1/principals/nobody/tokens", body: "{}", action: .tokenCreate),
        // Nobody owns this id, so revoking it is revoking another's token.
        Call(method: .delete, path: "/v1/tokens/0000000000000000", action: .tokenRevoke),
        Call(method: .get, path: "/v1/audit/tail?count=3", action: .auditRead),
        Call(method: .post, path: "/v1/audit/verify", action: .auditVerify),
        Call(method: .get, path: "/v1/audit/proofs/0", action: .auditRead),
        // `audit tail --follow`'s cursor poll and `audit verify --trusted`'s evidence (same actions as their siblings).
        Call(method: .get, path: "/v1/audit/tail?from=0&count=3&wait=0", action: .auditRead),
        Call(method: .get, path: "/v1/audit/checkpoint?trusted=1", action: .auditVerify),
        Call(
            method: .post, path: "/v1/audit/entries",
            body: #"{"action":"model.load","resource":"model:alpha@1","outcome":"allowed"}"#, action: .auditAppend),
        // Server-side ML on the fixture's placeholder model and one-column dataset: past authorisation they fail
        // as invalid input (400), never 401/403/5xx.
        Call(
            method: .post, path: "/v1/datasets/alpha/train", body: #"{"model":"trained","label":"label"}"#,
            action: .train),
        Call(
            method: .post, path: "/v1/models/alpha/versions/1/evaluate", body: #"{"dataset":"alpha"}"#,
            action: .evaluate),
        Call(method: .post, path: "/v1/models/alpha/versions/1/predict", body: #"{"csv":"a\n1\n"}"#, action: .predict),
        Call(method: .get, path: "/v1/whoami", action: .whoami),
    ]

    static func prepared() async throws -> ServingFixture {
        let fixture = try await ServingFixture.make()
        let admin = try await fixture.adminSession()
        _ = try await admin.pushModel("alpha", from: .files(["model.json": Data("{}".utf8)]))
        _ = try await admin.pushModel("beta", from: .files(["model.json": Data("{}".utf8)]))
        _ = try await admin.addDataset("alpha", contents: ["rows.csv": Data("1\n".utf8)])
        _ = try await admin.addDataset("beta", contents: ["rows.csv": Data("1\n".utf8)])
        return fixture
    }

    /// The attack, over the permission matrix: each role's token on each route is refused with 403 exactly when
    /// the matrix does not grant the route's action (and never gets past the gateway or the session otherwise);
    /// no token, a forged token and a malformed one get 401 on every route.
    @Test func everyRemoteCommandFollowsThePermissionMatrix() async throws {
        let fixture = try await Self.prepared()
        defer { Task { await fixture.remove() } }
        let admin = fixture.tokens[.admin]!
        let forged = String(admin.dropLast()) + (admin.hasSuffix("a") ? "b" : "a")
        try await withConfiguredApplication(fixture) { client in
            for call in Self.calls {
                for role in Role.allCases {
                    let response = try await client.json(call, token: fixture.tokens[role])
                    if PermissionMatrix.allows(role, call.action) {
                        #expect(
                            ![401, 403].contains(response.status.code) && response.status.code < 500,
                            "\(role) \(call): \(response.status) \(String(buffer: response.body))")
                    } else {
                        #expect(response.status == .forbidden, "\(role) \(call): \(response.status)")
                        #expect(String(buffer: response.body) == #"{"error":"permission denied"}"#)
                    }
                }
                for token in [nil, forged, "not-a-token"] {
                    let response = try await client.json(call, token: token)
                    #expect(response.status == .unauthorized, "\(call) with \(token == nil ? "no" : "a bad") token")
                }
            }
        }
    }

    /// The attack: principals scoped to `alpha` reach `alpha` and nothing else; a scoped binding grants no
    /// vault-wide action (keys, audit, users), even of a role that holds it globally.
    @Test func aScopedPrincipalStaysInsideItsScope() async throws {
        let fixture = try await Self.prepared()
        defer { Task { await fixture.remove() } }
        let admin = try await fixture.adminSession()
        try await admin.addPrincipal("scoped", binding: RoleBinding(role: .dataScientist, scope: .model("alpha")))
        try await admin.grant(RoleBinding(role: .dataScientist, scope: .dataset("alpha")), to: "scoped")
        try await admin.grant(RoleBinding(role: .securityEngineer, scope: .model("alpha")), to: "scoped")
        let scoped = try await admin.createToken(for: "scoped").token
        try await withConfiguredApplication(fixture) { client in
            let inside = [
                Call(method: .post, path: "/v1/models/alpha/versions/1/verify", action: .modelVerify),
                Call(method: .get, path: "/v1/datasets/alpha/versions/1", action: .dataShow),
            ]
            for call in inside {
                let response = try await client.json(call, token: scoped)
                #expect(response.status == .ok, "\(call): \(response.status) \(String(buffer: response.body))")
            }
            let outside = [
                Call(method: .post, path: "/v1/models/beta/versions/1/verify", action: .modelVerify),
                Call(method: .get, path: "/v1/datasets/beta/versions/1", action: .dataShow),
                Call(method: .get, path: "/v1/keys", action: .keysList),
                Call(method: .get, path: "/v1/audit/tail", action: .auditRead),
                Call(method: .get, path: "/v1/principals", action: .userList),
                Call(method: .get, path: "/v1/tokens", action: .tokenList),
            ]
            for call in outside {
                let response = try await client.json(call, token: scoped)
                #expect(response.status == .forbidden, "\(call): \(response.status)")
            }
        }
    }

    /// The attack: a token cannot outlive itself by issuing a longer-lived one over the server, as in local mode.
    @Test func aSelfIssuedTokenNeverOutlivesThePresentedOne() async throws {
        let fixture = try await Self.prepared()
        defer { Task { await fixture.remove() } }
        let admin = try await fixture.adminSession()
        let short = try await admin.createToken(for: "user-devops", lifetime: 3600)
        let parentExpiry = try #require(short.info.expiresAt)
        try await withConfiguredApplication(fixture) { client in
            let response = try await client.json(
                Call(method: .post, path: "/v1/tokens", body: #"{"expiresIn":8640000}"#, action: .tokenCreateOwn),
                token: short.token)
            #expect(response.status == .created, "\(String(buffer: response.body))")
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
            let info = try #require(object["info"] as? [String: Any])
            #expect(info["expiresAt"] as? String == parentExpiry)
            #expect(info["principal"] as? String == "user-devops")
            #expect((object["token"] as? String)?.isEmpty == false)
        }
    }

    /// The attack: a serving pod's token appends an entry; it is recorded under the pod's own principal whatever
    /// the body claims, and actions outside the vocabulary, bad outcomes, control characters and oversized bodies
    /// are refused without an entry.
    @Test func anAppendedEntryIsBoundedAndCannotForgeAnotherPrincipal() async throws {
        let fixture = try await Self.prepared()
        defer { Task { await fixture.remove() } }
        let devops = fixture.tokens[.devops]!
        @Sendable func append(_ body: String) -> Call {
            Call(method: .post, path: "/v1/audit/entries", body: body, action: .auditAppend)
        }
        try await withConfiguredApplication(fixture) { client in
            let recorded = try await client.json(
                append(
                    #"{"action":"model.load","resource":"model:alpha@1","outcome":"allowed","principal":"admin","detail":"loaded"}"#
                ), token: devops)
            #expect(recorded.status == .created, "\(String(buffer: recorded.body))")
            let namespaced = try await client.json(
                append(#"{"action":"serving.start","resource":"pod:a","outcome":"allowed"}"#), token: devops)
            #expect(namespaced.status == .created)
            let hostile = [
                #"{"action":"token.create","resource":"principal:admin","outcome":"allowed"}"#,
                #"{"action":"serving.","resource":"x","outcome":"allowed"}"#,
                #"{"action":"serving.Start","resource":"x","outcome":"allowed"}"#,
                #"{"action":"model.load","resource":"x","outcome":"maybe"}"#,
                #"{"action":"model.load","resource":"a\nforged entry","outcome":"allowed"}"#,
                #"{"action":"model.load","resource":"","outcome":"allowed"}"#,
                #"{"action":"model.load","resource":"x","outcome":"allowed","detail":"\#(String(repeating: "d", count: 1025))"}"#,
                #"{"action":"model.load"}"#,
            ]
            for body in hostile {
                let refused = try await client.json(append(body), token: devops)
                #expect(refused.status == .badRequest, "\(body.prefix(80)): \(refused.status)")
            }
            let huge = try await client.json(
                append(
                    #"{"action":"model.load","resource":"x","outcome":"allowed","detail":""#
                        + String(repeating: "d", count: 8000) + "\"}"), token: devops)
            #expect(huge.status == .contentTooLarge)
        }
        let entries = try AuditLogReader(directory: fixture.root.appending(path: "audit")).tail(200).map(\.entry)
        let loads = entries.filter { $0.action == "model.load" || $0.action.hasPrefix("serving.") }
        #expect(loads.map(\.principal) == ["user-devops", "user-devops"])
        #expect(loads.first?.resource == "model:alpha@1" && loads.first?.detail == "loaded")
        #expect(!entries.contains { $0.action == "token.create" && $0.principal == "user-devops" })
    }

    /// The commands' answers: verify, tail, verify the log, prove an entry, list keys and tokens; a tampered
    /// blob fails `model verify` with 422.
    @Test func remoteCommandsAnswerWithTheirRecords() async throws {
        let fixture = try await Self.prepared()
        defer { Task { await fixture.remove() } }
        let admin = fixture.tokens[.admin]!
        try await withConfiguredApplication(fixture) { client in
            func get(_ method: HTTPRequest.Method, _ path: String, _ body: String? = nil) async throws -> TestResponse {
                try await client.json(Call(method: method, path: path, body: body, action: .auditRead), token: admin)
            }
            let verified = try await get(.post, "/v1/models/alpha/versions/1/verify")
            #expect(verified.status == .ok && String(buffer: verified.body).contains(#""name":"alpha""#))
            let tail = try await get(.get, "/v1/audit/tail?count=3")
            let entries = try #require(try JSONSerialization.jsonObject(with: Data(buffer: tail.body)) as? [Any])
            #expect(entries.count == 3)
            #expect(try await get(.get, "/v1/audit/tail?count=0").status == .badRequest)
            let log = try await get(.post, "/v1/audit/verify")
            #expect(
                log.status == .ok && String(buffer: log.body).contains(#""ok":true"#), "\(String(buffer: log.body))")
            #expect(try await get(.get, "/v1/audit/proofs/0").status == .ok)
            #expect(try await get(.get, "/v1/audit/proofs/999999").status.code >= 400)
            #expect(String(buffer: try await get(.get, "/v1/keys").body).contains(#""version":1"#))
            let users = try await get(.post, "/v1/principals", #"{"name":"carol","binding":"ml-engineer@model:alpha"}"#)
            #expect(users.status == .created, "\(String(buffer: users.body))")
            #expect(try await get(.put, "/v1/principals/carol/roles/devops").status == .ok)
            #expect(try await get(.put, "/v1/principals/carol/roles/wizard").status == .badRequest)
            #expect(String(buffer: try await get(.get, "/v1/principals").body).contains(#""scope":"model:alpha""#))
            #expect(try await get(.delete, "/v1/principals/carol/roles/devops").status == .ok)
            #expect(try await get(.delete, "/v1/principals/carol").status == .ok)
        }
        // Tamper with a stored blob: the remote verify reports an integrity failure.
        let blobs = FileManager.default.enumerator(atPath: fixture.root.path)!.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".age") && !$0.contains("keys") }
        for blob in blobs {
            let url = fixture.root.appending(path: blob)
            var bytes = try Data(contentsOf: url)
            bytes[bytes.count - 1] ^= 0x01
            try bytes.write(to: url)
        }
        try await withConfiguredApplication(fixture) { client in
            let tampered = try await client.json(
                Call(method: .post, path: "/v1/models/alpha/versions/1/verify", action: .modelVerify), token: admin)
            #expect(tampered.status == .unprocessableContent, "\(String(buffer: tampered.body))")
        }
    }
}

extension TestClientProtocol {
    /// Sends a table call with `token`.
    func json(_ call: VaultServingRemoteCommandsTests.Call, token: String?) async throws -> TestResponse {
        var fields = HTTPFields()
        if let token { fields[.authorization] = "Bearer \(token)" }
        if call.body != nil { fields[.contentType] = "application/json" }
        return try await execute(
            uri: call.path, method: call.method, headers: fields, body: call.body.map { ByteBuffer(string: $0) })
    }
}

/// Server-side train, evaluate and predict (#14) on data the server decrypts in memory.
@Suite struct VaultServingJobsTests {
    @Test func aDataScientistTrainsEvaluatesAndPredictsThroughTheServer() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let csv = try Data(contentsOf: SampleData.breastCancerCSV)
        _ = try await fixture.adminSession().addDataset("cancer", contents: ["rows.csv": csv])
        let scientist = fixture.tokens[.dataScientist]!
        try await withConfiguredApplication(fixture) { client in
            let trained = try await client.json(
                .init(
                    method: .post, path: "/v1/datasets/cancer/train",
                    body: #"{"model":"remote","label":"benign","options":{"kind":"logistic","epochs":3}}"#,
                    action: .train), token: scientist)
            #expect(trained.status == .created, "\(String(buffer: trained.body))")
            #expect(String(buffer: trained.body).contains(#""accuracy""#))
            let evaluated = try await client.json(
                .init(
                    method: .post, path: "/v1/models/remote/versions/1/evaluate", body: #"{"dataset":"cancer"}"#,
                    action: .evaluate), token: scientist)
            #expect(evaluated.status == .ok, "\(String(buffer: evaluated.body))")
            let header = String(decoding: csv.prefix { $0 != 0x0A }, as: UTF8.self)
            let firstRow = String(decoding: csv.split(separator: 0x0A)[1], as: UTF8.self)
            let body = try String(
                decoding: JSONEncoder().encode(PredictRequest(csv: header + "\n" + firstRow + "\n")), as: UTF8.self)
            let predicted = try await client.json(
                .init(method: .post, path: "/v1/models/remote/versions/1/predict", body: body, action: .predict),
                token: scientist)
            #expect(predicted.status == .ok, "\(String(buffer: predicted.body))")
            #expect(String(buffer: predicted.body).contains(#""csv""#))
            // devops holds neither train nor predict.
            let refused = try await client.json(
                .init(method: .post, path: "/v1/models/remote/versions/1/predict", body: body, action: .predict),
                token: fixture.tokens[.devops])
            #expect(refused.status == .forbidden)
        }
        let lineage = try await fixture.adminSession().model(ModelReference(parsing: "remote@1")).lineage
        #expect(lineage.map(\.dataset) == ["cancer"])
    }
}
