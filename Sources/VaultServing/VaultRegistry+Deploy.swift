import Deployment
public import Foundation
import Vault
public import VaultServer

extension VaultRegistry {
    /// `deploy` in remote mode: what the local command does with the vault, for `principal`, in one session
    /// (authorise, audit, act). The version is verified (`model.verify`, as locally), the deployment's record read
    /// (`model.deploy`): a record that predates namespaces needs `adoptLegacyRecord`; an existing record keeps its
    /// identity unless `rotateIdentity`, otherwise the bundle is wrapped for the client's recipient. The vault then
    /// registers and writes the signed bundle (`writeServingBundle`, which numbers it and refuses a revoked or
    /// foreign identity) into `directory/bundle`, and the decisions into `directory/deployment.json`.
    public func deployModel(
        named name: String, _ request: DeployModelRequest, into directory: URL, principal: String
    ) async throws {
        try await mappingErrors {
            do {
                try await deploy(name, request, into: directory, principal: principal)
            } catch let error as VaultError where error.code == .identityMismatch {
                // A revoked identity, another deployment's identity, or a name another model holds.
                throw RegistryError.conflict
            }
        }
    }

    private func deploy(
        _ name: String, _ request: DeployModelRequest, into directory: URL, principal: String
    ) async throws {
        let session = try access.session(forPrincipal: principal)
        let reference = try Self.modelReference(name, request.version ?? "production")
        let info = try await session.verifyModel(reference)
        let deploymentName = DeploymentSpec.deploymentName(forModel: info.name)
        let namespace = request.namespace
        let rotate = request.rotateIdentity ?? false
        let adopt = request.adoptLegacyRecord ?? false
        let record = try await session.deploymentRecord(deploymentName, namespace: namespace, model: info.name)
        if let record, record.namespace == nil, !adopt { throw RegistryError.legacyDeploymentRecord }
        // The same identity continues a recorded deployment (its Secret stays); the client's is used for a new
        // deployment or a rotation.
        let recipient = if let record, !rotate { record.recipient } else { request.recipient }
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        let bundle = directory.appending(path: DeploymentAnswer.bundleDirectory)
        try await session.writeServingBundle(
            [try ModelReference(name: info.name, selector: .version(info.version))], for: recipient,
            deployment: deploymentName + "-" + UUID().uuidString.lowercased(), to: bundle,
            registeredAs: deploymentName, namespace: namespace, rotateIdentity: rotate, adoptLegacyRecord: adopt)
        // The serial is the one this bundle carries (another deploy may have numbered the next one meanwhile).
        let verifier = await session.verifierPublicKeyPEM()
        let contents = try ServingBundle.inspect(
            at: bundle, expectedSigner: VerificationKey(keyVersion: 1, publicKeyPEM: verifier).fingerprint)
        let answer = DeploymentAnswer(
            model: info.name, version: info.version, deploymentName: deploymentName, serial: contents.serial,
            recipient: contents.recipient, newIdentity: record == nil || rotate,
            adoptedLegacyRecord: record != nil && record?.namespace == nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(answer).write(
            to: directory.appending(path: DeploymentAnswer.fileName), options: [.withoutOverwriting])
    }
}
