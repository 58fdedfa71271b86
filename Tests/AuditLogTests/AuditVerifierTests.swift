import Crypto
import Foundation
import Testing

@testable import AuditLog

/// Every tamper case is detected and reported with its first bad index. The log has 20 entries with
/// checkpoints at 5, 10, 15 and 20.
@Suite struct AuditVerifierTests {
    private func makeLog() async throws -> TemporaryLog {
        let temp = TemporaryLog()
        try await temp.fill(20, checkpointInterval: 5)
        return temp
    }

    @Test func anUntouchedLogVerifies() async throws {
        let temp = try await makeLog()
        defer { temp.remove() }
        let report = try await temp.verify()
        #expect(report.isValid)
        #expect(report.entryCount == 20)
        #expect(report.checkpointCount == 4)
        #expect(report.latestCheckpoint?.size == 20)
        #expect(report.firstBadIndex == nil)
        #expect(report.uncheckpointedEntries == 0)
        #expect(report.summary.hasPrefix("audit log OK: 20 entries, 4 checkpoints"))
        let byKey = try await AuditVerifier.verify(directory: temp.directory, publicKey: temp.key.publicKey)
        #expect(byKey.isValid)
    }

    @Test func aModifiedEntryIsFoundAtItsIndex() async throws {
        let temp = try await makeLog()
        defer { temp.remove() }
        var lines = try temp.lines()
        #expect(lines[7].contains(#""outcome":"allowed""#))
        lines[7] = lines[7].replacingOccurrences(of: #""outcome":"allowed""#, with: #""outcome":"denied""#)
        try temp.writeLines(lines)
        let report = try await temp.verify()
        #expect(!report.isValid)
        #expect(report.firstBadIndex == 7)
        #expect(report.problems.first == VerificationProblem(kind: .leafHashMismatch, index: 7))
        #expect(report.summary.hasPrefix("audit log FAILED: first bad index 7;"))
        #expect(report.summary.contains("entry modified (leaf hash mismatch) at entry 7"))
    }

    @Test func aModifiedEntryWithARecomputedHashIsCaughtByTheCheckpoints() async throws {
        let temp = try await makeLog()
        defer { temp.remove() }
        var lines = try temp.lines()
        let leaf = lines[7].dropFirst(65).replacingOccurrences(of: "user0", with: "userX")
        lines[7] = Merkle.leafHash(Data(leaf.utf8)).hex + " " + leaf
        try temp.writeLines(lines)
        let report = try await temp.verify()
        #expect(!report.isValid)
        // The checkpoint at 5 still matches, the one at 10 does not: the damage starts in 5..<10.
        #expect(report.firstBadIndex == 5)
        #expect(report.problems.first == VerificationProblem(kind: .checkpointRootMismatch, index: 5, checkpoint: 1))
    }

    @Test func aDeletedEntryIsFoundAtItsIndex() async throws {
        let temp = try await makeLog()
        defer { temp.remove() }
        var lines = try temp.lines()
        lines.remove(at: 7)
        try temp.writeLines(lines)
        let report = try await temp.verify()
        #expect(report.firstBadIndex == 7)
        #expect(report.problems.first == VerificationProblem(kind: .indexMismatch, index: 7))
        #expect(report.problems.contains { $0.kind == .missingEntries && $0.index == 19 })
    }

    @Test func swappedEntriesAreFoundAtTheFirstOne() async throws {
        let temp = try await makeLog()
        defer { temp.remove() }
        var lines = try temp.lines()
        lines.swapAt(7, 12)
        try temp.writeLines(lines)
        let report = try await temp.verify()
        #expect(report.firstBadIndex == 7)
        #expect(
            report.problems.prefix(2) == [
                VerificationProblem(kind: .indexMismatch, index: 7),
                VerificationProblem(kind: .indexMismatch, index: 12),
            ])
    }

    @Test func aTruncatedLogIsFoundAtTheFirstMissingIndex() async throws {
        let temp = try await makeLog()
        defer { temp.remove() }
        try temp.writeLines(Array(try temp.lines().prefix(13)))
        let report = try await temp.verify()
        #expect(report.firstBadIndex == 13)
        #expect(report.problems.first == VerificationProblem(kind: .missingEntries, index: 13, checkpoint: 2))
        #expect(report.problems.count == 2)
    }

