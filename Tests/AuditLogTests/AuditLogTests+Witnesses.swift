import Crypto
import Foundation
import Testing

@testable import AuditLog

/// A temporary log and an in-process witness of it.
private struct WitnessTestSetup {
    let temp = TemporaryLog()
    let stateFile = FileManager.default.temporaryDirectory.appendingPathComponent("witness-\(UUID().uuidString)")
    let cosigner = try! CosignatureSigner(name: "witness.test/w1", key: Curve25519.Signing.PrivateKey())

    func endpoint() throws -> WitnessEndpoint {
        WitnessEndpoint(
            verifier: cosigner.verifier,
            transport: try Witness(signer: cosigner, logs: [temp.verifier], stateFile: stateFile))
    }

    func remove() {
        temp.remove()
        try? FileManager.default.removeItem(at: stateFile)
    }
}

/// A vault's log with witnesses: cosigning in the background, an unreachable witness, and a restored older copy
/// caught because the witness holds a newer checkpoint.
@Suite struct AuditLogWitnessTests {
    private struct Unreachable: WitnessTransport {
        struct Down: Error {}
        func addCheckpoint(_ body: Data) async throws -> (status: Int, body: Data) { throw Down() }
    }

    @Test func cosigningRunsInTheBackgroundWhileAppendsGoOn() async throws {
        let setup = WitnessTestSetup()
        defer { setup.remove() }
        let witness = try setup.endpoint()
        let log = try setup.temp.open()
        let cosigning = log.cosignContinuously(
            with: [witness], every: .milliseconds(50), orEntries: 8, poll: .milliseconds(10))
        for number in 0..<40 { _ = try await log.append(TemporaryLog.entry(number)) }
        var cosigned: UInt64 = 0
        for _ in 0..<300 where cosigned < 40 {
            try await Task.sleep(for: .milliseconds(10))
            cosigned =
                AuditLog.storedCosignature(in: log.directory, verifier: witness.verifier, log: log.verifier)?
                .checkpoint.size ?? 0
        }
        cosigning.cancel()
        #expect(cosigned == 40)
        let report = try await log.verify(witnesses: [witness], maxCosignatureAge: 60)
        #expect(report.isValid, "\(report.problems)")
        #expect(report.newestCosignature != nil)
        try await log.close()
    }

    @Test func anUnreachableWitnessLetsAppendsGoOnAndItsCosignatureAges() async throws {
        let setup = WitnessTestSetup()
        defer { setup.remove() }
        let down = WitnessEndpoint(verifier: setup.cosigner.verifier, transport: Unreachable())
        let log = try setup.temp.open()
        _ = try await log.append(TemporaryLog.entry(0))
        #expect(await log.submit(to: down) == .unavailable(status: nil))
        _ = try await log.append(TemporaryLog.entry(1))
        let lenient = try await log.verify(witnesses: [down])
        #expect(lenient.isValid)
        #expect(lenient.newestCosignature == nil)
        let strict = try await log.verify(witnesses: [down], maxCosignatureAge: 3600)
        #expect(strict.problems == [VerificationProblem(kind: .staleCosignature)])
        try await log.close()
    }

    @Test func restoringAnOlderCopyIsCaughtBecauseTheWitnessHoldsANewerCheckpoint() async throws {
        let setup = WitnessTestSetup()
        defer { setup.remove() }
        let witness = try setup.endpoint()
        var log = try setup.temp.open()
        for number in 0..<4 { _ = try await log.append(TemporaryLog.entry(number)) }
        #expect(await log.submit(to: witness) != .unavailable(status: nil))
        try await log.close()
        let backup = try setup.temp.snapshot()
        log = try setup.temp.open()
        for number in 4..<9 { _ = try await log.append(TemporaryLog.entry(number)) }
        guard case .cosigned = await log.submit(to: witness) else {
            Issue.record("the witness did not cosign a consistent extension")
            return
        }
        try await log.close()

        // The attacker restores the older copy, stored cosignature included: locally everything is consistent.
        try setup.temp.restore(backup)
        log = try setup.temp.open()
        let report = try await log.verify(witnesses: [witness])
        #expect(!report.isValid)
        #expect(report.problems.contains { $0.kind == .inconsistentWithWitness })
        try await log.close()
    }

