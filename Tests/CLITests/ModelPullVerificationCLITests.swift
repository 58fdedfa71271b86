import Foundation
import TestSupport
import Testing

/// Issue #20: a pulled version verifies outside the vault, with the key `keys export-verifier` writes.
@Suite(.serialized) struct ModelPullVerificationCLITests {
    static let modelSigning = "model_signing"

    @Test func aPulledVersionVerifiesAsItIsAndATamperedOneDoesNot() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        let model = work.appending(path: "model")
        try FileManager.default.createDirectory(at: model.appending(path: "sub"), withIntermediateDirectories: true)
        try TestData.bytes(20_000, seed: 4).write(to: model.appending(path: "weights.bin"))
        try Data("{\"a\":1}".utf8).write(to: model.appending(path: "sub/config.json"))
        #expect(try ModelVaultBinary.run(["model", "push", "clf", "model"], environment: env, in: work).status == 0)

        let exported = try ModelVaultBinary.run(
            ["keys", "export-verifier", "-o", "vault.pem"], environment: env, in: work)
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect(exported.stdout.contains("fingerprint"))
        let pem = try String(contentsOf: work.appending(path: "vault.pem"), encoding: .utf8)
        #expect(pem.hasPrefix("-----BEGIN PUBLIC KEY-----"))

        let pulled = try ModelVaultBinary.run(["model", "pull", "clf@1", "-o", "pulled"], environment: env, in: work)
        #expect(pulled.status == 0, "\(pulled.stderr)")
        let verify = ["verify", "pulled", "--signature", "pulled/.modelvault/model.sig", "--public-key", "vault.pem"]
        let verified = try ModelVaultBinary.run(verify, in: work)
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")

        // The re-wrapped handout, decrypted by its recipient, verifies the same way.
        let keygen = try ModelVaultBinary.run(["keygen", "-o", "me.key"], in: work)
        let recipient = try #require(
            keygen.stderr.split(whereSeparator: \.isWhitespace).map(String.init).first { $0.hasPrefix("age1") },
            "\(keygen.stderr)")
        let handout = try ModelVaultBinary.run(
            ["model", "pull", "clf@1", "--to", recipient, "-o", "handout"], environment: env, in: work)
        #expect(handout.status == 0, "\(handout.stderr)")
        for path in ["weights.bin", "sub/config.json"] {
            let decrypted = try ModelVaultBinary.run(
                ["decrypt", "-i", "me.key", "-o", "handout/\(path)", "handout/\(path).age"], in: work)
            #expect(decrypted.status == 0, "\(decrypted.stderr)")
            try FileManager.default.removeItem(at: work.appending(path: "handout/\(path).age"))
        }
        let handoutVerified = try ModelVaultBinary.run(
            ["verify", "handout", "--signature", "handout/.modelvault/model.sig", "--public-key", "vault.pem"],
            in: work)
        #expect(handoutVerified.status == 0, "\(handoutVerified.stdout)\(handoutVerified.stderr)")

        // A changed pulled file fails verification.
        var bytes = try Data(contentsOf: work.appending(path: "pulled/weights.bin"))
        bytes[100] ^= 0x01
        try bytes.write(to: work.appending(path: "pulled/weights.bin"))
        let refused = try ModelVaultBinary.run(verify, in: work)
        #expect(refused.status != 0)

        guard Interop.runs(Self.modelSigning) else { try Interop.skipOrFail(Self.modelSigning) }
        let reference = try ChildProcess.tool(
            Self.modelSigning,
            ["verify", "key", "handout", "--signature", "handout/.modelvault/model.sig", "--public_key", "vault.pem"],
            in: work, mergesErrors: true
        ).run()
        #expect(reference.status == 0, "model_signing refused the pulled directory: \(reference.stdout)")
    }
}
