import Foundation
import TestSupport
import Testing

@testable import Vault

/// Issue #19: a process that unlocked the vault before another process rotated its keys follows the key chain a
/// plain rotation leaves, and only that.
@Suite struct VaultKeyChainTests {
    /// The attack: with write access and no passphrase, replace the link with an identity of one's own encrypted to
    /// the old key version's public recipient, hoping a running server adopts it. It is ignored; the genuine link
    /// is followed.
    @Test func aPlantedChainLinkIsIgnored() async throws {
        let directory = try TemporaryDirectory()
        let server = try TestVault.create(in: directory)
        let other = try TestVault.open(in: directory)
        _ = try await other.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: false, workFactor: 10, stopAfter: nil, context: .local)
        let link = server.root.appending(path: "keys/chain-v2.age")
        let genuine = try Data(contentsOf: link)
        let suite = FakeCipherSuite()
        let planted = try suite.generateIdentity(postQuantum: false)
        let oldRecipient = try #require(try await server.keyVersions().first { $0.version == 1 }?.recipient)
        try suite.encrypt(Data(planted.utf8), to: [oldRecipient]).write(to: link)
        #expect(try await server.followKeyChain() == [])
        try genuine.write(to: link)
        #expect(try await server.followKeyChain() == [2])
        // Files pushed under the new key load in the old process now.
        let pushed = try await other.pushModel("m", from: .files(["a.bin": TestVault.bytes(100, seed: 3)]))
        #expect(try await server.loadModel(ModelReference(name: "m", selector: .version(pushed.version))).count == 1)
    }

    /// `--reencrypt` (a suspected compromise) writes no link: the old identities never reach the new key, and a
    /// process holding only them refuses to verify anything new (the signing key was replaced).
    @Test func aReencryptingRotationLeavesNoLink() async throws {
        let directory = try TemporaryDirectory()
        let server = try TestVault.create(in: directory)
        let other = try TestVault.open(in: directory)
        _ = try await other.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: true, workFactor: 10, stopAfter: nil, context: .local)
        #expect(!FileManager.default.fileExists(atPath: server.root.appending(path: "keys/chain-v2.age").path))
        await #expect(throws: VaultError.self) { try await server.followKeyChain() }
    }
}
