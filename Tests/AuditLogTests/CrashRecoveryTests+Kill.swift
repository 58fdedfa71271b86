import Crypto
import Foundation
import Testing

@testable import AuditLog

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A real crash: a child process appends from eight tasks until it SIGKILLs itself; the parent then reopens the log,
/// appends, and verifies it.
enum KillTest {
    static let origin = "kill.test/audit"
    static let key = try! Curve25519.Signing.PrivateKey(rawRepresentation: Data(repeating: 7, count: 32))

    /// The exit-test child cannot capture values, so both sides derive the directory from the parent's pid.
    static func directory(parent: Int32) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("audit-kill-test-\(parent)", isDirectory: true)
    }
}

@Suite struct KillRecoveryTests {
    @Test func killingAnAppendingProcessLeavesALogThatVerifies() async throws {
        let directory = KillTest.directory(parent: getpid())
        try? FileManager.default.removeItem(at: directory)
        defer { try? FileManager.default.removeItem(at: directory) }

        await #expect(processExitsWith: .signal(SIGKILL)) {
            let directory = KillTest.directory(parent: getppid())
            let log = try AuditLog(
                directory: directory, signer: KillTest.key, origin: KillTest.origin, checkpointInterval: 16)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for appender in 0..<8 {
                    group.addTask {
                        var n = 0
                        while true {
                            _ = try await log.append(TemporaryLog.entry(appender * 1_000_000 + n))
                            n += 1
                        }
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(400))
                    kill(getpid(), SIGKILL)
                }
                try await group.waitForAll()
            }
        }

        let log = try AuditLog(directory: directory, signer: KillTest.key, origin: KillTest.origin)
        let survived = await log.size
        #expect(survived > 0)
        #expect(try await log.append(TemporaryLog.entry(999_999)) == survived)
        try await log.close()
        let verifier = try NoteVerifier(name: KillTest.origin, publicKey: KillTest.key.publicKey)
        let report = try await AuditVerifier.verify(directory: directory, verifier: verifier)
        #expect(report.isValid, "\(report.problems)")
        #expect(report.entryCount == survived + 1)
    }
}
