import Foundation
import GRDB
import Testing
import VaultServing

@testable import Vault

/// Review 5, deploy F3: a deployment record belongs to a namespace and the models it serves, not to the model alone.
/// A deploy of the same model to another namespace has its own identity, serial and revocations.
@Suite struct ServingBundleNamespaceRevocationTests {
    /// The attack (review 5, F3): the record was keyed by the model's deployment name only, so a staging deploy of
    /// a model continued production's record (same identity) and a staging `--rotate-identity` revoked
    /// production's identity: production's next bundle was then wrapped for the staging pod, and its running bundle
    /// refused as revoked. Each step below does what `modelvault deploy` does: it continues the identity the vault
    /// records for that namespace, or makes a fresh one. Seen failing before records were kept per namespace.
    @Test func aStagingRotationLeavesTheProductionIdentityAlone() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        try await fixture.push("bc", epochs: 1)
        let session = try await fixture.adminSession()
        let vault = fixture.access.unlockedVault
        let signer = vault.signerFingerprint
        let directory = FileManager.default.temporaryDirectory.appending(path: "bundles-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        /// `deploy --namespace NAMESPACE [--rotate-identity]`: returns the recipient the bundle was wrapped for.
        @discardableResult
        func deploy(
            _ namespace: String, _ name: String, rotate: Bool = false
        ) async throws -> (
            recipient: String, identity: String?
        ) {
            let record = try await session.deploymentRecord("modelvault-bc", namespace: namespace, model: "bc")
            var (recipient, identity): (String, String?) = (record?.recipient ?? "", nil)
            if record == nil || rotate {
                let fresh = try ServingBundle.generateIdentity()
                (recipient, identity) = (fresh.recipient, fresh.identity)
            }
            try await session.writeServingBundle(
                [ModelReference(name: "bc", selector: .alias("production"))], for: recipient,
                deployment: "modelvault-bc-\(name)", to: directory.appending(path: name),
                registeredAs: "modelvault-bc", namespace: namespace, rotateIdentity: rotate)
            return (recipient, identity)
        }
        let production = try await deploy("prod", "prod-1")
        let prodIdentity = try #require(production.identity)
        let staging = try await deploy("staging", "staging-1")
        #expect(staging.identity != nil, "the staging deploy continued another namespace's identity")
        #expect(staging.recipient != production.recipient)
        let rotated = try await deploy("staging", "staging-2", rotate: true)
        #expect(rotated.recipient != production.recipient && rotated.recipient != staging.recipient)

        // Production's record: neither revoked nor replaced, nor numbered on by staging's bundles.
        let record = try #require(try await session.deploymentRecord("modelvault-bc", namespace: "prod", model: "bc"))
        #expect(record.recipient == production.recipient)
        #expect(record.revoked.isEmpty)
        #expect(record.serial == 1)
        let stagingRecord = try #require(
            try await session.deploymentRecord("modelvault-bc", namespace: "staging", model: "bc"))
        #expect(stagingRecord.recipient == rotated.recipient)
        #expect(stagingRecord.revoked == [staging.recipient])
        #expect(stagingRecord.serial == 2)

