import Foundation
import Testing

@testable import AuditLog

@Suite struct AuditLogReaderTests {
    @Test func inclusionProofsVerifyOfflineAndRejectTampering() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        try await temp.fill(13, checkpointInterval: 1024)
        let reader = AuditLogReader(directory: temp.directory)
        for index in 0..<13 {
            let proof = try reader.inclusionProof(index: UInt64(index), verifiedBy: temp.verifier)
            #expect(proof.treeSize == 13)
            #expect(try proof.verify(with: temp.verifier) == TemporaryLog.entry(index))
            // Through JSON, as `audit prove` prints it and `audit verify-proof` reads it.
            let decoded = try JSONDecoder().decode(InclusionProof.self, from: JSONEncoder().encode(proof))
            #expect(decoded == proof)
            #expect(try decoded.verify(with: temp.verifier) == TemporaryLog.entry(index))
        }
        let proof = try reader.inclusionProof(index: 4, verifiedBy: temp.verifier)
        var altered = proof
        altered.leafData = Data(
            String(decoding: proof.leafData, as: UTF8.self)
                .replacingOccurrences(of: "allowed", with: "denied").utf8)
        #expect(throws: AuditLogError.invalidProof) { try altered.verify(with: temp.verifier) }
        var moved = proof
        moved.index = 5
        #expect(throws: AuditLogError.invalidProof) { try moved.verify(with: temp.verifier) }
        var badPath = proof
        badPath.hashes[0] = badPath.hashes[0].flipping(1, at: 3)
        #expect(throws: AuditLogError.invalidProof) { try badPath.verify(with: temp.verifier) }
        let otherKey = TemporaryLog()
        #expect(throws: AuditLogError.unknownKey) { try proof.verify(with: otherKey.verifier) }
        #expect(throws: AuditLogError.indexOutOfRange) {
            try reader.inclusionProof(index: 13, verifiedBy: temp.verifier)
        }
    }

    @Test func consistencyProofsBetweenCheckpointsVerify() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        try await temp.fill(23, checkpointInterval: 7)
        let reader = AuditLogReader(directory: temp.directory)
        let checkpoints = try reader.checkpoints(verifiedBy: temp.verifier).map(\.checkpoint)
        #expect(checkpoints.map(\.size) == [7, 14, 21, 23])
        for (old, new) in zip(checkpoints, checkpoints.dropFirst()) {
            let proof = try reader.consistencyProof(from: old.size, to: new.size)
            #expect(
                Merkle.verifyConsistency(
                    oldSize: old.size, newSize: new.size, oldRoot: old.rootHash,
                    newRoot: new.rootHash, proof: proof))
        }
    }

    @Test func tailAndSinceSelectEntries() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        try await temp.fill(10)
        let reader = AuditLogReader(directory: temp.directory)
        #expect(try reader.tail(3).map(\.index) == [7, 8, 9])
        #expect(try reader.tail(0).isEmpty)
        #expect(try reader.tail(50).count == 10)
        let since = TemporaryLog.entry(6).time
        #expect(try reader.entries(since: since).map(\.index) == [6, 7, 8, 9])
    }

    @Test func exportsJSONLinesAndCSV() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        let log = try temp.open()
        _ = try await log.append(TemporaryLog.entry(0))
        _ = try await log.append(
            AuditEntry(
                time: TemporaryLog.entry(1).time, principal: "=cmd()", action: "data.get", resource: "dataset:a,b",
                outcome: .denied, requestID: "r\"2", detail: "multi\nline"))
        try await log.close()
        let reader = AuditLogReader(directory: temp.directory)

        let jsonl = String(decoding: try reader.export(.jsonl, coveredBy: nil), as: UTF8.self).split(separator: "\n")
        #expect(jsonl.count == 2)
        #expect(jsonl[0].hasPrefix(#"{"entry":{"action":"model.pull""#))
        #expect(jsonl[1].hasSuffix(#","index":1}"#))

        let csv = String(decoding: try reader.export(.csv, coveredBy: nil), as: UTF8.self)
        let rows = csv.components(separatedBy: "\r\n")
        #expect(rows[0] == "index,time,principal,action,resource,outcome,request,client,detail")
        #expect(rows[1] == "0,2027-01-15T08:00:00.000Z,user0,model.pull,model:m0,allowed,req-0,10.0.0.0,note 0")
        #expect(
            rows[2]
                == "1,2027-01-15T08:00:01.000Z,\"'=cmd()\",data.get,\"dataset:a,b\",denied,\"r\"\"2\",,\"multi\nline\"")

        let since = String(
            decoding: try reader.export(.csv, since: TemporaryLog.entry(1).time, coveredBy: nil), as: UTF8.self)
        #expect(since.components(separatedBy: "\r\n").count == 3)
    }
}

