import Foundation
import TestSupport
import Testing

/// `modelvault demo`: the README's main job must run every step and succeed.
@Suite struct DemoCommandTests {
    /// The step titles the demo must narrate, in order.
    static let steps = [
        "Create the vault", "One user per persona", "Add the datasets, encrypted", "Train and evaluate in memory",
        "Sign, encrypt and register", "Promote to production", "Serve over TLS", "Private inference under CKKS",
        "Tamper with a stored blob", "Mint an admin token straight into catalog.sqlite", "Rotate the vault key",
        "Verify the audit log",
    ]

    @Test(TestBuild.needsOptimizedBuild, .timeLimit(.minutes(20))) func demoRunsEveryStepAndSucceeds() throws {
        try ModelVaultBinary.requireBuilt()
        let work = try TemporaryDirectory()
        let result = try ModelVaultBinary.run(
            ["demo", "--dir", "demo-vault"], environment: ["MODELVAULT_PASSPHRASE": "demo test passphrase"],
            in: work.url)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        var position = result.stdout.startIndex
        for (index, step) in Self.steps.enumerated() {
            let header = "[\(index + 1)/\(Self.steps.count)] \(step)"
            let found = result.stdout.range(of: header, range: position..<result.stdout.endIndex)
            #expect(found != nil, "missing or out of order: \(header)")
            if let found { position = found.upperBound }
        }
        #expect(result.stdout.contains("demo complete: all \(Self.steps.count) steps succeeded"))
        #expect(result.stdout.contains("HTTP 401"))
        #expect(result.stdout.contains("HTTP 403"))
        #expect(!result.stdout.contains("FAILED"))
        // The passphrase came from the environment: it must not be echoed.
        #expect(!result.stdout.contains("demo test passphrase"))
        // --dir keeps the vault, whose audit log now verifies with the CLI too.
        #expect(FileManager.default.fileExists(atPath: work.url.appending(path: "demo-vault/vault.json").path))
        // Issue #20: a kept vault stays usable. The admin token is in a 0600 file beside it, never printed.
        let tokenFile = work.url.appending(path: "demo-vault.admin-token")
        let mode = try FileManager.default.attributesOfItem(atPath: tokenFile.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let token = try String(contentsOf: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!token.isEmpty && !result.stdout.contains(token))
        #expect(result.stdout.contains("demo-vault.admin-token"))
        let listed = try ModelVaultBinary.run(
            ["model", "list", "--vault", "demo-vault", "--token-file", tokenFile.path],
            environment: ["MODELVAULT_PASSPHRASE": "demo test passphrase"], in: work.url)
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.contains("breast-cancer"))
    }

    /// The step titles of `demo --remote`, in order.
    static let remoteSteps = [
        "Create the vault", "One user per persona", "Start the server: TLS on 127.0.0.1",
        "dana adds the data and trains on the server", "devin promotes the version to production",
        "mel verifies, pulls and predicts", "Refused: a made-up token, the wrong role",
        "sam verifies the audit log; cora reads it and the compliance report",
    ]

    /// Issue #14: `demo --remote` walks the personas through a TLS server on loopback; each persona's CLI run holds
    /// only the server's URL, its certificate and its own token, and the refusals come back as exit 3.
    @Test(.timeLimit(.minutes(10))) func remoteDemoRunsThePersonasThroughTheServer() throws {
        try ModelVaultBinary.requireBuilt()
        let work = try TemporaryDirectory()
        let result = try ModelVaultBinary.run(
            ["demo", "--remote", "--dir", "demo-vault"],
            environment: ["MODELVAULT_PASSPHRASE": "demo test passphrase"], in: work.url)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        var position = result.stdout.startIndex
        for (index, step) in Self.remoteSteps.enumerated() {
            let header = "[\(index + 1)/\(Self.remoteSteps.count)] \(step)"
            let found = result.stdout.range(of: header, range: position..<result.stdout.endIndex)
            #expect(found != nil, "missing or out of order: \(header)")
            if let found { position = found.upperBound }
        }
        #expect(result.stdout.contains("demo complete: all \(Self.remoteSteps.count) steps succeeded"))
        #expect(result.stdout.contains("no passphrase, no identity file, no vault path"))
        #expect(result.stdout.components(separatedBy: "(exit 3)").count == 4)
        #expect(!result.stdout.contains("FAILED"))
        #expect(!result.stdout.contains("demo test passphrase"))
        // The server wrote the personas' work into the kept vault; the admin token reads it locally afterwards.
        let listed = try ModelVaultBinary.run(
            ["model", "list", "--vault", "demo-vault", "--token-file", "demo-vault.admin-token"],
            environment: ["MODELVAULT_PASSPHRASE": "demo test passphrase"], in: work.url)
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.contains("breast-cancer-logistic"))
    }

    @Test func demoRefusesANonEmptyDirectory() throws {
        try ModelVaultBinary.requireBuilt()
        let work = try TemporaryDirectory()
        try FileManager.default.createDirectory(at: work.url.appending(path: "full"), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: work.url.appending(path: "full/file"))
        let result = try ModelVaultBinary.run(["demo", "--dir", "full"], in: work.url)
        #expect(result.status == 5)
        #expect(result.stderr.contains("new or empty directory"))
    }
}
