import Foundation
import TestSupport
import Testing

/// Issue #20 point 11: options that do not apply are not offered. `init` creates a vault: a token file, a server and
/// its CA mean nothing there (before: `init --help` listed `--token-file`, `--server` and `--ca-file`).
@Suite struct InitOptionsCLITests {
    @Test func initOffersNoTokenOrServerOptions() throws {
        try ModelVaultBinary.requireBuilt()
        let work = try TemporaryDirectory()
        let help = try ModelVaultBinary.run(["init", "--help"], in: work.url)
        #expect(help.status == 0)
        for option in ["--token-file", "--server", "--ca-file"] {
            #expect(!help.stdout.contains(option), "init --help offers \(option)")
        }
        #expect(help.stdout.contains("--vault") && help.stdout.contains("--passphrase-file"))
        let refused = try ModelVaultBinary.run(["init", "--token-file", "t"], in: work.url)
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.url.appending(path: "vault").path))
    }
}