/// Reads limited to what a signed checkpoint covers (the compliance report, `audit tail`, `audit export`).
struct AuditLogReaderCoveredTests {
    @Test func recordsAppendedAfterTheCheckpointAreLeftOut() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        let (log, checkpoint) = try await temp.openSigned(3)
        // Sealed by the writer and durable, but after the checkpoint.
        _ = try await log.append(TemporaryLog.entry(3))
        let reader = AuditLogReader(directory: temp.directory)
        #expect(try reader.records().count == 4)
        #expect(try reader.entries(coveredBy: checkpoint).map(\.index) == [0, 1, 2])
        let export = String(decoding: try reader.export(.csv, coveredBy: checkpoint), as: UTF8.self)
        #expect(export.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 4)
        try await log.close()
    }

    @Test func aCoveredRecordChangedAfterSigningIsRefused() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        let (log, checkpoint) = try await temp.openSigned(3)
        try await log.close()
        // Entry 1 swapped for another well-formed record at the same index.
        let forged = AuditRecord(index: 1, entryJSON: try TemporaryLog.entry(99).canonicalJSON())
        var lines = try temp.lines()
        lines[1] = String(decoding: forged.line.dropLast(), as: UTF8.self)
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: temp.entriesURL)
        let reader = AuditLogReader(directory: temp.directory)
        #expect(throws: AuditLogError.checkpointMismatch) { _ = try reader.entries(coveredBy: checkpoint) }
        #expect(throws: AuditLogError.checkpointMismatch) { _ = try reader.export(.jsonl, coveredBy: checkpoint) }
    }

    @Test func aLogCutBelowTheCheckpointIsRefused() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        let (log, checkpoint) = try await temp.openSigned(3)
        try await log.close()
        let lines = try temp.lines()
        try Data((lines.prefix(2).joined(separator: "\n") + "\n").utf8).write(to: temp.entriesURL)
        #expect(throws: AuditLogError.logShorterThanCheckpoint) {
            _ = try AuditLogReader(directory: temp.directory).entries(coveredBy: checkpoint)
        }
    }
}

/// Review 6 (2026-12-04): text swapped under the leaf hash stored beside it. A writer's catch-up binds only the stored
/// hashes to the signed root, so readers that took the text as logged (the catalog state check, a filtered `audit
/// tail`) were shown it.
struct AuditLogCheckedRecordsTests {
    @Test func aRecordWhoseTextNoLongerMatchesItsStoredHashIsRefused() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        try await temp.fill(4, checkpointInterval: 2)
        var lines = try temp.lines()
        lines[2] = lines[2].replacingOccurrences(of: "user2", with: "userX")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: temp.entriesURL)
        #expect(throws: AuditLogError.corruptRecord) { _ = try AuditLogReader(directory: temp.directory).records() }
        // The writer still opens on the stored hashes; what it hands out as logged is checked.
        let log = try temp.open()
        await #expect(throws: AuditLogError.corruptRecord) { _ = try await log.checkedRecords() }
        try await log.close()
    }

    /// Review 8: a signature line under the log's name from a key the chain does not hold makes a writer refuse the
    /// log (a handover it does not know); the checked read passed it, so `vault check` said the state verified.
    @Test func aSignatureLineFromAKeyTheChainDoesNotHoldIsRefusedAsAtOpen() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        try await temp.fill(3)
        let line = "\u{2014} \(temp.origin) " + Data((0..<68).map { UInt8($0) }).base64EncodedString() + "\n"
        let handle = try FileHandle(forWritingTo: temp.checkpointsURL)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(line.utf8))
        try handle.close()
        #expect(throws: AuditLogError.keyRetired) { _ = try temp.open() }
        let signer = try NoteSigner(name: temp.origin, key: temp.key)
        #expect(throws: AuditLogError.keyRetired) {
            _ = try AuditLogReader(directory: temp.directory).checkedRecords(
                keys: try AuditKeyChain(current: temp.verifier), signer: signer)
        }
    }

    @Test func aPlantedRecordAfterTheCheckpointIsRefusedEvenWhileAnotherWriterIsOpen() async throws {
        let temp = TemporaryLog()
        defer { temp.remove() }
        let (log, _) = try await temp.openSigned(3)
        #expect(try await log.checkedRecords().count == 3)
        // Sealed records after the checkpoint (this writer's) pass.
        _ = try await log.append(TemporaryLog.entry(3))
        #expect(try await log.checkedRecords().map(\.index) == [0, 1, 2, 3])
        // A hand-made record (correct stored hash, no seal) after them does not.
        let data = try Data(contentsOf: temp.entriesURL)
        let end = data.firstIndex(of: 0) ?? data.endIndex
        let handle = try FileHandle(forWritingTo: temp.entriesURL)
        try handle.seek(toOffset: UInt64(end))
        try handle.write(
            contentsOf: AuditRecord(index: 4, entryJSON: try TemporaryLog.entry(99).canonicalJSON()).line)
        try handle.close()
        await #expect(throws: AuditLogError.unsealedTail) { _ = try await log.checkedRecords() }
    }
}
