import Foundation
import TestSupport
import Testing

@testable import Vault

/// Issue #20: the vault passphrase can be changed, and a weak one is refused.
@Suite struct VaultPassphraseTests {
    static let newPassphrase = "a brand new vault passphrase"

    @Test func aChangedPassphraseOpensTheVaultAndTheOldOneNoLonger() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        _ = try await vault.pushModel("m", from: .files(["w": Data([7])]))
        _ = try await vault.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: false, workFactor: 10, stopAfter: nil, context: .local)
        let report = try await vault.changePassphrase(
            from: TestVault.passphrase, to: Self.newPassphrase, workFactor: 10)
        #expect(report.resealed.contains("keys/identity-v2.age"))
        #expect(report.resealed.contains("keys/signing.age"))
        #expect(report.alreadyChanged.isEmpty)
        // Every passphrase-sealed file moved: the old passphrase opens none of them, so the vault stays shut.
        #expect(throws: VaultError.self) { try TestVault.open(in: directory) }
        let reopened = try TestVault.open(in: directory, unlock: .passphrase(Self.newPassphrase))
        #expect(try await reopened.loadModel(ModelReference(parsing: "m@1")) == ["w": Data([7])])
        #expect(try await reopened.checkState() == [])
        let keys = try FileManager.default.contentsOfDirectory(
            atPath: directory.url.appending(path: "vault/keys").path)
        for name in keys where name.hasSuffix(".age") {
            let sealed = try Data(contentsOf: directory.url.appending(path: "vault/keys/\(name)"))
            if sealed.prefix(4) == Data("PASS".utf8) {
                #expect((try? FakeCipherSuite().open(sealed, passphrase: TestVault.passphrase)) == nil, "\(name)")
            }
        }
        // Run again with the same two passphrases (as after an interruption): nothing left to do, nothing broken.
        let again = try await reopened.changePassphrase(
            from: TestVault.passphrase, to: Self.newPassphrase, workFactor: 10)
        #expect(again.resealed.isEmpty && !again.alreadyChanged.isEmpty)
    }

    @Test func aWrongOldPassphraseChangesNothing() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        let keys = directory.url.appending(path: "vault/keys")
        let before = try FileManager.default.contentsOfDirectory(atPath: keys.path).filter { $0.hasSuffix(".age") }
            .sorted().map {
                try Data(contentsOf: keys.appending(path: $0))
            }
        await expectVaultError(.wrongPassphrase) {
            try await vault.changePassphrase(from: "not the passphrase", to: Self.newPassphrase, workFactor: 10)
        }
        let after = try FileManager.default.contentsOfDirectory(atPath: keys.path).filter { $0.hasSuffix(".age") }
            .sorted().map {
                try Data(contentsOf: keys.appending(path: $0))
            }
        #expect(before == after)
        _ = try TestVault.open(in: directory)
    }

    @Test func aChangeIsRefusedWhileARotationIsUnfinished() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        _ = try await vault.pushModel("m", from: .files(["w": Data([1])]))
        _ = try await vault.pushModel("n", from: .files(["w": Data([2])]))
        await expectVaultError(.rotationInterrupted) {
            try await vault.rotateKeys(
                passphrase: TestVault.passphrase, reencrypt: false, workFactor: 10, stopAfter: 1, context: .local)
        }
        await expectVaultError(.rotationInterrupted) {
            try await vault.changePassphrase(from: TestVault.passphrase, to: Self.newPassphrase, workFactor: 10)
        }
        _ = try TestVault.open(in: directory)
    }

    @Test(arguments: ["abc", "short pass", "aaaaaaaaaaaaaaaa", "abababababababab", "1234567890123456"])
    func weakPassphrasesAreRefused(weak: String) async throws {
        #expect(throws: VaultError.self) { try PassphrasePolicy.check(weak) }
        let directory = try TemporaryDirectory()
        // The public entry point (what `init` and the demo call) checks before anything is written.
        await expectVaultError(.weakPassphrase) {
            _ = try Vault.create(at: directory.url.appending(path: "vault"), passphrase: weak)
        }
        #expect(!FileManager.default.fileExists(atPath: directory.url.appending(path: "vault").path))
        let vault = try TestVault.create(in: directory)
        await expectVaultError(.weakPassphrase) {
            try await vault.changePassphrase(from: TestVault.passphrase, to: weak, workFactor: 10)
        }
    }

    @Test func aStrongPassphraseIsAccepted() throws {
        try PassphrasePolicy.check("correct horse battery staple")
        try PassphrasePolicy.check(Self.newPassphrase)
    }
}
