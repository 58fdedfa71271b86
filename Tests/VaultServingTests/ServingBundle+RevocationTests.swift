import Foundation
import Testing
import VaultServing

@testable import Vault

/// Issue #19: a deployment identity can be rotated and revoked, and a superseded bundle no longer loads in a pod
/// given the new floor. What cannot be done is said in the README: a bundle and identity already copied elsewhere
/// still decrypt there, with no floor.
@Suite struct ServingBundleRevocationTests {
    @Test func rotatingTheDeploymentIdentityRevokesTheOldIdentityAndItsBundle() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        try await fixture.push("bc", epochs: 5)
        let session = try await fixture.adminSession()
        let signer = fixture.access.unlockedVault.signerFingerprint
        let reference = try ModelReference(name: "bc", selector: .alias("production"))
        let directory = FileManager.default.temporaryDirectory.appending(path: "bundles-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ recipient: String, _ name: String, rotate: Bool = false) async throws {
            try await session.writeServingBundle(
                [reference], for: recipient, deployment: "modelvault-bc-\(name)", to: directory.appending(path: name),
                registeredAs: "modelvault-bc", rotateIdentity: rotate)
        }
        let first = try ServingBundle.generateIdentity()
        try await write(first.recipient, "one")
        #expect(try await session.deploymentRecord("modelvault-bc", model: "bc")?.serial == 1)

        // Another identity for the same deployment needs an explicit rotation.
        let second = try ServingBundle.generateIdentity()
        await #expect(throws: VaultError.self) { try await write(second.recipient, "refused") }
        try await write(second.recipient, "two", rotate: true)
        let record = try #require(try await session.deploymentRecord("modelvault-bc", model: "bc"))
        #expect(record.serial == 2)
        #expect(record.recipient == second.recipient)
        #expect(record.revoked == [first.recipient])

        // The attack: bring the revoked identity back. The vault never wraps a bundle for it again.
        await #expect(throws: VaultError.self) { try await write(first.recipient, "revived", rotate: true) }
        #expect(!FileManager.default.fileExists(atPath: directory.appending(path: "revived").path))

