import AccessControl
import AuditLog
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import Vault
import VaultServer
import VaultServing

/// The routes behind remote `audit verify --trusted/--max-cosignature-age` and `audit tail --follow` (#14).
@Suite struct VaultServingAuditTrustTests {
    /// `GET /v1/audit/checkpoint` sends evidence the client checks against a checkpoint it kept, the request is
    /// audited as `audit.verify`, and a bad size list is refused.
    @Test func theCheckpointRouteGivesEvidenceTheClientChecksItself() async throws {
        let fixture = try await VaultServingRemoteCommandsTests.prepared()
        defer { Task { await fixture.remove() } }
        let admin = try await fixture.adminSession()
        let kept = try await admin.exportAuditCheckpoint()
        let token = fixture.tokens[.securityEngineer]!
        try await withConfiguredApplication(fixture) { client in
            let answer = try await client.json(
                .init(
                    method: .get, path: "/v1/audit/checkpoint?trusted=\(kept.checkpoint.size)", action: .auditVerify),
                token: token)
            #expect(answer.status == .ok, "\(String(buffer: answer.body))")
            let evidence = try JSONDecoder().decode(AuditConsistencyEvidence.self, from: Data(buffer: answer.body))
            let check = try evidence.check(trusted: [kept.note], maxCosignatureAge: nil)
            #expect(check.problems.isEmpty, "\(check.problems)")
            #expect(check.trustedVerified == [kept.checkpoint.size])
            for bad in ["trusted=x", (0..<17).map { "trusted=\($0)" }.joined(separator: "&")] {
                let refused = try await client.json(
                    .init(method: .get, path: "/v1/audit/checkpoint?\(bad)", action: .auditVerify), token: token)
                #expect(refused.status == .badRequest, "\(bad)")
            }
        }
        let entries = try await admin.auditTail(Int.max).map(\.entry)
        #expect(entries.contains { $0.action == "audit.verify" && $0.principal == "user-security-engineer" })
    }

    /// A follower's poll (`GET /v1/audit/tail?from=I&wait=S`) answers every entry from its cursor on, oldest first;
    /// with nothing new but its own polls it waits, and another caller's entry ends the wait.
    @Test func aFollowersPollStartsAtItsCursorAndWaitsOnlyForOthersEntries() async throws {
        let fixture = try await VaultServingRemoteCommandsTests.prepared()
        defer { Task { await fixture.remove() } }
        let token = fixture.tokens[.complianceOfficer]!
        let admin = try await fixture.adminSession()
        try await withConfiguredApplication(fixture) { client in
            func poll(from start: Int, wait: Int) async throws -> [[String: Any]] {
                let answer = try await client.json(
                    .init(
                        method: .get, path: "/v1/audit/tail?from=\(start)&count=1000&wait=\(wait)", action: .auditRead),
                    token: token)
                #expect(answer.status == .ok, "\(String(buffer: answer.body))")
                return try #require(
                    try JSONSerialization.jsonObject(with: Data(buffer: answer.body)) as? [[String: Any]])
            }
            func action(_ record: [String: Any]) -> String? {
                (record["entry"] as? [String: Any])?["action"] as? String
            }
            let everything = try await poll(from: 0, wait: 0)
            let indices = everything.compactMap { $0["index"] as? Int }
            #expect(indices == Array(0..<indices.count))
            let cursor = indices.count
            let clock = ContinuousClock()
            let started = clock.now
            let idle = try await poll(from: cursor, wait: 2)
            #expect(clock.now - started >= .seconds(1.5))
            // Only the follower's own bookkeeping: the gateway's record of the last poll and this poll's read.
            #expect(idle.allSatisfy { action($0) == "audit.read" }, "\(idle)")
            #expect(idle.compactMap { $0["index"] as? Int }.first == cursor)
            let next = cursor + idle.count
            let appended = Task {
                try await Task.sleep(for: .milliseconds(500))
                _ = try await admin.keyVersions()
            }
            let woken = clock.now
            let fresh = try await poll(from: next, wait: 30)
            try await appended.value
            #expect(clock.now - woken < .seconds(20))
            #expect(fresh.contains { action($0) == "keys.list" }, "\(fresh)")
            #expect(fresh.compactMap { $0["index"] as? Int }.first == next)
            // A cursor past the log is answered at once, with nothing.
            let beyond = clock.now
            #expect(try await poll(from: 1_000_000, wait: 30).isEmpty)
            #expect(clock.now - beyond < .seconds(20))
            // A bad cursor or wait is refused; wait without from too.
            for bad in ["from=x", "from=0&wait=61", "wait=3"] {
                let refused = try await client.json(
                    .init(method: .get, path: "/v1/audit/tail?\(bad)", action: .auditRead), token: token)
                #expect(refused.status == .badRequest, "\(bad)")
            }
        }
    }
}
