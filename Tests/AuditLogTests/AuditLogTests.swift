import Crypto
import Foundation
import Testing

@testable import AuditLog

@Suite struct AuditLogTests {
    @Test func appendsGetConsecutiveIndicesAndSurviveReopening() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        let log = try temp.open()
        for number in 0..<10 { #expect(try await log.append(TemporaryLog.entry(number)) == UInt64(number)) }
        let root = await log.currentRoot
        try await log.close()

        let reopened = try temp.open()
        #expect(await reopened.size == 10)
        #expect(await reopened.currentRoot == root)
        #expect(try await reopened.append(TemporaryLog.entry(10)) == 10)
        try await reopened.close()

        let entries = try AuditLogReader(directory: temp.directory).entries()
        #expect(entries.map(\.index) == Array(0...10))
        #expect(entries.map(\.entry) == (0...10).map { TemporaryLog.entry($0) })
        let report = try await temp.verify()
        #expect(report.isValid)
        #expect(report.entryCount == 11)
        #expect(report.latestCheckpoint?.size == 11)
    }

    @Test func recordsAreHashAndCanonicalLeafLines() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        try await temp.fill(3)
        let lines = try temp.lines()
        #expect(lines.count == 3)
        for (index, line) in lines.enumerated() {
            let hashHex = String(line.prefix(64))
            let leaf = Data(line.dropFirst(65).utf8)
            #expect(Merkle.leafHash(leaf).hex == hashHex)
            let expected = try TemporaryLog.entry(index).canonicalJSON()
            // `{"entry":<entry>,"seal":"<64 hex digits>","index":<n>}`
            let head = Data(#"{"entry":"#.utf8) + expected + Data(#","seal":""#.utf8)
            let tail = Data(#"","index":\#(index)}"#.utf8)
            #expect(leaf.count == head.count + 64 + tail.count)
            #expect(leaf.starts(with: head) && leaf.suffix(tail.count).elementsEqual(tail))
            let seal = leaf.dropFirst(head.count).prefix(64)
            #expect(seal.allSatisfy { Array("0123456789abcdef".utf8).contains($0) })
        }
    }

    @Test func concurrentAppendsGetDistinctIndicesAndAreAllDurable() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        let log = try temp.open(checkpointInterval: 50)
        let indices = try await withThrowingTaskGroup(of: [UInt64].self) { group in
            for appender in 0..<32 {
                group.addTask {
                    var mine: [UInt64] = []
                    for round in 0..<25 {
                        mine.append(try await log.append(TemporaryLog.entry(appender * 100 + round)))
                    }
                    return mine
                }
            }
            var all: [UInt64] = []
            for try await batch in group { all += batch }
            return all
        }
        #expect(indices.count == 800)
        #expect(Set(indices) == Set(0..<800))
        // Everything acknowledged is on disk before close.
        let onDisk = try AuditLogReader(directory: temp.directory).records()
        #expect(onDisk.count == 800)
        let checkpointsBeforeClose = try AuditLogReader(directory: temp.directory).checkpoints(
            verifiedBy: temp.verifier)
        #expect(!checkpointsBeforeClose.isEmpty)
        try await log.close()
        let report = try await temp.verify()
        #expect(report.isValid, "\(report.problems)")
        #expect(report.entryCount == 800)
        #expect(report.latestCheckpoint?.size == 800)
    }

    @Test func checkpointsAreWrittenEveryIntervalAndOnClose() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        try await temp.fill(25, checkpointInterval: 10)
        let checkpoints = try AuditLogReader(directory: temp.directory).checkpoints(verifiedBy: temp.verifier)
        #expect(checkpoints.map(\.checkpoint.size) == [10, 20, 25])
        for signed in checkpoints {
            #expect(signed.checkpoint.origin == temp.origin)
            #expect(signed.note.hasPrefix("\(temp.origin)\n\(signed.checkpoint.size)\n"))
        }
    }

    @Test func explicitCheckpointSignsTheCurrentTree() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        let log = try temp.open()
        for number in 0..<5 { _ = try await log.append(TemporaryLog.entry(number)) }
        let signed = try await log.checkpoint()
        #expect(signed.checkpoint.size == 5)
        #expect(
            signed.checkpoint.rootHash
                == Merkle.root(of: try AuditLogReader(directory: temp.directory).records().map(\.leafHash)))
        #expect(try await log.checkpoint() == signed)
        try await log.close()
        await #expect(throws: AuditLogError.closed) { try await log.append(TemporaryLog.entry(9)) }
    }

    @Test func twoWritersOnOneLogInterleaveAndBothSeeEachOther() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        // Two independent writers, as the server and a CLI run would be (separate descriptors, same lock).
        let first = try temp.open(checkpointInterval: 4)
        let second = try temp.open(checkpointInterval: 4)
        var indices: [UInt64] = []
        for round in 0..<10 {
            indices.append(try await first.append(TemporaryLog.entry(2 * round)))
            indices.append(try await second.append(TemporaryLog.entry(2 * round + 1)))
        }
        #expect(indices == Array(0..<20))
        async let a: Void = {
            for n in 20..<60 { _ = try await first.append(TemporaryLog.entry(n)) }
        }()
        async let b: Void = {
            for n in 60..<100 { _ = try await second.append(TemporaryLog.entry(n)) }
        }()
        _ = try await (a, b)
        try await first.close()
        try await second.close()
        let report = try await temp.verify()
        #expect(report.isValid, "\(report.problems)")
        #expect(report.entryCount == 100)
        #expect(report.latestCheckpoint?.size == 100)
        let recorded = Set(try AuditLogReader(directory: temp.directory).entries().map(\.entry.requestID))
        #expect(recorded == Set((0..<100).map { "req-\($0)" }))
    }

    @Test func openingWithAnotherKeyIsRefused() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        try await temp.fill(3)
        #expect(throws: AuditLogError.unknownKey) {
            _ = try AuditLog(directory: temp.directory, signer: Curve25519.Signing.PrivateKey(), origin: temp.origin)
        }
    }

    @Test func openingATruncatedLogIsRefused() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        try await temp.fill(5)
        try temp.writeLines(Array(try temp.lines().prefix(3)))
        #expect(throws: AuditLogError.logShorterThanCheckpoint) { _ = try temp.open() }
    }

    @Test func filesAreOwnerOnly() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        try await temp.fill(1)
        for url in [temp.entriesURL, temp.checkpointsURL] {
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
        }
    }
}