    @Test func aForkIsCaughtByTheWitness() async throws {
        let setup = WitnessTestSetup()
        defer { setup.remove() }
        let witness = try setup.endpoint()
        let log = try setup.temp.open()
        for number in 0..<5 { _ = try await log.append(TemporaryLog.entry(number)) }
        _ = await log.submit(to: witness)
        try await log.close()
        // The same key signs another history of the same length in a fresh directory.
        try FileManager.default.removeItem(at: setup.temp.directory)
        let forked = try setup.temp.open()
        for number in 0..<5 { _ = try await forked.append(TemporaryLog.entry(number + 100)) }
        let report = try await forked.verify(witnesses: [witness])
        #expect(report.problems.contains { $0.kind == .inconsistentWithWitness })
        try await forked.close()
    }
}

/// Background cosigning sends a checkpoint the group commit already signed and synced, with a proof built from the
/// records since the witness's last cosignature, instead of signing and syncing one of its own beside the appends.
@Suite struct AuditLogWitnessReuseTests {
    @Test func backgroundRoundsSendTheGroupCommitsDurableCheckpoint() async throws {
        let setup = WitnessTestSetup()
        defer { setup.remove() }
        let temp = setup.temp
        let witness = try setup.endpoint()
        let log = try temp.open(checkpointInterval: 4)
        let reader = AuditLogReader(directory: temp.directory)
        func cosignedSize(_ outcome: WitnessOutcome) throws -> UInt64 {
            guard case .cosigned(let note, _) = outcome else {
                Issue.record("not cosigned: \(outcome)")
                return 0
            }
            return try SignedCheckpoint(verifying: note, with: temp.verifier).checkpoint.size
        }

        for number in 0..<10 { _ = try await log.append(TemporaryLog.entry(number)) }
        var notes = try reader.checkpointNotes().count
        let first = try cosignedSize(await log.submit(to: witness, latest: false))
        #expect(first >= 4 && first < 10)
        #expect(try reader.checkpointNotes().count == notes, "a round signed a checkpoint of its own")

        // The next round goes from the witness's size to a later group-commit checkpoint: the witness checks the
        // proof, built from the records between the two.
        for number in 10..<30 { _ = try await log.append(TemporaryLog.entry(number)) }
        notes = try reader.checkpointNotes().count
        let second = try cosignedSize(await log.submit(to: witness, latest: false))
        #expect(second > first && second < 30)
        #expect(try reader.checkpointNotes().count == notes)

        // Nothing newer from the group commit: a checkpoint of every entry is signed now.
        let third = try cosignedSize(await log.submit(to: witness, latest: false))
        #expect(third == 30)
        #expect(try cosignedSize(await log.submit(to: witness)) == 30)
        try await log.close()
    }

    @Test func theTrailingEntriesAreCosignedByATimedRoundWithNoNewAppends() async throws {
        let setup = WitnessTestSetup()
        defer { setup.remove() }
        let temp = setup.temp
        let witness = try setup.endpoint()
        let log = try temp.open(checkpointInterval: 4)
        for number in 0..<10 { _ = try await log.append(TemporaryLog.entry(number)) }
        let cosigning = log.cosignContinuously(
            with: [witness], every: .milliseconds(50), orEntries: 8, poll: .milliseconds(10))
        var cosigned: UInt64 = 0
        for _ in 0..<300 where cosigned < 10 {
            try await Task.sleep(for: .milliseconds(10))
            cosigned =
                AuditLog.storedCosignature(in: log.directory, verifier: witness.verifier, log: log.verifier)?
                .checkpoint.size ?? 0
        }
        cosigning.cancel()
        #expect(cosigned == 10)
        try await log.close()
    }
}
