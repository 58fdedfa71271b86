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
        let full = try Data(contentsOf: source.entriesURL)
        let checkpoints = try Data(contentsOf: source.checkpointsURL)
        let lines = EntriesFile.lineRanges(in: full).lines
        #expect(lines.count == 8)
        let firstCut = lines[6].lowerBound
        let endOfSeventh = lines[6].upperBound + 1

        let target = TemporaryLog()
        defer { target.remove() }
        try FileManager.default.createDirectory(at: target.directory, withIntermediateDirectories: true)
        for cut in firstCut..<full.count {
            try full.prefix(cut).write(to: target.entriesURL)
            try checkpoints.write(to: target.checkpointsURL)
            let expected: UInt64 = cut >= endOfSeventh ? 7 : 6
            let log = try AuditLog(directory: target.directory, signer: source.key, origin: source.origin)
            #expect(await log.size == expected, "cut at \(cut)")
            #expect(try await log.append(TemporaryLog.entry(100)) == expected)
            try await log.close()
            let report = try await AuditVerifier.verify(directory: target.directory, verifier: source.verifier)
            #expect(report.isValid, "cut at \(cut): \(report.problems)")
            #expect(report.entryCount == expected + 1)
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
        #expect(await log.size == 5)
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
        let log = try temp.open()
        #expect(await log.latestCheckpoint?.checkpoint.size == 4)
        _ = try await log.append(TemporaryLog.entry(4))
        try await log.close()
        let report = try await temp.verify()
        #expect(report.isValid)
        #expect(report.checkpointCount == 2)
    }
}
