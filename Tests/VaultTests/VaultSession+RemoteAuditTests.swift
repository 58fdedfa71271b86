import AccessControl
import AuditLog
import Foundation
import TestSupport
import Testing

@testable import Vault

/// Issue #19: a pod's forwarder retries an entry whose attempt timed out, although the vault may have recorded it
/// already (the answer was late or lost). Before entry ids, each retry put the entry in the log again; under load the
/// pod-audit server test once found a forwarded entry twice.
@Suite struct VaultSessionRemoteAuditTests {
    /// The entries of `action` on `resource` in the whole log.
    static func count(_ fixture: AccessFixture, _ resource: String) throws -> Int {
        try AuditLogReader(directory: fixture.auditDirectory).tail(10_000)
            .filter { $0.entry.action == "model.infer" && $0.entry.resource == resource }.count
    }

    @Test func aRetriedEntryIsRecordedOncePerPrincipalAndID() async throws {
        let fixture = try await AccessFixture()
        let (writer, _) = try await fixture.session("pod-a", RoleBinding(role: .auditWriter))
        let (other, _) = try await fixture.session("pod-b", RoleBinding(role: .auditWriter))
        @Sendable func append(_ session: VaultSession, _ resource: String, _ id: String?) async throws {
            try await session.appendAuditEntry(
                action: "model.infer", resource: resource, outcome: .allowed, detail: nil, entryID: id)
        }
        // The same id sent again, and eight times at once (a retry racing the first attempt): one entry.
        try await append(writer, "model:m@1", "entry-1")
        try await append(writer, "model:m@1", "entry-1")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 { group.addTask { try await append(writer, "model:m@2", "entry-2") } }
            try await group.waitForAll()
        }
        #expect(try Self.count(fixture, "model:m@1") == 1)
        #expect(try Self.count(fixture, "model:m@2") == 1)
        // Another principal cannot suppress an entry by reusing an id; entries without an id are never merged.
        try await append(other, "model:m@1", "entry-1")
        try await append(writer, "model:m@3", nil)
        try await append(writer, "model:m@3", nil)
        #expect(try Self.count(fixture, "model:m@1") == 2)
        #expect(try Self.count(fixture, "model:m@3") == 2)
        // Review 7, L3: the same principal reusing an id for another entry has it recorded, not dropped.
        try await append(writer, "model:m@4", "entry-1")
        #expect(try Self.count(fixture, "model:m@4") == 1)
        try await fixture.access.close()
    }

    /// Review 5, deploy F4: a batch is one permission check, one audited attempt and one durable write; a retried
    /// batch records nothing twice, the same entry twice in a batch is one entry, and a batch past 64 is refused.
    @Test func aBatchIsRecordedOnceAndBounded() async throws {
        let fixture = try await AccessFixture()
        let (writer, _) = try await fixture.session("pod-a", RoleBinding(role: .auditWriter))
        let batch = (0..<5).map {
            AppendedAuditEntry(
                action: "model.infer", resource: "model:b@\($0 % 3)", outcome: .allowed, entryID: "batch-\($0)")
        }
        #expect(try await writer.appendAuditEntries(batch) == 5)
        #expect(try await writer.appendAuditEntries(batch) == 0)
        #expect(try await writer.appendAuditEntries([batch[0], batch[0], batch[1]]) == 0)
        let twice = AppendedAuditEntry(action: "model.infer", resource: "model:b@9", outcome: .allowed, entryID: "t")
        #expect(try await writer.appendAuditEntries([twice, twice]) == 1)
        let entries = try AuditLogReader(directory: fixture.auditDirectory).tail(10_000).map(\.entry)
        #expect(entries.filter { $0.resource.hasPrefix("model:b@") }.count == 6)
        #expect(entries.filter { $0.action == "audit.append" && $0.principal == "pod-a" }.count == 4)
        await expectVaultError(.invalidReference) {
            try await writer.appendAuditEntries(
                Array(repeating: AppendedAuditEntry(action: "model.infer", resource: "m", outcome: .allowed), count: 65)
            )
        }
        await expectVaultError(.invalidReference) { try await writer.appendAuditEntries([]) }
        // Without audit.append the batch is refused like a single entry.
        let (officer, _) = try await fixture.session("officer", RoleBinding(role: .complianceOfficer))
        await #expect(throws: AccessControlError.self) { try await officer.appendAuditEntries([twice]) }
        try await fixture.access.close()
    }

    /// Review 8, F1: two batches holding the same ids in opposite orders, at once: each claimed its first id and
    /// waited for the other's, so both requests hung for good (and about 256 such pairs filled the server's
    /// connections). Ids are claimed in one global order now; every round ends with each entry recorded once.
    @Test func batchesWithTheSameIDsInOppositeOrdersDoNotDeadlock() async throws {
        actor Finished {
            var done = false
            func set() { done = true }
        }
        let fixture = try await AccessFixture()
        let (writer, _) = try await fixture.session("pod-a", RoleBinding(role: .auditWriter))
        let finished = Finished()
        let rounds = 100
        let task = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for round in 0..<rounds {
                    let x = AppendedAuditEntry(
                        action: "model.infer", resource: "model:x@\(round)", outcome: .allowed, entryID: "x-\(round)")
                    let y = AppendedAuditEntry(
                        action: "model.infer", resource: "model:y@\(round)", outcome: .allowed, entryID: "y-\(round)")
                    group.addTask { _ = try await writer.appendAuditEntries([x, y]) }
                    group.addTask { _ = try await writer.appendAuditEntries([y, x]) }
                }
                try await group.waitForAll()
            }
            await finished.set()
        }
        // Bounded: a deadlocked round never ends (the waits ignore cancellation), so the test must not await it.
        let deadline = ContinuousClock.now + .seconds(300)
        while await !finished.done, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(await finished.done, "batches with the same ids in opposite orders deadlocked")
        guard await finished.done else { return }
        try await task.value
        let entries = try AuditLogReader(directory: fixture.auditDirectory).tail(100_000).map(\.entry)
        #expect(entries.filter { $0.resource.hasPrefix("model:x@") }.count == rounds)
        #expect(entries.filter { $0.resource.hasPrefix("model:y@") }.count == rounds)
        try await fixture.access.close()
    }

    /// A first attempt that failed is forgotten, so the retry records the entry; memory stays bounded.
    @Test func aFailedAttemptIsForgottenAndTheTableIsBounded() async throws {
        let table = AuditAppendDeduplication(capacity: 4)
        guard case .record = await table.begin("a") else { Issue.record("a fresh key must be recorded"); return }
        table.finish("a", of: "pod", recorded: false)
        guard case .record = await table.begin("a") else { Issue.record("a failed key must be recorded again"); return }
        table.finish("a", of: "pod", recorded: true)
        guard case .alreadyRecorded = await table.begin("a") else { Issue.record("a recorded key was lost"); return }
        for index in 0..<20 {
            guard case .record = await table.begin("k\(index)") else { Issue.record("k\(index)"); return }
            table.finish("k\(index)", of: "pod", recorded: true)
        }
        // The oldest beyond the capacity are forgotten: "a" and the first sixteen, not the last four.
        guard case .record = await table.begin("a") else { Issue.record("the table grew past its capacity"); return }
        guard case .alreadyRecorded = await table.begin("k19") else { Issue.record("k19 was lost"); return }
    }

    /// Review 8, F6: the table was shared by every principal, so one writer recording more than its capacity pushed
    /// another's keys out and that principal's retries were recorded twice. Each principal now keeps its own.
    @Test func oneWriterCannotPushAnothersEntriesOutOfTheTable() async throws {
        let table = AuditAppendDeduplication(capacity: 4)
        guard case .record = await table.begin("pod-a\nentry-1") else { Issue.record("fresh key"); return }
        table.finish("pod-a\nentry-1", of: "pod-a", recorded: true)
        for index in 0..<20 {
            let key = "pod-b\nflood-\(index)"
            guard case .record = await table.begin(key) else { Issue.record("\(key)"); return }
            table.finish(key, of: "pod-b", recorded: true)
        }
        guard case .alreadyRecorded = await table.begin("pod-a\nentry-1") else {
            Issue.record("another principal's entries pushed pod-a's retry out: it would be recorded twice")
            return
        }
        // The flooding writer's own oldest keys are the ones forgotten.
        guard case .record = await table.begin("pod-b\nflood-0") else { Issue.record("pod-b kept too many"); return }
    }
}
