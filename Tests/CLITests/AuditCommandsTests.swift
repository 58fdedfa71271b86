import Foundation
import TestSupport
import Testing

/// The audit log through the built binary, attacked by someone who can write the vault directory but holds no key:
/// every run ends under a signed checkpoint, and `audit verify` catches a deleted newest entry, junk after the last
/// record, and a rollback of `audit/` or of the whole vault given a checkpoint exported earlier (`--trusted`).
@Suite(.serialized) struct AuditCommandsTests {
    private static func audit(_ work: URL) -> URL { work.appending(path: "v/audit") }

    /// The size of the newest checkpoint and the number of records in the entries file.
    private static func signedAndStored(_ work: URL) throws -> (signed: Int, stored: Int) {
        let entries = try Data(contentsOf: audit(work).appending(path: "entries.jsonl"))
        let stored = String(decoding: entries, as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("\0") }
        let notes = try String(contentsOf: audit(work).appending(path: "checkpoints.log"), encoding: .utf8)
        let lines = notes.split(separator: "\n", omittingEmptySubsequences: false)
        let sizes = zip(lines, lines.dropFirst()).compactMap { $0.hasPrefix("modelvault/audit/") ? Int($1) : nil }
        return (sizes.last ?? 0, stored.count)
    }

    private static func verify(
        _ extra: [String] = [], env: [String: String], in work: URL
    ) throws -> (status: Int32, output: String) {
        let result = try ModelVaultBinary.run(["audit", "verify"] + extra, environment: env, in: work)
        return (result.status, result.stdout + result.stderr)
    }

