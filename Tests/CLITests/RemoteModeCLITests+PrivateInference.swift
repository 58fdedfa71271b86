import Foundation
import TestSupport
import Testing

extension RemoteModeCLITests {
    /// `he infer` through the server's private-inference route: the same exit codes as locally for an allowed role,
    /// a role without `model.private-infer` and a binding scoped to another model, and a result file `he decrypt`
    /// reads to the same classes as a local result.
    @Test(.timeLimit(.minutes(10))) func heInferRunsThroughThePrivateInferenceRouteLikeLocally() async throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let vault = try PreparedVault(in: directory.url)
        let trained = try vault.admin([
            "train", "fraud", "--dataset", "fraud@1", "--label", "label", "--model", "logistic", "--epochs", "5",
        ])
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(try vault.admin(["model", "alias", "fraud@1", "production"]).status == 0)
        // The data owner's side: keys and the encrypted query (the secret key never leaves `keys/`).
        #expect(try ModelVaultBinary.run(["he", "keygen", "-o", "keys"], in: vault.work).status == 0)
        let encrypted = try vault.admin([
            "he", "encrypt", "--keys", "keys", "--model", "fraud", "--input", "rows.csv", "-o", "query.bin",
        ])
        #expect(encrypted.status == 0, "\(encrypted.stderr)")
        let server = try await RunningServer(vault)
        defer { server.stop() }

        func infer(
            _ persona: String, remotely: Bool, _ reference: String = "fraud:production"
        ) throws
            -> ChildProcess.Output
        {
            let arguments = [
                "he", "infer", reference, "query.bin", "--eval-keys", "keys/evaluation.keys", "-o",
                "\(remotely ? "remote" : "local")-\(persona).bin",
            ]
            return remotely
                ? try server.remote(vault, persona, arguments) : try vault.local(persona, arguments)
        }
        for (persona, expected) in [("mel", Int32(0)), ("cora", 3), ("scoped", 3)] {
            let local = try infer(persona, remotely: false)
            let remote = try infer(persona, remotely: true)
            #expect(local.status == expected, "\(persona) local: \(local.stderr)")
            #expect(remote.status == expected, "\(persona) remote: \(remote.stderr)")
            #expect(remote.stdout == local.stdout)
        }
        // A version the server does not serve is not found, as an unknown version is locally.
        #expect(try infer("mel", remotely: true, "fraud@7").status == 4)
        #expect(try infer("mel", remotely: false, "fraud@7").status == 4)
        // `he decrypt` reads the remote result exactly as the local one: the same classes.
        for side in ["local", "remote"] {
            let decrypted = try ModelVaultBinary.run(
                ["he", "decrypt", "--keys", "keys", "\(side)-mel.bin", "-o", "\(side).csv"], in: vault.work)
            #expect(decrypted.status == 0, "\(side): \(decrypted.stderr)")
        }
        let remoteClasses = try CLI.firstColumn(vault.work.appending(path: "remote.csv"))
        #expect(remoteClasses.count == 4)
        #expect(remoteClasses == (try CLI.firstColumn(vault.work.appending(path: "local.csv"))))
    }
}
