import Crypto
import Foundation
import Testing

@testable import AuditLog

/// Attacks on the end of the log by someone who can write the audit directory but holds no key: cutting the newest
/// entries, adding bytes or unsigned entries after the last record, re-signing with another key, rolling back to an
/// older copy. Every writer closed (so every entry is signed) unless a test says otherwise.
@Suite struct AuditVerifierEndOfLogTests {
    private func makeLog(_ count: Int = 6) async throws -> TemporaryLog {
        let temp = TemporaryLog()
        try await temp.fill(count, checkpointInterval: 1024)
        return temp
    }

    private func appendBytes(_ bytes: Data, to url: URL) throws {
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: bytes)
    }

    @Test func deletingTheNewestEntryFails() async throws {
        let temp = try await makeLog()
        defer { temp.remove() }
        try temp.writeLines(Array(try temp.lines().dropLast()))
        let report = try await temp.verify()
        #expect(!report.isValid)
        #expect(report.firstBadIndex == 5)
        #expect(report.problems.contains(VerificationProblem(kind: .missingEntries, index: 5, checkpoint: 0)))
        #expect(throws: AuditLogError.logShorterThanCheckpoint) { _ = try temp.open() }
    }

    @Test func junkAfterTheLastRecordFails() async throws {
        let temp = try await makeLog()
        defer { temp.remove() }
        try appendBytes(Data("junk".utf8), to: temp.entriesURL)
        let report = try await temp.verify()
        #expect(report.writersClosed)
        #expect(report.problems == [VerificationProblem(kind: .trailingBytes, index: 6)])
        // Every writer closed cleanly, so opening refuses rather than cutting it off as a crash's torn record.
        #expect(throws: AuditLogError.trailingBytes) { _ = try temp.open() }
        #expect(try await temp.verify().problems == [VerificationProblem(kind: .trailingBytes, index: 6)])
    }

    @Test func junkAfterPreallocatedZeroesFails() async throws {
        let temp = try await makeLog()
        defer { temp.remove() }
        try appendBytes(Data(count: 4096) + Data("x".utf8) + Data(count: 100), to: temp.entriesURL)
        let report = try await temp.verify()
        #expect(report.problems == [VerificationProblem(kind: .trailingBytes, index: 6)])
        #expect(throws: AuditLogError.trailingBytes) { _ = try temp.open() }
    }

    @Test func preallocatedZeroesAloneAreAccepted() async throws {
        let temp = try await makeLog()
        defer { temp.remove() }
        try appendBytes(Data(count: 65536), to: temp.entriesURL)
        let report = try await temp.verify()
        #expect(report.isValid)
        #expect(report.entryCount == 6)
        let log = try temp.open()
        #expect(await log.size == 6)
        #expect(log.recovery == nil)
        try await log.close()
    }

    @Test func anUnsignedTailWithNoWriterOpenFails() async throws {
        let temp = try await makeLog()
        defer { temp.remove() }
        // A well-formed record at the right position: anyone can compute one, nobody signed it.
        let forged = AuditRecord(index: 6, entryJSON: try TemporaryLog.entry(99).canonicalJSON())
        try appendBytes(forged.line, to: temp.entriesURL)
        let report = try await temp.verify()
        #expect(report.problems == [VerificationProblem(kind: .unsignedEntries, index: 6)])
        #expect(report.firstBadIndex == 6)
        // Every writer had closed and signed its entries, so a writer refuses to adopt (and sign) it.
        #expect(throws: AuditLogError.unsignedTail) { _ = try temp.open() }
    }

    @Test func anUnsignedTailIsInFlightWhileAWriterIsOpen() async throws {
        let temp = try await makeLog()
        defer { temp.remove() }
        let log = try temp.open()
        _ = try await log.append(TemporaryLog.entry(6))
        let report = try await temp.verify()
        #expect(!report.writersClosed)
        #expect(report.isValid)
        #expect(report.uncheckpointedEntries == 1)
        try await log.close()
        let closed = try await temp.verify()
        #expect(closed.writersClosed)
        #expect(closed.isValid)
        #expect(closed.uncheckpointedEntries == 0)
    }

    @Test func theOpenWriterVerifiesStrictlyWhenAlone() async throws {
        let temp = try await makeLog()
        defer { temp.remove() }
        let log = try temp.open()
        _ = try await log.append(TemporaryLog.entry(6))
        let report = try await log.verify()
        #expect(report.writersClosed)
        #expect(report.isValid)
        #expect(report.latestCheckpoint?.size == 7)
        // Its own shared lock is back: another verifier sees a writer open.
        #expect(try await temp.verify().writersClosed == false)
        try await log.close()
    }

    @Test func checkpointsSignedByAnotherKeyFail() async throws {
        let temp = try await makeLog()
        defer { temp.remove() }
        // The attacker replaces the key and re-signs every checkpoint; the verifier holds the pinned key.
        let attacker = try NoteSigner(name: temp.origin, key: Curve25519.Signing.PrivateKey())
        let report = try await temp.verify()
        let forged = try SignedCheckpoint(
            signing: Checkpoint(origin: temp.origin, size: 6, rootHash: report.recomputedRoot), with: attacker)
        try Data(forged.note.utf8).write(to: temp.checkpointsURL)
        let replaced = try await temp.verify()
        #expect(!replaced.isValid)
        #expect(replaced.problems.contains(VerificationProblem(kind: .badCheckpointSignature, checkpoint: 0)))
        #expect(replaced.problems.contains(VerificationProblem(kind: .unsignedEntries, index: 0)))
    }

    // MARK: Trusted checkpoints (exported earlier, or cosigned by a witness)

    @Test func aRollbackToAnOlderCopyFailsAgainstATrustedCheckpoint() async throws {
        let temp = try await makeLog()
        defer { temp.remove() }
        let olderEntries = try Data(contentsOf: temp.entriesURL)
        let olderCheckpoints = try Data(contentsOf: temp.checkpointsURL)
        let log = try temp.open()
        for number in 6..<9 { _ = try await log.append(TemporaryLog.entry(number)) }
        try await log.close()
        let trusted = try #require(try await temp.verify().latestCheckpoint)
        #expect(trusted.size == 9)

        // The attacker puts back the older copy of both files.
        try olderEntries.write(to: temp.entriesURL)
        try olderCheckpoints.write(to: temp.checkpointsURL)
        // On its own the older copy is a perfectly valid log: only the trusted checkpoint reveals the rollback.
        #expect(try await temp.verify().isValid)
        let report = try await AuditVerifier.verify(
            directory: temp.directory, verifier: temp.verifier, trusted: [trusted])
        #expect(report.problems == [VerificationProblem(kind: .inconsistentWithTrusted, index: 6)])
        #expect(report.trustedVerified.isEmpty)
    }

    @Test func cuttingTheNewestEntriesWithTheirCheckpointsFailsAgainstATrustedCheckpoint() async throws {
        let temp = try await makeLog()
        defer { temp.remove() }
        let log = try temp.open()
        _ = try await log.append(TemporaryLog.entry(6))
        try await log.close()
        let trusted = try #require(try await temp.verify().latestCheckpoint)
        try temp.writeLines(Array(try temp.lines().dropLast()))
        let notes = SignedCheckpoint.splitNotes(try String(contentsOf: temp.checkpointsURL, encoding: .utf8)).notes
        try Data(notes.dropLast().joined().utf8).write(to: temp.checkpointsURL)
        #expect(try await temp.verify().isValid)
        let report = try await AuditVerifier.verify(
            directory: temp.directory, verifier: temp.verifier, trusted: [trusted])
        #expect(report.problems == [VerificationProblem(kind: .inconsistentWithTrusted, index: 6)])
    }

    @Test func aForkFailsAgainstATrustedCheckpoint() async throws {
        let temp = try await makeLog()
        defer { temp.remove() }
        let trusted = try #require(try await temp.verify().latestCheckpoint)
        // The same key (say, a stolen one) signs a log that rewrites entry 3 and grows past the trusted size.
        try FileManager.default.removeItem(at: temp.directory)
        let log = try temp.open()
        for number in 0..<8 { _ = try await log.append(TemporaryLog.entry(number == 3 ? 1003 : number)) }
        try await log.close()
        #expect(try await temp.verify().isValid)
        let report = try await AuditVerifier.verify(
            directory: temp.directory, verifier: temp.verifier, trusted: [trusted])
        #expect(report.problems == [VerificationProblem(kind: .inconsistentWithTrusted, index: nil)])
    }

    @Test func aGrownLogIsProvenConsistentWithATrustedCheckpoint() async throws {
        let temp = try await makeLog()
        defer { temp.remove() }
        let trusted = try #require(try await temp.verify().latestCheckpoint)
        let log = try temp.open()
        for number in 6..<11 { _ = try await log.append(TemporaryLog.entry(number)) }
        try await log.close()
        let report = try await AuditVerifier.verify(
            directory: temp.directory, verifier: temp.verifier, trusted: [trusted])
        #expect(report.isValid)
        #expect(report.trustedVerified == [trusted])
        #expect(report.summary.contains("consistent with the trusted checkpoint of size 6"))
    }
}
