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
        let bogus = AuditRecord(index: 5, entryJSON: Data(#"{"bogus":1}"#.utf8))
        let handle = try FileHandle(forWritingTo: temp.entriesURL)
        let records = try temp.lines().filter { !$0.hasPrefix("\0") }
        try handle.truncate(atOffset: UInt64(records.joined(separator: "\n").utf8.count + 1))
        try handle.write(contentsOf: bogus.line)
        try handle.close()
        #expect(throws: AuditLogError.corruptRecord) { _ = try temp.open() }
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
