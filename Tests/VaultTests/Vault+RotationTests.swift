import Foundation
import TestSupport
import Testing

@testable import Vault

@Suite struct VaultRotationTests {
    /// A vault with two models and a dataset: five blobs.
    func populated(_ directory: TemporaryDirectory) async throws -> (Vault, [String: Data]) {
        let vault = try TestVault.create(in: directory)
        let files = ["a.bin": TestVault.bytes(3000, seed: 1), "b/c.bin": TestVault.bytes(10, seed: 2)]
        _ = try await vault.pushModel("m", from: .files(files))
        _ = try await vault.pushModel("n", from: .files(files))
        _ = try await vault.addDataset("d", contents: ["rows.csv": Data("1,2\n".utf8)])
        return (vault, files)
    }

    @Test(arguments: [false, true])
    func rotationMovesEveryFileAndRetiresTheOldKey(reencrypt: Bool) async throws {
        let directory = try TemporaryDirectory()
        let (vault, files) = try await populated(directory)
        let blob = vault.root.appending(path: "models/encrypted/m/1/a.bin.age")
        let before = try Data(contentsOf: blob)
        let report = try await vault.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: reencrypt, workFactor: 10, stopAfter: nil, context: .local)
        #expect(report.keyVersion == 2)
        #expect(report.filesMoved == 5)
        #expect(report.retiredVersions == [1])
        let after = try Data(contentsOf: blob)
        // Re-wrapping keeps the payload (the tail) byte for byte; re-encryption changes it.
        let payloadCount = before.count - 5 - 92
        #expect((before.suffix(payloadCount) == after.suffix(payloadCount)) == !reencrypt)
        let versions = try await vault.keyVersions()
        #expect(versions.map(\.state) == ["retired", "active"])
        #expect(versions.map(\.fileCount) == [0, 5])
        #expect(!FileManager.default.fileExists(atPath: vault.root.appending(path: "keys/identity-v1.age").path))

        // A fresh open with the passphrase reads everything with the new key only.
        let reopened = try TestVault.open(in: directory)
        #expect(try await reopened.loadModel(ModelReference(parsing: "m@1")) == files)
        try await reopened.verifyModel(ModelReference(parsing: "n@1"))
        #expect(try await reopened.readDataset(DatasetReference(parsing: "d")) == ["rows.csv": Data("1,2\n".utf8)])
        let pushed = try await reopened.pushModel("m", from: .files(["w": Data([1])]))
        #expect(pushed.files.map(\.keyVersion) == [2])
    }

    @Test(arguments: [false, true])
    func interruptedRotationResumesAndFilesStayReadable(reencrypt: Bool) async throws {
        let directory = try TemporaryDirectory()
        let (vault, files) = try await populated(directory)
        await expectVaultError(.rotationInterrupted) {
            try await vault.rotateKeys(
                passphrase: TestVault.passphrase, reencrypt: reencrypt, workFactor: 10, stopAfter: 2, context: .local)
        }
        // "Crash": drop the instance, reopen. Files under both key versions must read.
        let reopened = try TestVault.open(in: directory)
        let counts = try await reopened.keyVersions().map(\.fileCount)
        #expect(counts == [3, 2])
        #expect(try await reopened.loadModel(ModelReference(parsing: "m@1")) == files)
        #expect(try await reopened.loadModel(ModelReference(parsing: "n@1")) == files)
        // A push during the interrupted rotation uses the new key.
        _ = try await reopened.pushModel("late", from: .files(["x": Data([7])]))

        let report = try await reopened.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: reencrypt, workFactor: 10, stopAfter: nil, context: .local)
        #expect(report.resumed)
        #expect(report.keyVersion == 2)
        #expect(report.filesMoved == 3)
        #expect(report.reencrypted == reencrypt)
        #expect(try await reopened.keyVersions().map(\.fileCount) == [0, 6])
        try await reopened.verifyModel(ModelReference(parsing: "m@1"))
        try await reopened.verifyModel(ModelReference(parsing: "late@1"))
    }

    @Test func rotationNeedsTheVaultPassphrase() async throws {
        let directory = try TemporaryDirectory()
        let (vault, _) = try await populated(directory)
        await expectVaultError(.wrongPassphrase) {
            try await vault.rotateKeys(
                passphrase: "nope", reencrypt: false, workFactor: 10, stopAfter: nil, context: .local)
        }
        #expect(try await vault.keyVersions().count == 1)
    }

    @Test func identityFileOpensAfterRotation() async throws {
        let directory = try TemporaryDirectory()
        let (vault, files) = try await populated(directory)
        _ = try await vault.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: false, workFactor: 10, stopAfter: nil, context: .local)
        let identity = await vault.keyRing.identities[2]!
        let reopened = try TestVault.open(in: directory, unlock: .identities(identity))
        #expect(try await reopened.loadModel(ModelReference(parsing: "m@1")) == files)
    }
}
