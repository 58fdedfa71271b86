import Foundation
import Testing

@testable import AuditLog

/// The consistency proof a log sends a witness is built from the compact range at the witness's size and the leaves
/// appended since: it must equal the RFC 6962 proof computed from every leaf.
@Suite struct MerkleIncrementalProofTests {
    @Test func theIncrementalProofEqualsTheFullProofForEverySizePair() throws {
        let leaves = (0..<70).map { Merkle.leafHash(Data("leaf \($0)".utf8)) }
        for n in 1...leaves.count {
            for m in 0...n {
                var range = CompactRange()
                for leaf in leaves[0..<m] { range.append(leaf) }
                let incremental = try #require(Merkle.consistencyProof(from: range, appending: leaves[m..<n]))
                let full = try Merkle.consistencyProof(from: m, in: leaves[0..<n])
                #expect(incremental == full, "m=\(m) n=\(n)")
            }
        }
    }

    @Test func aWitnessSubmissionAfterTheFirstReadsOnlyTheNewRecords() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "mv-proof-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = try AuditLog(directory: directory, signer: .init(), origin: "test/proof", checkpointInterval: 1_000)
        for n in 0..<40 { _ = try await log.append(TemporaryLog.entry(n)) }
        let first = try await log.checkpoint().checkpoint
        for n in 40..<77 { _ = try await log.append(TemporaryLog.entry(n)) }
        let second = try await log.checkpoint().checkpoint
        // Damage a record before the first checkpoint: a full read now fails, the incremental proof never reads it.
        let file = try FileHandle(forWritingTo: directory.appending(path: "entries.jsonl"))
        try file.write(contentsOf: Data("zz".utf8))
        try file.close()
        #expect(throws: (any Error).self) {
            try AuditLogReader(directory: directory).consistencyProof(from: first.size, to: second.size)
        }
        let proof = try #require(await log.consistencyProof(from: first.size, to: second.size))
        #expect(
            Merkle.verifyConsistency(
                oldSize: first.size, newSize: second.size, oldRoot: first.rootHash, newRoot: second.rootHash,
                proof: proof))
        try await log.close()
    }
}