    @Test func everyRunEndsUnderASignedCheckpointOnSuccessAndOnError() throws {
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        var counts = try Self.signedAndStored(work)
        #expect(counts.signed == counts.stored)
        let listed = try ModelVaultBinary.run(["token", "list"], environment: env, in: work)
        #expect(listed.status == 0, "\(listed.stderr)")
        counts = try Self.signedAndStored(work)
        #expect(counts.signed == counts.stored)
        let failed = try ModelVaultBinary.run(["model", "show", "no-such-model"], environment: env, in: work)
        #expect(failed.status == 4)
        let after = try Self.signedAndStored(work)
        #expect(after.stored > counts.stored)
        #expect(after.signed == after.stored)
        let verified = try Self.verify(env: env, in: work)
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.output.contains("audit log verified"))
    }

    @Test func auditVerifyCatchesTheDeletionOfTheNewestEntry() throws {
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        let url = Self.audit(work).appending(path: "entries.jsonl")
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        try Data((lines.dropLast().joined(separator: "\n") + "\n").utf8).write(to: url)
        let verified = try Self.verify(env: env, in: work)
        #expect(verified.status == 6)
        #expect(verified.output.contains("entries missing (log truncated)"), "\(verified.output)")
    }

    /// One edited entry makes every later checkpoint's root differ: `audit verify` says so once, not once per
    /// checkpoint (issue #20, point 11: it printed 46 lines for one bad entry).
    @Test func oneModifiedEntryIsReportedOnce() throws {
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        for _ in 0..<4 { #expect(try ModelVaultBinary.run(["token", "list"], environment: env, in: work).status == 0) }
        let url = Self.audit(work).appending(path: "entries.jsonl")
        var lines = try String(contentsOf: url, encoding: .utf8).split(
            separator: "\n", omittingEmptySubsequences: false
        )
        .map(String.init)
        let edited = lines[0].replacingOccurrences(of: "\"admin\"", with: "\"admon\"")
        try #require(edited != lines[0], "\(lines[0])")
        lines[0] = edited
        try Data(lines.joined(separator: "\n").utf8).write(to: url)
        let verified = try Self.verify(env: env, in: work)
        #expect(verified.status == 6)
        let problems = verified.output.split(separator: "\n").filter { $0.hasPrefix("problem: ") }
        #expect(problems.filter { $0.contains("entry modified (leaf hash mismatch) at entry 0") }.count == 1)
        #expect(problems.filter { $0.contains("checkpoint root differs") }.count == 1, "\(verified.output)")
        // The vault no longer opens a log whose text does not match its hashes (review 6), and says so once.
        #expect(problems.filter { $0.contains("the vault cannot open the log") }.count == 1, "\(verified.output)")
        #expect(problems.count == 3, "\(verified.output)")
        #expect(verified.output.split(separator: "\n").count < 10, "\(verified.output)")
    }

    @Test func auditVerifyCatchesJunkAfterTheLastRecord() throws {
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        let handle = try FileHandle(forWritingTo: Self.audit(work).appending(path: "entries.jsonl"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("junk".utf8))
        try handle.close()
        let verified = try Self.verify(env: env, in: work)
        #expect(verified.status == 6)
        #expect(verified.output.contains("bytes after the last record"), "\(verified.output)")
    }

    /// The attacker writes an Ed25519 key of its own into `keys/audit.age`, encrypted to the vault's public recipient
    /// (anyone can): `audit verify` refuses it, naming the file, and signs nothing with it.
    @Test func auditVerifyCatchesAReplacedAuditKey() throws {
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        let recipient = try ModelVaultBinary.run(["keygen", "-y", "identity.txt"], in: work)
        #expect(recipient.status == 0, "\(recipient.stderr)")
        let attackerKey = work.appending(path: "attacker-audit.key")
        try Data((0..<32).map { _ in UInt8.random(in: 0...255) }).write(to: attackerKey)
        let auditKey = work.appending(path: "v/keys/audit.age")
        try FileManager.default.removeItem(at: auditKey)
        let encrypted = try ModelVaultBinary.run(
            [
                "encrypt", "-r", recipient.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "-o",
                "v/keys/audit.age", "attacker-audit.key",
            ], in: work)
        #expect(encrypted.status == 0, "\(encrypted.stderr)")
        let checkpoints = try Data(contentsOf: Self.audit(work).appending(path: "checkpoints.log"))
        let verified = try Self.verify(env: env, in: work)
        #expect(verified.status == 6, "\(verified.output)")
        #expect(verified.output.contains("keys/audit.age"), "\(verified.output)")
        #expect(try Data(contentsOf: Self.audit(work).appending(path: "checkpoints.log")) == checkpoints)
    }

    @Test func auditVerifyTrustedCatchesARollbackOfTheAuditDirectoryAndOfTheWholeVault() throws {
        let directory = try TemporaryDirectory()
        let work = directory.url
        var env = try CLI.makeVault(in: work)
        // This host's high-water marks; `elsewhere` is a host that has none of this vault (only --trusted helps).
        env["MODELVAULT_STATE_DIR"] = work.appending(path: "host-state").path(percentEncoded: false)
        func elsewhere(_ name: String) -> [String: String] {
            env.merging(["MODELVAULT_STATE_DIR": work.appending(path: name).path(percentEncoded: false)]) { $1 }
        }
        let files = FileManager.default
        try files.copyItem(at: work.appending(path: "v"), to: work.appending(path: "v-old"))
        for _ in 0..<2 {
            let listed = try ModelVaultBinary.run(["token", "list"], environment: env, in: work)
            #expect(listed.status == 0, "\(listed.stderr)")
        }
        let exported = try ModelVaultBinary.run(
            ["audit", "checkpoint", "-o", "trusted.note"], environment: env, in: work)
        #expect(exported.status == 0, "\(exported.stderr)")
        let consistent = try Self.verify(["--trusted", "trusted.note"], env: env, in: work)
        #expect(consistent.status == 0, "\(consistent.output)")
        #expect(consistent.output.contains("consistent with the trusted checkpoint"))

        // Roll back audit/ alone: this host's high-water mark refuses it before anything runs; elsewhere the older
        // log verifies on its own, and against the trusted checkpoint it does not.
        try files.removeItem(at: Self.audit(work))
        try files.copyItem(at: work.appending(path: "v-old/audit"), to: Self.audit(work))
        let refused = try Self.verify(env: env, in: work)
        #expect(refused.status == 6)
        #expect(refused.output.contains("high-water mark"), "\(refused.output)")
        let rolledBack = try Self.verify(["--trusted", "trusted.note"], env: elsewhere("host-b"), in: work)
        #expect(rolledBack.status == 6)
        #expect(rolledBack.output.contains("not consistent with a trusted checkpoint"), "\(rolledBack.output)")

        // Restore the whole vault directory from the earlier copy: the same, catalog included.
        try files.removeItem(at: work.appending(path: "v"))
        try files.copyItem(at: work.appending(path: "v-old"), to: work.appending(path: "v"))
        let refusedWhole = try Self.verify(env: env, in: work)
        #expect(refusedWhole.status == 6)
        #expect(refusedWhole.output.contains("high-water mark"), "\(refusedWhole.output)")
        let plain = try Self.verify(env: elsewhere("host-c"), in: work)
        #expect(plain.status == 0, "\(plain.output)")
        let restored = try Self.verify(["--trusted", "trusted.note"], env: elsewhere("host-d"), in: work)
        #expect(restored.status == 6)
        #expect(restored.output.contains("not consistent with a trusted checkpoint"), "\(restored.output)")
    }
}
