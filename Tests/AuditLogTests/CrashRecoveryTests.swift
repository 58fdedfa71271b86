import Foundation
import Testing

@testable import AuditLog

/// A crash can stop an append anywhere. Cutting the entries file at every byte offset of the records written after
/// the last checkpoint must leave a log that reopens, loses at most the unfinished records, keeps working and
/// verifies.
@Suite struct CrashRecoveryTests {
    @Test func cuttingTheLastRecordsAtEveryByteOffsetRecovers() async throws {
        let source = TemporaryLog()
        defer { source.remove() }
        try await source.fill(6)
        // Two more records after the checkpoint at 6, then a "crash" (no close, no checkpoint).
        do {
            let log = try source.open()
            _ = try await log.append(TemporaryLog.entry(6))
            _ = try await log.append(TemporaryLog.entry(7))
        }
        // The open writer preallocated zeroes after its records; a crash can leave any part of them.
        let written = try Data(contentsOf: source.entriesURL)
        let (lines, _, contentLength) = EntriesFile.lineRanges(in: written)
        #expect(written.count > contentLength)
        let full = written.prefix(contentLength)
        let checkpoints = try Data(contentsOf: source.checkpointsURL)
        #expect(lines.count == 8)
        let firstCut = lines[6].lowerBound
        let endOfSeventh = lines[6].upperBound + 1

        let target = TemporaryLog()
        defer { target.remove() }
        try FileManager.default.createDirectory(at: target.directory, withIntermediateDirectories: true)
        let zeroTails = [1, 100, written.count - full.count].map { full.count + $0 }
        for cut in Array(firstCut..<full.count) + zeroTails {
            try written.prefix(cut).write(to: target.entriesURL)
            try checkpoints.write(to: target.checkpointsURL)
            try target.markCrashed()
            let expected: UInt64 = cut >= full.count ? 8 : cut >= endOfSeventh ? 7 : 6
            let log = try AuditLog(directory: target.directory, signer: source.key, origin: source.origin)
            // Anything past the checkpoint (adopted entries, cut bytes) is recovered and recorded in one entry.
            #expect((log.recovery != nil) == (cut != firstCut), "cut at \(cut)")
            let recorded: UInt64 = log.recovery == nil ? 0 : 1
            #expect(log.recovery.map { $0.adopted == 6..<expected } ?? true, "cut at \(cut)")
            #expect(await log.size == expected + recorded, "cut at \(cut)")
            #expect(try await log.append(TemporaryLog.entry(100)) == expected + recorded)
            try await log.close()
            let report = try await AuditVerifier.verify(directory: target.directory, verifier: source.verifier)
            #expect(report.isValid, "cut at \(cut): \(report.problems)")
            #expect(report.entryCount == expected + recorded + 1)
            #expect(!report.hasUnfinishedTail)
        }
    }

    @Test func aZeroFilledTailIsCutOff() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        try await temp.fill(4)
        let handle = try FileHandle(forWritingTo: temp.entriesURL)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(count: 4096))
        try handle.close()
        let log = try temp.open()
        #expect(await log.size == 4)
        try await log.close()
        #expect(try await temp.verify().isValid)
    }

    @Test func recordsAfterPreallocatedZeroesAreCutOff() async throws {
        // A crash can put a later page of an unfinished batch on disk without the page before it: zeroes, then
        // records. None of them was acknowledged, and recovery must not let them resurface after new appends.
        let temp = TemporaryLog()
        defer { temp.remove() }
        try await temp.fill(4)
        let records = try Data(contentsOf: temp.entriesURL)
        let stray = records[EntriesFile.lineRanges(in: records).lines[3]] + Data([0x0A])
        try (records + Data(count: 300) + stray + Data(count: 50)).write(to: temp.entriesURL)
        try temp.markCrashed()
        let log = try temp.open()
        // Entry 4 records the recovery (nothing adopted, the stray bytes cut).
        #expect(log.recovery?.adopted == 4..<4)
        #expect(log.recovery.map { $0.discardedBytes > 0 } == true)
        #expect(await log.size == 5)
        #expect(try await log.append(TemporaryLog.entry(4)) == 5)
        try await log.close()
        let report = try await temp.verify()
        #expect(report.isValid, "\(report.problems)")
        #expect(report.entryCount == 6)
        #expect(try temp.lines().count == 6)
    }

    @Test func aTornRecordPastTheLastCheckpointIsCutOffWithEverythingAfterIt() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        try await temp.fill(4)
        do {
            let log = try temp.open()
            for n in 4..<7 { _ = try await log.append(TemporaryLog.entry(n)) }
        }
        var lines = try temp.lines()
        // The middle of record 5 never reached the disk, but its newline did.
        lines[5] = String(lines[5].prefix(80)) + String(repeating: "\u{0}", count: 20)
        try temp.writeLines(lines)
        let log = try temp.open()
        // Record 4 is adopted; record 5 (torn) and 6 are cut; entry 5 records the recovery.
        #expect(log.recovery?.adopted == 4..<5)
        #expect(await log.size == 6)
        try await log.close()
        #expect(try await temp.verify().isValid)
    }

    @Test func aTornCheckpointIsCutOff() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        try await temp.fill(4)
        let handle = try FileHandle(forWritingTo: temp.checkpointsURL)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\(temp.origin)\n5\n".utf8))
        try handle.close()
        try temp.markCrashed()
        let log = try temp.open()
        #expect(await log.latestCheckpoint?.checkpoint.size == 4)
        _ = try await log.append(TemporaryLog.entry(4))
        try await log.close()
        let report = try await temp.verify()
        #expect(report.isValid)
        #expect(report.checkpointCount == 2)
    }
}
