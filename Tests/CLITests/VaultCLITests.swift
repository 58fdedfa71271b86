import Foundation
import TestSupport
import Testing

/// Runs the built `modelvault` binary end to end (real age and OpenSSF signing).
@Suite(.serialized) struct VaultCLITests {
    /// Creates a vault with the passphrase and exports its identity, so later commands skip scrypt (2^18 is
    /// slow in debug builds) by using `MODELVAULT_IDENTITY_FILE`, as a deployment would.
    static func makeVault(in work: URL) throws -> [String: String] {
        let passphrase = ["MODELVAULT_PASSPHRASE": "cli test passphrase", "MODELVAULT_VAULT": "v"]
        let created = try ModelVaultBinary.run(
            ["init", "-o", "admin.token"], environment: passphrase, in: work)
        #expect(created.status == 0, "\(created.stderr)")
        let token = try String(contentsOf: work.appending(path: "admin.token"), encoding: .utf8)
        let exported = try ModelVaultBinary.run(
            ["keys", "export-identity", "-o", "identity.txt"],
            environment: passphrase.merging(["MODELVAULT_TOKEN": token]) { $1 }, in: work)
        #expect(exported.status == 0, "\(exported.stderr)")
        let attributes = try FileManager.default.attributesOfItem(atPath: work.appending(path: "identity.txt").path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        return [
            "MODELVAULT_VAULT": "v", "MODELVAULT_IDENTITY_FILE": work.appending(path: "identity.txt").path,
            "MODELVAULT_TOKEN": token,
        ]
    }

    @Test func endToEndThroughTheBinary() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url

        // Missing vault: a clear error, exit 1.
        let missing = try ModelVaultBinary.run(
            ["model", "list", "--vault", "nowhere"], environment: ["MODELVAULT_PASSPHRASE": "x"], in: work)
        #expect(missing.status == 4)
        #expect(missing.stderr.contains("no vault"))

        let env = try Self.makeVault(in: work)
        let wrong = try ModelVaultBinary.run(
            ["model", "list", "--vault", "v"],
            environment: ["MODELVAULT_PASSPHRASE": "nope", "MODELVAULT_TOKEN": env["MODELVAULT_TOKEN"]!],
            in: work)
        #expect(wrong.status == 3)
        #expect(wrong.stderr.contains("wrong vault passphrase"))

        try FileManager.default.createDirectory(
            at: work.appending(path: "model/sub"), withIntermediateDirectories: true)
        try TestData.bytes(100_000, seed: 9).write(to: work.appending(path: "model/weights.bin"))
        try Data("{\"a\":1}".utf8).write(to: work.appending(path: "model/sub/config.json"))
        try Data("x,y\n1,2\n".utf8).write(to: work.appending(path: "train.csv"))
        try Data("{\"accuracy\":0.9}".utf8).write(to: work.appending(path: "metrics.json"))

        let added = try ModelVaultBinary.run(["data", "add", "cancer", "train.csv"], environment: env, in: work)
        #expect(added.stdout == "cancer@1\n", "\(added.stderr)")
        let pushed = try ModelVaultBinary.run(
            ["model", "push", "clf", "model", "--dataset", "cancer@1", "--metrics", "metrics.json"], environment: env,
            in: work)
        #expect(pushed.stdout == "clf@1\n", "\(pushed.stderr)")
        let aliased = try ModelVaultBinary.run(["model", "alias", "clf@1", "production"], environment: env, in: work)
        #expect(aliased.status == 0, "\(aliased.stderr)")
        let shown = try ModelVaultBinary.run(["model", "show", "clf:production", "--json"], environment: env, in: work)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("\"dataset\" : \"cancer\""))
        let text = try ModelVaultBinary.run(["model", "show", "clf@1"], environment: env, in: work)
        #expect(text.stdout.contains("cancer@1"))
        #expect(text.stdout.contains("accuracy"))
        let verified = try ModelVaultBinary.run(["model", "verify", "clf@1"], environment: env, in: work)
        #expect(verified.status == 0, "\(verified.stderr)")
        let pulled = try ModelVaultBinary.run(
            ["model", "pull", "clf:production", "-o", "out"], environment: env, in: work)
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(try Data(contentsOf: work.appending(path: "out/weights.bin")) == TestData.bytes(100_000, seed: 9))
        let got = try ModelVaultBinary.run(["data", "get", "cancer", "-o", "data-out"], environment: env, in: work)
        #expect(got.status == 0, "\(got.stderr)")
        #expect(try Data(contentsOf: work.appending(path: "data-out/train.csv")) == Data("x,y\n1,2\n".utf8))

        let unknown = try ModelVaultBinary.run(["model", "show", "clf@7"], environment: env, in: work)
        #expect(unknown.status == 4)
        #expect(unknown.stderr.contains("no model version clf@7"))

        // Tampering: a flipped byte makes verify and pull fail, and pull writes nothing.
        let blob = work.appending(path: "v/models/encrypted/clf/1/weights.bin.age")
        var bytes = try Data(contentsOf: blob)
        bytes[bytes.count - 100] ^= 0x04
        try bytes.write(to: blob)
        let refused = try ModelVaultBinary.run(["model", "verify", "clf@1"], environment: env, in: work)
        #expect(refused.status == 6)
        #expect(refused.stderr.contains("weights.bin"))
        let refusedPull = try ModelVaultBinary.run(
            ["model", "pull", "clf@1", "-o", "out2"], environment: env, in: work)
        #expect(refusedPull.status == 6)
        #expect(!FileManager.default.fileExists(atPath: work.appending(path: "out2").path))

        let keys = try ModelVaultBinary.run(["keys", "list"], environment: env, in: work)
        #expect(keys.stdout.contains("active"), "\(keys.stderr)")
    }

    @Test func concurrentProcessesPushDistinctVersions() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try Self.makeVault(in: work)
        for index in 0..<3 {
            try TestData.bytes(50_000, seed: UInt64(index)).write(to: work.appending(path: "m\(index).bin"))
        }
        let processes = try (0..<3).map { index -> (Process, Pipe) in
            let process = Process()
            process.executableURL = ModelVaultBinary.url
            process.arguments = ["model", "push", "shared", "m\(index).bin"]
            process.currentDirectoryURL = work
            process.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.runSerially()
            return (process, out)
        }
        var outputs: [String] = []
        for (process, out) in processes {
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            outputs.append(String(decoding: data, as: UTF8.self))
        }
        #expect(outputs.sorted() == ["shared@1\n", "shared@2\n", "shared@3\n"])
    }
}
