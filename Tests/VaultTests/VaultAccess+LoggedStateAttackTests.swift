import AccessControl
import Foundation
import TestSupport
import Testing

@testable import AuditLog
@testable import Vault

/// Review 7 (2026-12-04): the states the log records, as `vault check` and a damaged log's open read them. A catalog
/// restored from before a token revocation (state 4; the log records state 5) is the rollback every attack hides.
@Suite struct LoggedStateAttackTests {
    /// A vault whose catalog was put back to a copy taken before alice's admin token was revoked; returns it and
    /// the old catalog state's `state.commit` detail.
    private static func rolledBack() async throws -> (AccessFixture, String) {
        let fixture = try await AccessFixture()
        let (_, issued) = try await fixture.session("alice", RoleBinding(role: .admin))
        let attacker = DirectoryAttacker(root: fixture.vault.root)
        let copy = fixture.directory.url.appending(path: "catalog-copy.sqlite")
        try attacker.backup(to: copy)
        let old = try #require(try LoggedState.newest(in: fixture.auditDirectory))
        try await fixture.admin.revokeToken(id: issued.info.id)
        try await fixture.access.close()
        try attacker.restore(from: copy)
        return (fixture, old.detail)
    }

    /// Rewrites line `index` of the entries file with `transform` applied to its leaf text, hash recomputed.
    private static func rewrite(_ audit: URL, where matches: (String) -> Bool, _ transform: (String) -> String) throws {
        let url = audit.appending(path: "entries.jsonl")
        var lines = String(decoding: try Data(contentsOf: url), as: UTF8.self).components(separatedBy: "\n")
        for (index, line) in lines.enumerated() where line.count > 65 && matches(line) {
            let leaf = transform(String(line.dropFirst(65)))
            lines[index] = Merkle.leafHash(Data(leaf.utf8)).hex + " " + leaf
        }
        try Data(lines.joined(separator: "\n").utf8).write(to: url)
    }

