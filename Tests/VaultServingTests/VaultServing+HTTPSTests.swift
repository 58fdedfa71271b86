import AccessControl
import AsyncHTTPClient
import AuditLog
import Foundation
import MLCore
import NIOHTTP1
import Testing
import Vault
import VaultCrypto
import VaultServer
import VaultServing

/// The server over a real vault, driven over HTTPS: the role matrix, verified loading, alias moves, audit
/// and the registry API.
@Suite(.serialized) struct VaultServingHTTPSTests {
    /// Each route with the roles the README's matrix allows (besides admin, which may do everything).
    /// Every role but audit-writer, whose token appends audit entries and reads nothing (not even metadata).
    static let readers = Set(Role.allCases).subtracting([.auditWriter])
    static let routes: [(method: HTTPMethod, path: String, body: String?, allowed: Set<Role>)] = [
        (.GET, "/v2", nil, readers),
        (.GET, "/v2/models/bc", nil, readers),
        (.GET, "/v2/models/bc/ready", nil, readers),
        (.POST, "/v2/models/bc/infer", "ROWS", [.admin, .mlEngineer, .devops]),
        (.GET, "/metrics", nil, [.admin, .devops, .securityEngineer]),
        (.GET, "/v1/models", nil, readers),
        (.GET, "/v1/models/bc", nil, readers),
        (.GET, "/v1/datasets", nil, readers),
        (.GET, "/v1/audit", nil, [.admin, .securityEngineer, .complianceOfficer]),
        (.GET, "/v1/report?format=md", nil, [.admin, .securityEngineer, .complianceOfficer]),
        (.PUT, "/v1/models/bc/aliases/staging", #"{"version":"1"}"#, [.admin, .devops]),
    ]

    @Test func everyRouteAndRoleIsAllowedOrRefusedAsTheMatrixSays() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let (_, _, dataset) = try await fixture.push("bc")
        let body = inferenceBody(rows: rows(of: dataset, 0..<2))
        try await withVaultApplication(fixture) { live in
            for route in Self.routes {
                let payload = route.body == "ROWS" ? body : route.body
                let anonymous = try await live.send(route.method, route.path, token: nil, body: payload)
                #expect(anonymous.status == 401, "\(route.path) without a token")
                let bogus = try await live.send(route.method, route.path, token: "mvt_notARealToken", body: payload)
                #expect(bogus.status == 401, "\(route.path) with an unknown token")
                for role in Role.allCases {
                    let response = try await live.send(
                        route.method, route.path, token: fixture.tokens[role], body: payload)
                    let expected = route.allowed.contains(role) ? 200 : 403
                    #expect(response.status == expected, "\(route.method) \(route.path) as \(role.rawValue)")
                    if expected == 403 { #expect(response.body.contains(#""error""#)) }
                }
            }
        }
    }

    @Test func inferenceOverHTTPSMatchesPredict() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let (model, info, dataset) = try await fixture.push("bc")
        let sample = rows(of: dataset, 0..<25)
        let expected = try model.predict(rows: sample)
        try await withVaultApplication(fixture) { live in
            let metadata = try await live.send(.GET, "/v2/models/bc", token: fixture.tokens[.mlEngineer])
            let parsed = try #require(JSONSerialization.jsonObject(with: Data(metadata.body.utf8)) as? [String: Any])
            #expect(parsed["versions"] as? [String] == [String(info.version)])
            let inputs = try #require(parsed["inputs"] as? [[String: Any]])
            #expect(inputs.first?["name"] as? String == "input")
            #expect(inputs.first?["shape"] as? [Int] == [-1, 30])

            let response = try await live.send(
                .POST, "/v2/models/bc/infer", token: fixture.tokens[.mlEngineer], body: inferenceBody(rows: sample))
            try #require(response.status == 200, "\(response.body)")
            let outputs = try Self.outputs(response.body)
            #expect(outputs["class"]?.map { Int($0) } == expected.map(\.classIndex))
            let probabilities = try #require(outputs["probabilities"])
            #expect(probabilities.count == expected.count * 2)
            for (index, prediction) in expected.enumerated() {
                for (column, p) in prediction.probabilities.enumerated() {
                    #expect(abs(Double(p) - probabilities[index * 2 + column]) < 1e-6)
                }
            }
            let wrongWidth = try await live.send(
                .POST, "/v2/models/bc/infer", token: fixture.tokens[.mlEngineer],
                body: inferenceBody(rows: [[1, 2, 3]]))
            #expect(wrongWidth.status == 400)
            #expect(wrongWidth.body.contains(#""error""#))
        }
    }

