import Foundation
import TestSupport
import Testing
import VaultCrypto

@testable import Vault

/// The vault on real age v1 files (X25519 and the ML-KEM-768+X25519 hybrid).
@Suite struct AgeCipherSuiteTests {
    @Test(arguments: [false, true])
    func pushPullRotateOnAge(postQuantum: Bool) async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory, postQuantum: postQuantum, suite: AgeCipherSuite())
        let identity = await vault.keyRing.identities[1]!
        #expect(identity.hasPrefix(postQuantum ? "AGE-SECRET-KEY-PQ-1" : "AGE-SECRET-KEY-1"))
        let source = directory.url.appending(path: "model")
        let files = try TestVault.writeModel(in: source, seed: 11)
        _ = try await vault.pushModel("m", from: .path(source))
        let blob = vault.root.appending(path: "models/encrypted/m/1/model.safetensors.age")
        // A real age file the vault identity opens.
        let sealed = try Data(contentsOf: blob)
        #expect(sealed.starts(with: Data("age-encryption.org/v1\n".utf8)))
        let parsed = try AgeKeys.parseIdentities(identity)
        #expect(try Age.decrypt(sealed, using: parsed) == files["model.safetensors"]!)

        try await vault.verifyModel(ModelReference(parsing: "m@1"))
        let output = directory.url.appending(path: "out")
        try await vault.pullModel(ModelReference(parsing: "m@1"), to: output)
        #expect(try Data(contentsOf: output.appending(path: "model.safetensors")) == files["model.safetensors"]!)

        // Hand-out for an outside age recipient.
        let outsider = AgeX25519Identity.generate()
        let handout = directory.url.appending(path: "handout")
        try await vault.pullModel(ModelReference(parsing: "m@1"), for: outsider.recipient.encoded, to: handout)
        let given = try Data(contentsOf: handout.appending(path: "model.safetensors.age"))
        #expect(try Age.decrypt(given, using: [outsider]) == files["model.safetensors"]!)

        // Interrupted re-encryption, then resumed; then a plain re-wrap.
        await expectVaultError(.rotationInterrupted) {
            try await vault.rotateKeys(
                passphrase: TestVault.passphrase, reencrypt: true, workFactor: 10, stopAfter: 1, context: .local)
        }
        let reopened = try TestVault.open(in: directory, suite: AgeCipherSuite())
        #expect(try await reopened.loadModel(ModelReference(parsing: "m@1")) == files)
        let resumed = try await reopened.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: true, workFactor: 10, stopAfter: nil, context: .local)
        #expect(resumed.resumed && resumed.filesMoved == 1)
        let rewrapped = try await reopened.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: false, workFactor: 10, stopAfter: nil, context: .local)
        #expect(rewrapped.keyVersion == 3 && rewrapped.filesMoved == 2)
        #expect(try await reopened.keyVersions().map(\.state) == ["retired", "retired", "active"])
        try await reopened.verifyModel(ModelReference(parsing: "m@1"))
        // The first identity no longer opens the blob.
        #expect(throws: (any Error).self) { try Age.decrypt(try Data(contentsOf: blob), using: parsed) }
    }

    @Test func wrongPassphraseOnAgeKeyFiles() async throws {
        let directory = try TemporaryDirectory()
        _ = try TestVault.create(in: directory, suite: AgeCipherSuite())
        await expectVaultError(.wrongPassphrase) {
            try TestVault.open(in: directory, unlock: .passphrase("not it"), suite: AgeCipherSuite())
        }
    }

    @Test func identityFileWithComments() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory, suite: AgeCipherSuite())
        _ = try await vault.pushModel("m", from: .files(["w": Data([4, 5])]))
        let identity = await vault.keyRing.identities[1]!
        let file = "# created: today\n# public key: ...\n\(identity)\n"
        let reopened = try TestVault.open(in: directory, unlock: .identities(file), suite: AgeCipherSuite())
        #expect(try await reopened.loadModel(ModelReference(parsing: "m")) == ["w": Data([4, 5])])
    }

    @Test func failedCreateLeavesNothing() async throws {
        let directory = try TemporaryDirectory()
        let root = directory.url.appending(path: "vault")
        #expect(throws: (any Error).self) {
            try Vault.create(
                at: root, passphrase: "x", postQuantum: false, workFactor: 99, suite: AgeCipherSuite(),
                signer: FakeManifestSigner())
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).isEmpty)
        _ = try Vault.create(
            at: root, passphrase: "x", postQuantum: false, workFactor: 10, suite: AgeCipherSuite(),
            signer: FakeManifestSigner())
    }
}