    /// Appends hand-made `state.commit` records (correct stored hashes, no seal) naming `detail`.
    private static func plantStates(_ count: Int, detail: String, in audit: URL) throws {
        let url = audit.appending(path: "entries.jsonl")
        var index = UInt64(try AuditLogReader(directory: audit).records().count)
        var lines = Data()
        for _ in 0..<count {
            let entry = AuditEntry(
                principal: "vault", action: LoggedState.action, resource: "catalog", outcome: .allowed,
                requestID: "planted", detail: detail)
            lines.append(AuditRecord(index: index, entryJSON: try entry.canonicalJSON()).line)
            index += 1
        }
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: lines)
        try handle.close()
    }

    private static func check(_ fixture: AccessFixture) async throws -> [String] {
        try await Vault.checkState(
            at: fixture.vault.root, unlockingWith: .passphrase(TestVault.passphrase), suite: FakeCipherSuite(),
            signer: FakeManifestSigner())
    }

    @Test func vaultCheckIsNotFooledByAStateRecordRewrittenWithItsHash() async throws {
        let (fixture, old) = try await Self.rolledBack()
        #expect(try await Self.check(fixture).contains { $0.contains("rolled back") })
        let newest = try #require(try LoggedState.newest(in: fixture.auditDirectory))
        try Self.rewrite(fixture.auditDirectory, where: { $0.contains(newest.detail) }) {
            $0.replacingOccurrences(of: newest.detail, with: old)
        }
        let problems = try await Self.check(fixture)
        #expect(problems.contains { $0.contains("audit/") && $0.contains("signed checkpoints") }, "\(problems)")
    }

    @Test func vaultCheckIsNotFooledByPlantedStateRecords() async throws {
        let (fixture, old) = try await Self.rolledBack()
        try Self.plantStates(16, detail: old, in: fixture.auditDirectory)
        let problems = try await Self.check(fixture)
        #expect(problems.contains { $0.contains("audit/") && $0.contains("record seals") }, "\(problems)")
    }

    /// A planted state far ahead made every command, `audit verify` included, fail with "catalog.sqlite ... rolled
    /// back": the log's damage was unreachable and blamed on the catalog.
    @Test func aPlantedStateAheadLeavesAuditVerifyReachable() async throws {
        let fixture = try await AccessFixture()
        try await fixture.access.close()
        try Self.plantStates(
            1, detail: LoggedState(sequence: 999, digest: Data(count: 32)).detail, in: fixture.auditDirectory)
        let access = try await VaultAccess.open(try TestVault.open(in: fixture.directory))
        let report = try await access.authenticate(token: fixture.adminToken).verifyAuditLog()
        #expect(!report.isValid)
        #expect(report.problems.contains { $0.kind == .unopenable })
    }

    /// The log cut back to an earlier size with an older signed note appended after the newer ones: the writer opened
    /// on the last note, and the revoked token worked again.
    @Test func aLogCutBackBehindAnOlderNoteIsRefused() async throws {
        let fixture = try await AccessFixture()
        let (_, issued) = try await fixture.session("alice", RoleBinding(role: .admin))
        let attacker = DirectoryAttacker(root: fixture.vault.root)
        let copy = fixture.directory.url.appending(path: "catalog-copy.sqlite")
        try attacker.backup(to: copy)
        let audit = fixture.auditDirectory
        _ = try await fixture.access.checkpoint()
        let entries = try Data(contentsOf: audit.appending(path: "entries.jsonl"))
        let cut = entries.prefix(upTo: entries.firstIndex(of: 0) ?? entries.endIndex)
        let olderNote = try #require(try AuditLogReader(directory: audit).checkpointNotes().last)
        try await fixture.admin.revokeToken(id: issued.info.id)
        try await fixture.access.close()
        try attacker.restore(from: copy)
        try cut.write(to: audit.appending(path: "entries.jsonl"))
        let handle = try FileHandle(forWritingTo: audit.appending(path: "checkpoints.log"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(olderNote.utf8))
        try handle.close()
        let access = try await VaultAccess.open(try TestVault.open(in: fixture.directory))
        await expectRefused(naming: "audit log cannot be opened") {
            try await access.authenticate(token: issued.token).models()
        }
    }

    /// Review 8: the catalog commits before its `state.commit` entry is appended. A record planted where that entry
    /// goes made the append fail; the new state was then known nowhere outside the catalog (the process had already
    /// counted it as logged, and its close failed before raising the host's mark), so once the record was blanked an
    /// older catalog copy passed on the same host, the revocation undone.
    @Test func aStateWhoseEntryCouldNotBeAppendedIsStillKnownToTheHost() async throws {
        let directory = try TemporaryDirectory()
        let mark = HighWaterMark(directory: directory.url.appending(path: "host-state"))
        let vault = try TestVault.create(in: directory)
        let access = try await VaultAccess.open(vault, highWaterMark: mark)
        _ = try await access.bootstrap()
        let attacker = DirectoryAttacker(root: vault.root)
        let copy = directory.url.appending(path: "catalog-copy.sqlite")
        try attacker.backup(to: copy)
        // A change committed to the catalog, its entry not yet appended.
        _ = try await vault.pushModel("m", from: .files(["w": Data([1])]))
        let url = vault.root.appending(path: "audit/entries.jsonl")
        let before = try Data(contentsOf: url)
        let end = before.firstIndex(of: 0) ?? before.endIndex
        try ReportAuditCountAttackTests.plant(
            [AuditEntry(principal: "x", action: "x", resource: "x", outcome: .allowed, requestID: "x")],
            in: vault.root.appending(path: "audit"))
        await #expect(throws: AuditLogError.unsealedTail) { try await access.recordState(requestID: "r") }
        await #expect(throws: (any Error).self) { try await access.close() }
        // The planted record blanked, the catalog put back to the copy from before the change.
        let after = try Data(contentsOf: url)
        let planted = (after.firstIndex(of: 0) ?? after.endIndex) - end
        let handle = try FileHandle(forWritingTo: url)
        try handle.seek(toOffset: UInt64(end))
        try handle.write(contentsOf: Data(count: planted))
        try handle.close()
        try attacker.restore(from: copy)
        let reopened = try TestVault.open(in: directory)
        await expectRefused(naming: "high-water mark") { try await VaultAccess.open(reopened, highWaterMark: mark) }
    }
}