    @Test func movingTheAliasServesTheNewVersionWithoutARestart() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let (_, first, dataset) = try await fixture.push("bc")
        try await withVaultApplication(fixture) { live in
            let body = inferenceBody(rows: rows(of: dataset, 0..<1))
            let before = try await live.send(.POST, "/v2/models/bc/infer", token: fixture.tokens[.devops], body: body)
            #expect(before.body.contains(#""model_version":"\#(first.version)""#))
            let (_, second, _) = try await fixture.push("bc", epochs: 5, seed: 99)
            let moved = try await eventually {
                let now = try await live.send(.POST, "/v2/models/bc/infer", token: fixture.tokens[.devops], body: body)
                return now.body.contains(#""model_version":"\#(second.version)""#)
            }
            #expect(moved, "the server still answers with version \(first.version)")
        }
    }

    @Test func aTamperedVersionIsNeverServed() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let (_, first, dataset) = try await fixture.push("bc")
        let (_, second, _) = try await fixture.push("bc", epochs: 5, seed: 3, alias: nil)
        // Flip one byte in the middle of every stored blob of the second version.
        let blobs = try #require(FileManager.default.enumerator(at: fixture.root, includingPropertiesForKeys: nil))
            .compactMap { $0 as? URL }
            .filter { $0.path.contains("/models/encrypted/bc/\(second.version)/") && $0.pathExtension == "age" }
        try #require(!blobs.isEmpty)
        for blob in blobs {
            var bytes = try Data(contentsOf: blob)
            bytes[bytes.count / 2] ^= 0x01
            try bytes.write(to: blob)
        }
        try await withVaultApplication(fixture) { live in
            let body = inferenceBody(rows: rows(of: dataset, 0..<1))
            let token = fixture.tokens[.devops]
            #expect(try await live.send(.POST, "/v2/models/bc/infer", token: token, body: body).status == 200)
            try await fixture.adminSession().setAlias(
                "production", to: ModelReference(name: "bc", selector: .version(second.version)))
            let refused = try await eventually {
                try await live.send(.GET, "/v2/models/bc/ready", token: token).status != 200
            }
            #expect(refused, "a tampered version became ready")
            let infer = try await live.send(.POST, "/v2/models/bc/infer", token: token, body: body)
            #expect(infer.status != 200)
            #expect(!infer.body.contains(#""model_version":"\#(second.version)""#))
            _ = first
        }
        let entries = try AuditLogReader(directory: fixture.root.appending(path: "audit")).entries().map { $0.1 }
        #expect(
            entries.contains {
                $0.action == "model.load" && $0.outcome == .failed && $0.resource == "model:bc@\(second.version)"
            })
    }

    @Test func everyRequestIsAuditedWithItsRequestIDAndNoToken() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let (_, _, dataset) = try await fixture.push("bc")
        var requestIDs: [String: String] = [:]
        try await withVaultServer(fixture) { live in
            let body = inferenceBody(rows: rows(of: dataset, 0..<1))
            let denied = try await live.send(
                .POST, "/v2/models/bc/infer", token: fixture.tokens[.dataScientist], body: body)
            #expect(denied.status == 403)
            requestIDs["denied"] = denied.headers.first(name: "X-Request-ID")
            let allowed = try await live.send(
                .POST, "/v2/models/bc/infer", token: fixture.tokens[.mlEngineer], body: body)
            #expect(allowed.status == 200)
            requestIDs["allowed"] = allowed.headers.first(name: "X-Request-ID")
            let anonymous = try await live.send(.GET, "/v2/models/bc", token: nil)
            requestIDs["anonymous"] = anonymous.headers.first(name: "X-Request-ID")
        }
        try await fixture.access.checkpoint()
        let entries = try AuditLogReader(directory: fixture.root.appending(path: "audit")).entries().map { $0.1 }
        let denied = try #require(entries.first { $0.requestID == requestIDs["denied"] })
        #expect(denied.principal == "user-data-scientist")
        #expect(denied.action == "model.infer")
        #expect(denied.outcome == .denied)
        #expect(denied.resource == "model:bc")
        #expect(denied.clientAddress?.contains("127.0.0.1") == true)
        let allowed = try #require(entries.first { $0.requestID == requestIDs["allowed"] })
        #expect(allowed.principal == "user-ml-engineer")
        #expect(allowed.outcome == .allowed)
        let anonymous = try #require(entries.first { $0.requestID == requestIDs["anonymous"] })
        #expect(anonymous.principal == "anonymous")
        #expect(anonymous.outcome == .denied)
        // No token, in any form, anywhere in the vault.
        let files = try #require(FileManager.default.enumerator(at: fixture.root, includingPropertiesForKeys: nil))
            .compactMap { $0 as? URL }
        for file in files {
            guard let data = try? Data(contentsOf: file) else { continue }
            for token in fixture.tokens.values {
                #expect(data.range(of: Data(token.utf8)) == nil, "a token is stored in \(file.lastPathComponent)")
            }
        }
        let report = try await fixture.adminSession().verifyAuditLog()
        #expect(report.isValid)
    }

    @Test func pullOverTheAPIReWrapsForTheCallersRecipientAndPushServes() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let (model, info, dataset) = try await fixture.push("bc")
        let identity = AgeX25519Identity.generate()
        // Devops (no `model.pull`) re-wraps only for a deployment identity the vault recorded (review 4, F1).
        let bundles = FileManager.default.temporaryDirectory.appending(path: "pod-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: bundles) }
        try await fixture.adminSession().writeServingBundle(
            [try ModelReference(name: "bc", selector: .alias("production"))], for: identity.recipient.encoded,
            deployment: "pod", to: bundles, registeredAs: "pod")
        try await withVaultApplication(fixture) { live in
            let pull = try await live.send(
                .POST, "/v1/models/bc/versions/production/pull", token: fixture.tokens[.devops],
                body: #"{"recipient":"\#(identity.recipient.encoded)"}"#)
            try #require(pull.status == 200, "\(pull.body)")
            let pulled = try JSONDecoder().decode(PulledModel.self, from: Data(pull.body.utf8))
            #expect(pulled.version == String(info.version))
            #expect(pulled.signature != nil)
            let expected = try model.files()
            #expect(Set(pulled.files.keys) == Set(expected.keys))
            for (name, sealed) in pulled.files {
                #expect(sealed.range(of: expected[name]!.prefix(64)) == nil, "\(name) is not encrypted")
                #expect(try Age.decrypt(sealed, using: [identity]) == expected[name], "\(name)")
            }
            let badRecipient = try await live.send(
                .POST, "/v1/models/bc/versions/1/pull", token: fixture.tokens[.dataScientist],
                body: #"{"recipient":"age1nope"}"#)
            #expect(badRecipient.status == 400)

            // A data scientist may push but not promote: asking for an alias is refused and pushes nothing.
            let retrained = try Trainer.train(
                dataset,
                options: {
                    var o = TrainingOptions(kind: .logistic); o.epochs = 3; return o
                }()
            ).model
            let push = try JSONEncoder().encode(PushModelRequest(files: try retrained.files(), alias: "production"))
            let refused = try await live.send(
                .POST, "/v1/models/bc/versions", token: fixture.tokens[.dataScientist],
                body: String(decoding: push, as: UTF8.self))
            #expect(refused.status == 403, "\(refused.body)")
            #expect(try await fixture.adminSession().modelVersions("bc").count == 1)
            // An admin pushes a new version over the API and names it production; it is then served.
            let pushed = try await live.send(
                .POST, "/v1/models/bc/versions", token: fixture.tokens[.admin],
                body: String(decoding: push, as: UTF8.self))
            try #require(pushed.status == 200 || pushed.status == 201, "\(pushed.body)")
            let body = inferenceBody(rows: rows(of: dataset, 0..<1))
            let served = try await eventually {
                try await live.send(.POST, "/v2/models/bc/infer", token: fixture.tokens[.devops], body: body).body
                    .contains(#""model_version":"2""#)
            }
            #expect(served)
        }
    }

    @Test func listsShowOnlyWhatAScopedPrincipalMaySee() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let admin = try await fixture.adminSession()
        for name in ["alpha", "beta"] {
            _ = try await admin.pushModel(name, from: .files(["weights.bin": Data([1, 2, 3])]))
            _ = try await admin.addDataset(name, contents: ["rows.csv": Data("x,y\n1,2\n".utf8)])
        }
        try await admin.addPrincipal(
            "scoped", binding: RoleBinding(role: .mlEngineer, scope: try Scope("model:alpha")))
        try await admin.grant(RoleBinding(role: .dataScientist, scope: try Scope("dataset:beta")), to: "scoped")
        let token = try await admin.createToken(for: "scoped").token
        try await withVaultApplication(fixture) { live in
            let models = try await live.send(.GET, "/v1/models", token: token)
            #expect(models.status == 200)
            #expect(models.body.contains("alpha") && !models.body.contains("beta"), "\(models.body)")
            let datasets = try await live.send(.GET, "/v1/datasets", token: token)
            #expect(datasets.status == 200)
            #expect(datasets.body.contains("beta") && !datasets.body.contains("alpha"), "\(datasets.body)")
            // A global binding still sees everything.
            let all = try await live.send(.GET, "/v1/models", token: fixture.tokens[.mlEngineer])
            #expect(all.body.contains("alpha") && all.body.contains("beta"))
        }
    }

    static func outputs(_ body: String) throws -> [String: [Double]] {
        let parsed = try #require(JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        let outputs = try #require(parsed["outputs"] as? [[String: Any]])
        var result: [String: [Double]] = [:]
        for output in outputs {
            let name = try #require(output["name"] as? String)
            result[name] = (output["data"] as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue }
        }
        return result
    }
}
