import Foundation
import TestSupport
import Testing

/// Issue #18: long commands report progress on stderr; into a pipe, one summary line and no redrawn bar.
@Suite(.serialized) struct ProgressReporterCLITests {
    @Test func pushAndPullIntoAPipePrintOneSummaryLineAndNothingWhenQuiet() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        try FileManager.default.createDirectory(at: work.appending(path: "model"), withIntermediateDirectories: true)
        try Data(repeating: 7, count: 5000).write(to: work.appending(path: "model/weights.bin"))

        let pushed = try ModelVaultBinary.run(["model", "push", "clf", "model"], environment: env, in: work)
        #expect(pushed.stdout == "clf@1\n", "\(pushed.stderr)")
        let lines = pushed.stderr.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("pushed 5.0 kB in ") }.count == 1, "\(pushed.stderr)")
        #expect(!pushed.stderr.contains("\r") && !pushed.stderr.contains("ETA"), "\(pushed.stderr)")

        let pulled = try ModelVaultBinary.run(["model", "pull", "clf@1", "-o", "out"], environment: env, in: work)
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(
            pulled.stderr.split(separator: "\n").filter { $0.hasPrefix("pulled 5.0 kB in ") }.count == 1,
            "\(pulled.stderr)")

        let quiet = try ModelVaultBinary.run(["model", "push", "clf", "model", "--quiet"], environment: env, in: work)
        #expect(quiet.stdout == "clf@2\n", "\(quiet.stderr)")
        #expect(quiet.stderr.isEmpty, "\(quiet.stderr)")
    }
}

extension ProgressReporterCLITests {
    /// `scan` reports the bytes of every file it scans: into a pipe one summary line after the findings, none under
    /// `--quiet`.
    @Test func scanIntoAPipePrintsOneSummaryLineAndNothingWhenQuiet() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        try Data([0x80, 0x04, 0x4E, 0x2E]).write(to: work.appending(path: "a.pkl"))
        try Data([0x80, 0x02] + [UInt8](repeating: 0x4E, count: 2996) + [0x2E]).write(to: work.appending(path: "b.pkl"))
        let scanned = try ModelVaultBinary.run(["scan", "a.pkl", "b.pkl"], in: work)
        #expect(scanned.status != 1, "\(scanned.stderr)")
        let summaries = scanned.stderr.split(separator: "\n").filter { $0.hasPrefix("scanned 3.0 kB in ") }
        #expect(summaries.count == 1, "\(scanned.stderr)")
        #expect(!scanned.stderr.contains("\r") && !scanned.stderr.contains("ETA"), "\(scanned.stderr)")
        let quiet = try ModelVaultBinary.run(["scan", "a.pkl", "b.pkl", "--quiet"], in: work)
        #expect(quiet.stdout == scanned.stdout)
        #expect(quiet.stderr.isEmpty, "\(quiet.stderr)")
    }
}

extension RemoteModeCLITests {
    /// Issue #18: a remote push and pull report the bytes they move; into a pipe one summary line each, none under
    /// `--quiet`.
    @Test(.timeLimit(.minutes(5))) func aRemotePushAndPullPrintOneSummaryLineEach() async throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let vault = try PreparedVault(minimal: directory.url, weights: "seed")
        let server = try await RunningServer(vault)
        defer { server.stop() }
        let client = vault.work.appending(path: "client")
        try FileManager.default.createDirectory(at: client.appending(path: "model"), withIntermediateDirectories: true)
        try TestData.bytes(3 << 20, seed: 3).write(to: client.appending(path: "model/weights.bin"))
        func run(_ arguments: [String]) throws -> ChildProcess.Output {
            try ModelVaultBinary.run(
                arguments,
                environment: [
                    "MODELVAULT_SERVER": server.url, "MODELVAULT_CA_FILE": server.certificate.path,
                    "MODELVAULT_TOKEN": vault.tokens["admin"] ?? "", "MODELVAULT_PASSPHRASE": "",
                    "MODELVAULT_VERIFIER": vault.work.appending(path: "vault.pem").path,
                ], in: client)
        }
        let pushed = try run(["model", "push", "big", "model"])
        #expect(pushed.stdout == "big@1\n", "\(pushed.stderr)")
        #expect(
            pushed.stderr.split(separator: "\n").filter { $0.hasPrefix("uploaded 3.1 MB in ") }.count == 1,
            "\(pushed.stderr)")
        #expect(!pushed.stderr.contains("\r"), "\(pushed.stderr)")
        let pulled = try run(["model", "pull", "big@1", "-o", "out"])
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(
            pulled.stderr.split(separator: "\n").filter { $0.hasPrefix("downloaded 3.") }.count == 1, "\(pulled.stderr)"
        )
        let quiet = try run(["model", "push", "big", "model", "--quiet"])
        #expect(quiet.stdout == "big@2\n", "\(quiet.stderr)")
        #expect(quiet.stderr.isEmpty, "\(quiet.stderr)")
    }
}
