import Crypto
import Foundation

@testable import AuditLog

/// A fresh temporary audit directory per test, removed afterwards.
struct TemporaryLog {
    let directory: URL
    let key = Curve25519.Signing.PrivateKey()
    let origin = "vault.test/audit"

    init() {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("audit-test-\(UUID().uuidString)", isDirectory: true)
    }

    var verifier: NoteVerifier { try! NoteVerifier(name: origin, publicKey: key.publicKey) }
    var entriesURL: URL { directory.appendingPathComponent("entries.jsonl") }
    var checkpointsURL: URL { directory.appendingPathComponent("checkpoints.log") }

    func open(checkpointInterval: UInt64 = 1024) throws -> AuditLog {
        try AuditLog(directory: directory, signer: key, origin: origin, checkpointInterval: checkpointInterval)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    static func entry(_ number: Int, outcome: AuditEntry.Outcome = .allowed) -> AuditEntry {
        AuditEntry(
            time: Date(timeIntervalSince1970: 1_800_000_000 + Double(number)), principal: "user\(number % 7)",
            action: ["model.pull", "data.get", "keys.rotate"][number % 3], resource: "model:m\(number % 5)",
            outcome: outcome, requestID: "req-\(number)",
            clientAddress: number % 2 == 0 ? "10.0.0.\(number % 250)" : nil,
            detail: number % 4 == 0 ? "note \(number)" : nil)
    }

    /// Opens the log, appends `count` entries and signs a checkpoint of them; the log stays open.
    func openSigned(_ count: Int) async throws -> (AuditLog, Checkpoint) {
        let log = try open()
        for number in 0..<count { _ = try await log.append(Self.entry(number)) }
        return (log, try await log.checkpoint().checkpoint)
    }

    /// Appends `count` entries one after another, with checkpoints every `interval`, then closes.
    func fill(_ count: Int, checkpointInterval: UInt64 = 1024) async throws {
        let log = try open(checkpointInterval: checkpointInterval)
        for number in 0..<count { _ = try await log.append(Self.entry(number)) }
        try await log.close()
    }

    /// The entries file split into lines (each without its newline).
    func lines() throws -> [String] {
        String(decoding: try Data(contentsOf: entriesURL), as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// Copies the log's files to a new directory (plain reads and writes: tests run concurrently, and
    /// `FileManager.copyItem` is avoided here).
    func snapshot() throws -> URL {
        let copy = directory.deletingLastPathComponent().appendingPathComponent("audit-copy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            try Data(contentsOf: directory.appendingPathComponent(name)).write(to: copy.appendingPathComponent(name))
        }
        return copy
    }

    /// Replaces the log's files with those of a snapshot (an attacker restoring an older copy), removing it.
    func restore(_ copy: URL) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            try FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: copy.path) {
            try Data(contentsOf: copy.appendingPathComponent(name)).write(to: directory.appendingPathComponent(name))
        }
        try FileManager.default.removeItem(at: copy)
    }

    /// Leaves the writers' marker as a writer that did not close leaves it (what a crash looks like on disk).
    func markCrashed() throws {
        try Data("open\n".utf8).write(to: directory.appendingPathComponent("writers.lock"))
    }

    func writeLines(_ lines: [String]) throws {
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: entriesURL)
    }

    func verify() async throws -> VerificationReport {
        try await AuditVerifier.verify(directory: directory, verifier: verifier)
    }
}

extension TreeHash {
    /// The same hash with `mask` XORed into byte `index` (a tampered hash).
    func flipping(_ mask: UInt8, at index: Int) -> TreeHash {
        var bytes = self.bytes
        bytes[index] ^= mask
        return TreeHash(bytes: bytes)!
    }
}