        // Production's running bundle still opens under its floor, and its next bundle is wrapped for its own pod.
        let running = try ServingBundle.open(
            at: directory.appending(path: "prod-1"), identity: prodIdentity, expectedSigner: signer, minimumSerial: 1)
        #expect(running.serial == 1)
        let next = try await deploy("prod", "prod-2")
        #expect(next.identity == nil && next.recipient == production.recipient)
        let opened = try ServingBundle.open(
            at: directory.appending(path: "prod-2"), identity: prodIdentity, expectedSigner: signer, minimumSerial: 2)
        #expect(opened.serial == 2)
        if let stagingIdentity = rotated.identity {
            #expect(throws: VaultError.self) {
                try ServingBundle.open(
                    at: directory.appending(path: "prod-2"), identity: stagingIdentity, expectedSigner: signer)
            }
        }

        // A re-wrap without `model.pull` counts every namespace's current identity, and no revoked one.
        #expect(try await vault.isCurrentDeploymentRecipient(production.recipient))
        #expect(try await vault.isCurrentDeploymentRecipient(rotated.recipient))
        #expect(try await !vault.isCurrentDeploymentRecipient(staging.recipient))
    }

    /// One identity belongs to one deployment: a bundle for another namespace (or name) wrapped for production's
    /// recipient, which is public (it is in every `bundle.json`), is refused, so a staging rotation can never list
    /// production's identity as revoked. Nor does another deployment revive a revoked identity.
    @Test func anIdentityOfOneDeploymentCannotBeRecordedForAnother() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        try await fixture.push("bc", epochs: 1)
        let session = try await fixture.adminSession()
        let directory = FileManager.default.temporaryDirectory.appending(path: "bundles-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ namespace: String, _ recipient: String, _ name: String, rotate: Bool = false) async throws {
            try await session.writeServingBundle(
                [ModelReference(name: "bc", selector: .alias("production"))], for: recipient,
                deployment: "modelvault-bc-\(name)", to: directory.appending(path: name),
                registeredAs: "modelvault-bc", namespace: namespace, rotateIdentity: rotate)
        }
        let production = try ServingBundle.generateIdentity()
        try await write("prod", production.recipient, "prod-1")
        await #expect(throws: VaultError.self) { try await write("staging", production.recipient, "staging-1") }
        #expect(try await session.deploymentRecord("modelvault-bc", namespace: "staging", model: "bc") == nil)

        let replaced = try ServingBundle.generateIdentity()
        try await write("prod", replaced.recipient, "prod-2", rotate: true)
        await #expect(throws: VaultError.self) { try await write("staging", production.recipient, "staging-2") }
        let record = try #require(try await session.deploymentRecord("modelvault-bc", namespace: "prod", model: "bc"))
        #expect(record.recipient == replaced.recipient && record.revoked == [production.recipient])
        #expect(try await !fixture.access.unlockedVault.isCurrentDeploymentRecipient(production.recipient))
    }

    /// Records written before namespaces (keyed by the deployment name only) keep working: the first deploy that
    /// asks for the record in a namespace continues it and moves it there; a deploy to another namespace then
    /// starts its own. A legacy record that names its namespace belongs to that namespace only.
    @Test func aRecordFromBeforeNamespacesBelongsToTheFirstNamespaceThatDeploysIt() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        try await fixture.push("bc", epochs: 1)
        let session = try await fixture.adminSession()
        let vault = fixture.access.unlockedVault
        let directory = FileManager.default.temporaryDirectory.appending(path: "bundles-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(
            _ namespace: String?, _ recipient: String, _ name: String, rotate: Bool = false, adopt: Bool = false
        ) async throws {
            try await session.writeServingBundle(
                [ModelReference(name: "bc", selector: .alias("production"))], for: recipient,
                deployment: "modelvault-bc-\(name)", to: directory.appending(path: name),
                registeredAs: "modelvault-bc", namespace: namespace, rotateIdentity: rotate, adoptLegacyRecord: adopt)
        }
        // A record as an earlier vault wrote it: no namespace.
        let legacy = try ServingBundle.generateIdentity()
        try await write(nil, legacy.recipient, "legacy")
        #expect(try await session.deploymentRecord("modelvault-bc", model: "bc")?.namespace == nil)
        let claimed = try #require(
            try await session.deploymentRecord("modelvault-bc", namespace: "prod", model: "bc"))
        #expect(claimed.recipient == legacy.recipient && claimed.serial == 1)

        // Review 7, L1: a namespace that deploys first no longer takes the record over unasked, with its identity
        // or a fresh one (a rotation there would have revoked production's identity).
        await #expect(throws: VaultError.self) { try await write("staging", legacy.recipient, "staging-1") }
        await #expect(throws: VaultError.self) {
            try await write("staging", ServingBundle.generateIdentity().recipient, "staging-2", rotate: true)
        }
        #expect(try await session.deploymentRecord("modelvault-bc", model: "bc")?.serial == 1)
        try await write("prod", legacy.recipient, "prod-2", adopt: true)
        let moved = try #require(try await session.deploymentRecord("modelvault-bc", namespace: "prod", model: "bc"))
        #expect(moved.recipient == legacy.recipient && moved.serial == 2 && moved.namespace == "prod")
        #expect(try await session.deploymentRecord("modelvault-bc", model: "bc") == nil)
        #expect(try await session.deploymentRecord("modelvault-bc", namespace: "staging", model: "bc") == nil)
        #expect(try await vault.isCurrentDeploymentRecipient(legacy.recipient))

        // Review 7, L2: the identity revoked by a rotation cannot come back in another spelling (padded, upper-case).
        let successor = try ServingBundle.generateIdentity()
        try await write("prod", successor.recipient, "prod-3", rotate: true)
        for spelling in [" \(legacy.recipient)", "\(legacy.recipient)\n", legacy.recipient.uppercased()] {
            await #expect(throws: VaultError.self) {
                try await vault.registerDeploymentBundle(
                    "modelvault-bc", namespace: "prod", models: ["bc"], recipient: spelling, rotateIdentity: true)
            }
        }
        #expect(
            try await session.deploymentRecord("modelvault-bc", namespace: "prod", model: "bc")?.recipient
                == successor.recipient)
        #expect(try await !vault.isCurrentDeploymentRecipient(legacy.recipient))

        // A legacy-keyed record that names its namespace is that namespace's only.
        let other = try ServingBundle.generateIdentity()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let pinned = DeploymentRecord(
            serial: 4, recipient: other.recipient, revoked: [], models: ["bc"], namespace: "ml-prod")
        let text = String(decoding: try encoder.encode(pinned), as: UTF8.self)
        try await vault.catalog.write { db in
            try db.execute(
                sql: "INSERT INTO trust_pins (name, value) VALUES (?, ?)",
                arguments: ["deployment.modelvault-other", text])
        }
        #expect(try await session.deploymentRecord("modelvault-other", namespace: "staging", model: "bc") == nil)
        #expect(
            try await session.deploymentRecord("modelvault-other", namespace: "ml-prod", model: "bc")?.serial == 4)
    }
}
