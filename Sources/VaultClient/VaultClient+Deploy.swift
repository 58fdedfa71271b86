public import Foundation
public import VaultServer

/// `deploy` in remote mode: the vault makes and signs the serving bundle; the caller keeps the deployment identity.
extension VaultClient {
    /// What a remote deploy received, before any check: the vault's stated decisions and where the bundle is.
    public struct ReceivedDeployment: Sendable {
        /// The vault's answer (unsigned: to be checked against the signed bundle).
        public var answer: DeploymentAnswer
        /// The bundle directory, inside the directory the deploy was received into.
        public var bundle: URL
    }

    /// `POST /v1/models/{model}/deploy`: asks the vault for a serving bundle of `name` (the version `request`
    /// names), wrapped for `request.recipient` when the deployment is new or rotated, and streams it into
    /// `directory` (which must not exist, or be empty), renamed into place once complete. The stream must hold
    /// `deployment.json` and files under `bundle/` only. Nothing in it is trusted yet: the caller checks the
    /// bundle's signatures against its pinned key, and the answer against the bundle, before using either.
    public func deployModel(
        _ name: String, _ request: DeployModelRequest, into directory: URL, progress: TransferProgress? = nil
    ) async throws -> ReceivedDeployment {
        let bundlePrefix = DeploymentAnswer.bundleDirectory + "/"
        _ = try await downloadFiles(
            Self.path("", "v1", "models", name, "deploy"), query: nil, into: directory, flat: false,
            progress: progress, method: .POST, json: try Self.encode(request)
        ) { paths in
            guard paths.contains(DeploymentAnswer.fileName),
                paths.allSatisfy({ $0 == DeploymentAnswer.fileName || $0.hasPrefix(bundlePrefix) })
            else { throw VaultClientError(.integrity, "the server's deployment is not a bundle and its answer") }
        }
        let data = try Self.read(
            directory.appending(path: DeploymentAnswer.fileName), named: DeploymentAnswer.fileName, limit: 64 << 10)
        guard let answer = try? JSONDecoder().decode(DeploymentAnswer.self, from: data) else {
            throw VaultClientError(.integrity, "the server's deployment answer is not the expected JSON")
        }
        return ReceivedDeployment(answer: answer, bundle: directory.appending(path: DeploymentAnswer.bundleDirectory))
    }
}
