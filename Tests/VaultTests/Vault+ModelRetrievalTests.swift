import Foundation
import TestSupport
import Testing

@testable import Vault

@Suite struct VaultModelRetrievalTests {
    /// Each stored artefact of a version: the two blobs, the manifest and the signature.
    static let targets = ["model.safetensors.age", "config/model_config.json.age", "manifest.json", "model.sig"]

    @Test(arguments: targets, [false, true])
    func flippedByteFailsVerifyAndPullWithoutOutput(_ target: String, realAge: Bool) async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory, suite: realAge ? AgeCipherSuite() : FakeCipherSuite())
        let source = directory.url.appending(path: "model")
        _ = try TestVault.writeModel(in: source)
        _ = try await vault.pushModel("m", from: .path(source))
        let file = vault.root.appending(path: "models/encrypted/m/1/\(target)")
        var bytes = try Data(contentsOf: file)
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: file)

        let reference = try ModelReference(parsing: "m@1")
        do {
            try await vault.verifyModel(reference)
            Issue.record("verify accepted a tampered \(target)")
        } catch let error as VaultError {
            #expect([.tampered, .signatureInvalid, .digestMismatch, .decryptionFailed].contains(error.code))
            #expect(error.description.contains("m@1"))
        }
        let output = directory.url.appending(path: "out")
        await #expect(throws: VaultError.self) { try await vault.pullModel(reference, to: output) }
        await #expect(throws: VaultError.self) { try await vault.loadModel(reference) }
        #expect(!FileManager.default.fileExists(atPath: output.path))
        // No partial directory beside the output either.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.url.path).filter {
            $0.contains("partial")
        }
        #expect(leftovers.isEmpty)
    }

    @Test func pullRefusesANonEmptyOutput() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        _ = try await vault.pushModel("m", from: .files(["w": Data([1])]))
        let output = directory.url.appending(path: "out")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        try Data([9]).write(to: output.appending(path: "existing"))
        await expectVaultError(.outputExists) { try await vault.pullModel(ModelReference(parsing: "m"), to: output) }
        #expect(try Data(contentsOf: output.appending(path: "existing")) == Data([9]))
    }

    @Test func pullForARecipientHandsOutRewrappedFiles() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        // Long enough that the sealed bytes cannot hold it by chance (a 2-byte "{}" did, 1 run in a few hundred).
        let files = [
            "weights.bin": TestVault.bytes(5000, seed: 3),
            "nested/config.json": Data(#"{"layers": [64, 32, 10]}"#.utf8),
        ]
        _ = try await vault.pushModel("m", from: .files(files))
        let suite = FakeCipherSuite()
        let identity = try suite.generateIdentity(postQuantum: false)
        let output = directory.url.appending(path: "handout")
        try await vault.pullModel(
            ModelReference(parsing: "m@1"), for: try suite.recipient(ofIdentity: identity), to: output)
        let own = await vault.keyRing.allIdentities
        for (path, data) in files {
            let sealed = try Data(contentsOf: output.appending(path: path + ".age"))
            #expect(sealed.range(of: data) == nil)
            #expect(try suite.decrypt(sealed, using: [identity]) == data)
            // The vault's own identity is not a recipient any more.
            #expect(throws: (any Error).self) { try suite.decrypt(sealed, using: own) }
        }
        // The signed manifest where the signature names it, so the handout verifies once decrypted (issue #20).
        #expect(FileManager.default.fileExists(atPath: output.appending(path: ".modelvault/manifest.json").path))
        #expect(FileManager.default.fileExists(atPath: output.appending(path: ".modelvault/model.sig").path))
        #expect(!FileManager.default.fileExists(atPath: output.appending(path: "manifest.json").path))
        await expectVaultError(.invalidRecipient) {
            try await vault.pullModel(
                ModelReference(parsing: "m@1"), for: "nonsense", to: directory.url.appending(path: "x"))
        }
    }
}
