import AccessControl
import AuditLog
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import Vault
import VaultClient
import VaultServing

@testable import VaultServer

/// Issue #19: the serving pod's audit trail goes to the vault's log through `POST /v1/audit/entries`, with a
/// token that can do nothing else.
@Suite struct VaultServingPodAuditTests {
    /// Every route of the table with its parameters filled in, and a JSON body for the ones that take one.
    static func concreteRequests() -> [(route: ServerRoute, path: String)] {
        let values = [
            "model": "alpha", "dataset": "alpha", "version": "1", "alias": "production", "principal": "nobody",
            "role": "devops", "token": "0000000000000000", "tokenID": "0000000000000000", "index": "0",
        ]
        return ServerRoute.all.map { route in
            let path = route.segments.map { segment -> String in
                guard segment.hasPrefix("{"), segment.hasSuffix("}") else { return String(segment) }
                return values[String(segment.dropFirst().dropLast())] ?? "x"
            }
            return (route, "/" + path.joined(separator: "/"))
        }
    }

    /// The routes (other than `audit.append` and the open ones) on which `token` is not refused with 403.
    static func routesReached(with token: String, _ fixture: ServingFixture) async throws -> [String] {
        try await withConfiguredApplication(fixture) { client in
            var reached: [String] = []
            for (route, path) in Self.concreteRequests() where route.action != nil && route.action != .appendAudit {
                var fields = HTTPFields()
                fields[.authorization] = "Bearer \(token)"
                var body: ByteBuffer?
                if route.method == .post || route.method == .put {
                    fields[.contentType] = "application/json"
                    body = ByteBuffer(string: "{}")
                }
                let response = try await client.execute(
                    uri: path, method: route.method, headers: fields, body: body)
                if response.status != .forbidden {
                    reached.append("\(route.method) \(route.template) \(response.status.code)")
                }
            }
            return reached
        }
    }

    /// The attack: a compromised pod uses its audit token for anything else. Before this change the only role
    /// with `audit.append` below admin was devops, whose token also moves aliases, pulls re-wrapped models and
    /// runs inference; the audit-writer role's token gets 403 on every route but the append.
    @Test func theAuditWriterTokenIsRefusedOnEveryOtherRoute() async throws {
        let fixture = try await VaultServingRemoteCommandsTests.prepared()
        defer { Task { await fixture.remove() } }
        let reached = try await Self.routesReached(with: fixture.tokens[.auditWriter]!, fixture)
        #expect(reached.isEmpty, "the audit-writer token reached: \(reached)")
        let devops = try await Self.routesReached(with: fixture.tokens[.devops]!, fixture)
        #expect(!devops.isEmpty, "devops (the role a pod would otherwise need) reaches other routes")
        try await withConfiguredApplication(fixture) { client in
            var fields = HTTPFields()
            fields[.authorization] = "Bearer \(fixture.tokens[.auditWriter]!)"
            fields[.contentType] = "application/json"
            let response = try await client.execute(
                uri: "/v1/audit/entries", method: .post, headers: fields,
                body: ByteBuffer(string: #"{"action":"model.infer","resource":"model:alpha@1","outcome":"allowed"}"#))
            #expect(response.status == .created)
            let batch = try await client.execute(
                uri: "/v1/audit/batches", method: .post, headers: fields,
                body: ByteBuffer(
                    string:
                        #"{"entries":[{"action":"model.infer","resource":"model:alpha@1","outcome":"allowed","id":"b-1"},"#
                        + #"{"action":"model.load","resource":"model:alpha@1","outcome":"allowed","id":"b-2"}]}"#))
            #expect(batch.status == .created)
            let result = try JSONDecoder().decode(
                AppendAuditBatchResult.self, from: Data(String(buffer: batch.body).utf8))
            #expect(result.recorded == 2)
        }
    }

    /// A pod's entries reach the vault's log over TLS through the forwarder, under the pod's principal, with the
    /// caller it served in the detail; the vault's log verifies afterwards.
    @Test func aPodsEntriesReachTheVaultsLogUnderItsOwnPrincipal() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        try await withVaultServer(fixture) { live in
            let configuration = try VaultClientConfiguration(
                server: live.base, trustedCertificatesPEM: live.server.selfSignedCertificatePEM,
                token: fixture.tokens[.auditWriter]!)
            let forwarder = AuditForwarder(capacity: 100, initialBackoff: .milliseconds(20))
            let entries = [
                AuditEntry(
                    principal: "server", action: "model.load", resource: "model:bc@3", outcome: .allowed,
                    requestID: "load-1", detail: "verified from the serving bundle"),
                AuditEntry(
                    principal: "user-ml", action: "model.infer", resource: "model:bc", outcome: .allowed,
                    requestID: "req-7", clientAddress: "10.0.0.9", detail: "POST /v2/models/{model}/infer 200"),
                AuditEntry(
                    principal: "anonymous", action: "server.request", resource: "server", outcome: .denied,
                    requestID: "req-8", detail: "GET /metrics 401"),
            ]
            for entry in entries { await forwarder.enqueue(BundleAuditLog.appendRequest(for: entry)) }
            let task = Task {
                try await VaultClient.with(configuration) { client in await forwarder.run(client: client) }
            }
            let session = try await fixture.adminSession()
            let arrived = try await eventually(seconds: 30) {
                let tail = try await session.auditTail(50).map(\.entry)
                return tail.filter { $0.principal == "user-audit-writer" && $0.action != "audit.append" }.count
                    == entries.count
            }
            await forwarder.stop()
            try await task.value
            #expect(arrived)
            // Each append is itself audited (`audit.append`) before the entry it carries.
            let tail = try await session.auditTail(50).map(\.entry).filter {
                $0.principal == "user-audit-writer" && $0.action != "audit.append"
            }
            #expect(tail.map(\.action) == ["model.load", "model.infer", "serving.server.request"])
            #expect(tail[1].detail?.contains("by user-ml; request req-7; client 10.0.0.9") == true)
            #expect(tail[2].outcome == .denied)
            #expect(await forwarder.snapshot.forwarded == 3)
            #expect(try await session.verifyAuditLog().problems.isEmpty)
        }
    }
}