    @Test func aCheckpointSignedOverAForkedTreeIsFound() async throws {
        let temp = try await makeLog()
        defer { temp.remove() }
        // The same key signs a tree that shares the first 12 entries and then diverges.
        let fork = TemporaryLog()
        defer { fork.remove() }
        let forkLog = try AuditLog(directory: fork.directory, signer: temp.key, origin: temp.origin)
        for number in 0..<20 { _ = try await forkLog.append(TemporaryLog.entry(number < 12 ? number : number + 1000)) }
        let forged = try await forkLog.checkpoint()
        try await forkLog.close()
        let notes = SignedCheckpoint.splitNotes(try String(contentsOf: temp.checkpointsURL, encoding: .utf8)).notes
        try Data((notes.dropLast() + [forged.note]).joined().utf8).write(to: temp.checkpointsURL)

        let report = try await temp.verify()
        #expect(!report.isValid)
        #expect(report.problems == [VerificationProblem(kind: .checkpointRootMismatch, index: 15, checkpoint: 3)])
        #expect(report.firstBadIndex == 15)
        // The real log cannot be reopened for appending over a forked head.
        #expect(throws: AuditLogError.checkpointMismatch) { _ = try temp.open() }
    }

    @Test func aCheckpointWithABadSignatureIsFound() async throws {
        let temp = try await makeLog()
        defer { temp.remove() }
        let text = try String(contentsOf: temp.checkpointsURL, encoding: .utf8)
        let altered = text.replacingOccurrences(of: "\n10\n", with: "\n11\n")
        try Data(altered.utf8).write(to: temp.checkpointsURL)
        let report = try await temp.verify()
        #expect(report.problems == [VerificationProblem(kind: .badCheckpointSignature, checkpoint: 1)])

        let other = try NoteSigner(name: temp.origin, key: Curve25519.Signing.PrivateKey())
        let foreign = try SignedCheckpoint(
            signing: Checkpoint(origin: temp.origin, size: 20, rootHash: report.recomputedRoot), with: other)
        try Data((text + foreign.note).utf8).write(to: temp.checkpointsURL)
        let second = try await temp.verify()
        #expect(second.problems == [VerificationProblem(kind: .badCheckpointSignature, checkpoint: 4)])
    }

    @Test func aMalformedRecordIsFoundAtItsIndex() async throws {
        let temp = try await makeLog()
        defer { temp.remove() }
        var lines = try temp.lines()
        lines[3] = "garbage"
        try temp.writeLines(lines)
        let report = try await temp.verify()
        #expect(report.firstBadIndex == 3)
        #expect(report.problems.first == VerificationProblem(kind: .malformedRecord, index: 3))
    }

    @Test func anUnfinishedTailIsInFlightWhileWritersAreOpenAndJunkOnceTheyClosed() async throws {
        let temp = try await makeLog()
        defer { temp.remove() }
        let handle = try FileHandle(forWritingTo: temp.entriesURL)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("0123abc {\"entry\":".utf8))
        try handle.close()
        let live = try await AuditVerifier.verify(directory: temp.directory, verifier: temp.verifier, writers: .open)
        #expect(live.isValid)
        #expect(live.hasUnfinishedTail)
        let closed = try await temp.verify()
        #expect(closed.problems == [VerificationProblem(kind: .trailingBytes, index: 20)])
    }

    @Test func verifiesALargerLogWithManyCheckpoints() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        let log = try temp.open(checkpointInterval: 64)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for appender in 0..<8 {
                group.addTask { for n in 0..<250 { _ = try await log.append(TemporaryLog.entry(appender * 1000 + n)) } }
            }
            try await group.waitForAll()
        }
        try await log.close()
        let report = try await temp.verify()
        #expect(report.isValid, "\(report.problems)")
        #expect(report.entryCount == 2000)
        // One per batch that crosses the interval (batches overshoot it), plus the final one.
        #expect(report.checkpointCount >= 2000 / 128)
    }
}