        // The old bundle is refused under the new deployment's floor; each identity opens only its own bundle.
        let one = directory.appending(path: "one")
        let two = directory.appending(path: "two")
        #expect(throws: VaultError.self) {
            try ServingBundle.open(at: one, identity: first.identity, expectedSigner: signer, minimumSerial: 2)
        }
        #expect(throws: VaultError.self) {
            try ServingBundle.open(at: one, identity: second.identity, expectedSigner: signer)
        }
        #expect(throws: VaultError.self) {
            try ServingBundle.open(at: two, identity: first.identity, expectedSigner: signer, minimumSerial: 2)
        }
        let opened = try ServingBundle.open(
            at: two, identity: second.identity, expectedSigner: signer, minimumSerial: 2)
        #expect(opened.serial == 2)
        #expect(opened.models.map(\.name) == ["bc"])
        // The documented limit: without the floor, a copied old bundle still opens with its old identity.
        #expect(try ServingBundle.open(at: one, identity: first.identity, expectedSigner: signer).serial == 1)

        // The attack: raise the old bundle's serial past the floor. The bundle signature no longer covers it.
        let index = one.appending(path: ServingBundle.indexName)
        let text = try String(contentsOf: index, encoding: .utf8)
        try #require(text.contains(#""serial" : 1"#))
        try Data(text.replacingOccurrences(of: #""serial" : 1"#, with: #""serial" : 9"#).utf8).write(to: index)
        #expect(throws: VaultError.self) {
            try ServingBundle.open(at: one, identity: first.identity, expectedSigner: signer, minimumSerial: 2)
        }
    }

    /// The attack (review 4, F3): `fraud_a` and `fraud-a` fold to one deployment name. Deploying `fraud-a` with
    /// `--rotate-identity` under it used to revoke `fraud_a`'s identity, and `fraud_a`'s next bundle was then wrapped
    /// for the `fraud-a` pod's identity. The record belongs to the exact model names: the collision is refused and
    /// `fraud_a`'s record stays as it was.
    @Test func aModelWhoseNameFoldsLikeAnothersCannotTakeOverItsDeployment() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        try await fixture.push("fraud_a", epochs: 1)
        try await fixture.push("fraud-a", epochs: 1)
        let session = try await fixture.adminSession()
        let directory = FileManager.default.temporaryDirectory.appending(path: "bundles-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ model: String, _ recipient: String, _ name: String, rotate: Bool) async throws {
            try await session.writeServingBundle(
                [ModelReference(name: model, selector: .alias("production"))], for: recipient,
                deployment: "modelvault-fraud-a-\(name)", to: directory.appending(path: name),
                registeredAs: "modelvault-fraud-a", rotateIdentity: rotate)
        }
        let owner = try ServingBundle.generateIdentity()
        try await write("fraud_a", owner.recipient, "a", rotate: false)
        let other = try ServingBundle.generateIdentity()
        await #expect(throws: VaultError.self) { try await write("fraud-a", other.recipient, "b", rotate: true) }
        await #expect(throws: VaultError.self) {
            try await session.deploymentRecord("modelvault-fraud-a", model: "fraud-a")
        }
        let record = try #require(try await session.deploymentRecord("modelvault-fraud-a", model: "fraud_a"))
        #expect(record.recipient == owner.recipient && record.revoked.isEmpty && record.serial == 1)
    }

    /// The attack (review 5, F1): a writer of the bundle volume swaps `bundle.json` for a forged one (a higher
    /// serial, its own callers) after the files were hashed and before the index was read again to decode it.
    /// The pod must decode the very bytes it verified.
    @Test func anIndexSwappedAfterTheSignatureCheckIsNotTheOneDecoded() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        try await fixture.push("bc", epochs: 1)
        let session = try await fixture.adminSession()
        let directory = FileManager.default.temporaryDirectory.appending(path: "bundle-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let identity = try ServingBundle.generateIdentity()
        try await session.writeServingBundle(
            [ModelReference(name: "bc", selector: .alias("production"))], for: identity.recipient,
            deployment: "modelvault-bc", to: directory, registeredAs: "modelvault-bc")
        let index = directory.appending(path: ServingBundle.indexName)
        let text = try String(contentsOf: index, encoding: .utf8)
        try #require(text.contains(#""serial" : 1"#))
        let forged = Data(text.replacingOccurrences(of: #""serial" : 1"#, with: #""serial" : 9"#).utf8)
        let opened = try? ServingBundle.open(
            at: directory, identity: identity.identity,
            expectedSigner: fixture.access.unlockedVault.signerFingerprint, minimumSerial: 0,
            afterFileCheck: { try forged.write(to: index) })
        #expect(opened == nil || opened?.serial == 1)
    }

    /// The attack (review 5, F2): a `--rotate-identity` whose bundle cannot be written (a full or read-only output
    /// volume) used to record the new identity and revoke the running one first, leaving the vault naming a key
    /// that was never saved. The record changes only once the bundle is staged.
    @Test func aRotationWhoseBundleCannotBeWrittenLeavesTheRecordAlone() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        try await fixture.push("bc", epochs: 1)
        let session = try await fixture.adminSession()
        let directory = FileManager.default.temporaryDirectory.appending(path: "bundles-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ recipient: String, to output: URL, rotate: Bool) async throws {
            try await session.writeServingBundle(
                [ModelReference(name: "bc", selector: .alias("production"))], for: recipient,
                deployment: "modelvault-bc", to: output, registeredAs: "modelvault-bc", rotateIdentity: rotate)
        }
        let running = try ServingBundle.generateIdentity()
        try await write(running.recipient, to: directory.appending(path: "one"), rotate: false)
        // An output whose parent is a regular file: nothing can be written there.
        let blocked = directory.appending(path: "file")
        try Data("x".utf8).write(to: blocked)
        let fresh = try ServingBundle.generateIdentity()
        await #expect(throws: (any Error).self) {
            try await write(fresh.recipient, to: blocked.appending(path: "bundle"), rotate: true)
        }
        let record = try #require(try await session.deploymentRecord("modelvault-bc", model: "bc"))
        #expect(record.recipient == running.recipient && record.revoked.isEmpty && record.serial == 1)
    }
}
