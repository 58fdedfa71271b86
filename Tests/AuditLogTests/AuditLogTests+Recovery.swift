import Crypto
import Foundation
import Testing

@testable import AuditLog

/// A writer that does not close (killed, power lost) leaves unsigned entries: the next writer alone adopts them
/// after checking them, signs them and says so in an `audit.recover` entry, so a crash is not called an attack and
/// nothing is signed silently.
@Suite struct AuditLogRecoveryTests {
    /// Appends `count` entries from a writer that is then dropped without `close()` (as if killed).
    private func crashAfterAppending(_ count: Int, to temp: TemporaryLog, from start: Int) async throws {
        let log = try temp.open(checkpointInterval: 1024)
        for number in start..<start + count { _ = try await log.append(TemporaryLog.entry(number)) }
    }

    @Test func theNextWriterAdoptsAndRecordsAKilledWritersTail() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        try await temp.fill(4)
        try await crashAfterAppending(3, to: temp, from: 4)
        // Before anyone recovers, the unsigned tail with no writer open is reported.
        #expect(try await temp.verify().problems == [VerificationProblem(kind: .unsignedEntries, index: 4)])

        let log = try temp.open()
        let recovery = try #require(log.recovery)
        #expect(recovery.adopted == 4..<7)
        #expect(recovery.entryIndex == 7)
        #expect(await log.latestCheckpoint?.checkpoint.size == 8)
        try await log.close()
        let report = try await temp.verify()
        #expect(report.isValid)
        let recorded = try AuditLogReader(directory: temp.directory).entries()[7].entry
        #expect(recorded.action == "audit.recover")
        #expect(recorded.detail?.contains("adopted entries 4..<7") == true)
    }

    @Test func aTailThatIsNotAnEntryIsNotAdopted() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        try await temp.fill(4)
        try await crashAfterAppending(1, to: temp, from: 4)
        // After the crash, someone appends a framed record at the right position whose leaf is not an entry.
        // Sealed, so that what refuses it is the entry check (an unsealed one is refused for that first).
        let bogus = AuditRecord(
            index: 5, entryJSON: Data(#"{"bogus":1}"#.utf8),
            sealKey: try NoteSigner(name: temp.origin, key: temp.key).recordSealKey)
        let handle = try FileHandle(forWritingTo: temp.entriesURL)
        let records = try temp.lines().filter { !$0.hasPrefix("\0") }
        try handle.truncate(atOffset: UInt64(records.joined(separator: "\n").utf8.count + 1))
        try handle.write(contentsOf: bogus.line)
        try handle.close()
        #expect(throws: AuditLogError.corruptRecord) { _ = try temp.open() }
    }

    /// Review of 2026-12-04: the writers' marker is a plain file, so a well-formed entry appended by hand after a
    /// clean close, with the marker set back to "open", was adopted and signed as a killed writer's tail. Recovery
    /// now adopts only records sealed under the audit key, which every writer seals its records with.
    @Test func anEntryAppendedByHandWithTheOpenMarkerSetIsNotAdopted() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        try await temp.fill(4)
        let forged = AuditRecord(index: 4, entryJSON: try TemporaryLog.entry(99).canonicalJSON())
        let handle = try FileHandle(forWritingTo: temp.entriesURL)
        let records = try temp.lines().filter { !$0.hasPrefix("\0") }
        try handle.truncate(atOffset: UInt64(records.joined(separator: "\n").utf8.count + 1))
        try handle.write(contentsOf: forged.line)
        try handle.close()
        try Data("open\n".utf8).write(to: temp.directory.appendingPathComponent("writers.lock"))
        #expect(throws: AuditLogError.unsealedTail) { _ = try temp.open() }
        #expect(try AuditLogReader(directory: temp.directory).entries().count == 5)
    }

    /// Review of 2026-12-04, round 3: the seal was checked only by recovery, so a record appended by hand while a
    /// writer was open (a server, or anyone holding a shared lock on `writers.lock`) was folded into that writer's
    /// tree and signed at its next checkpoint. Every catch-up now checks the seal of each record after the checkpoint.
    @Test func anEntryAppendedByHandWhileAWriterIsOpenIsNeverSigned() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        let log = try temp.open()
        _ = try await log.append(TemporaryLog.entry(0))
        let forged = AuditRecord(index: 1, entryJSON: try TemporaryLog.entry(99).canonicalJSON())
        let records = try temp.lines().filter { !$0.hasPrefix("\0") }
        let handle = try FileHandle(forWritingTo: temp.entriesURL)
        try handle.seek(toOffset: UInt64(records.joined(separator: "\n").utf8.count + 1))
        try handle.write(contentsOf: forged.line)
        try handle.close()
        await #expect(throws: AuditLogError.unsealedTail) { try await log.checkpoint() }
        // A second writer opening beside it refuses the record too.
        #expect(throws: AuditLogError.unsealedTail) { _ = try temp.open() }
        #expect(await log.latestCheckpoint?.checkpoint.size ?? 0 < 2)
    }

    /// Every record a writer appends carries a seal under its key (and one under another key does not pass).
    @Test func aWritersRecordsAreSealedUnderItsKey() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        try await temp.fill(3)
        let records = try AuditLogReader(directory: temp.directory).records()
        #expect(!records.isEmpty)
        let key = try NoteSigner(name: temp.origin, key: temp.key).recordSealKey
        let other = try NoteSigner(name: temp.origin, key: Curve25519.Signing.PrivateKey()).recordSealKey
        for record in records {
            #expect(record.isSealed(by: key))
            #expect(!record.isSealed(by: other))
        }
    }

    @Test func aCleanCloseLeavesNothingToRecover() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        try await temp.fill(4)
        let log = try temp.open()
        #expect(log.recovery == nil)
        try await log.close()
        let marker = try Data(contentsOf: temp.directory.appendingPathComponent("writers.lock"))
        #expect(marker.isEmpty)
    }
}
