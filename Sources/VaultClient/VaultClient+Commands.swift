public import Foundation
import NIOHTTP1
public import VaultServer

/// The routes of the CLI's management, audit and ML commands. Each returns the server's JSON record as it came (the
/// CLI decodes it into the vault's own record types, so the output is the local command's).
extension VaultClient {
    // MARK: Principals, roles, tokens

    /// `GET /v1/principals`: every principal with its role bindings (JSON).
    public func principals() async throws -> Data {
        try await data(.GET, Self.path("", "v1", "principals"))
    }

    /// `POST /v1/principals`: adds a principal with its first binding (`role` or `role@scope`); the new record.
    public func addPrincipal(_ name: String, binding: String, service: Bool) async throws -> Data {
        try await data(
            .POST, Self.path("", "v1", "principals"),
            json: try Self.encode(AddPrincipalRequest(name: name, binding: binding, kind: service ? "service" : nil)))
    }

    /// `DELETE /v1/principals/{principal}`: removes a principal (its tokens are revoked).
    public func removePrincipal(_ name: String) async throws {
        _ = try await data(.DELETE, Self.path("", "v1", "principals", name))
    }

    /// `PUT /v1/principals/{principal}/roles/{binding}`: grants a binding (`role` or `role@scope`).
    public func grantRole(_ binding: String, to name: String) async throws {
        _ = try await data(.PUT, Self.path("", "v1", "principals", name, "roles", binding))
    }

    /// `DELETE /v1/principals/{principal}/roles/{binding}`: revokes a binding.
    public func revokeRole(_ binding: String, from name: String) async throws {
        _ = try await data(.DELETE, Self.path("", "v1", "principals", name, "roles", binding))
    }

    /// `GET /v1/whoami`: the caller's principal, bindings, permissions, token id and expiry (JSON).
    public func whoami() async throws -> Data {
        try await data(.GET, Self.path("", "v1", "whoami"))
    }

    /// `GET /v1/tokens`: every token's id, owner and state, never a token (JSON).
    public func tokens() async throws -> Data {
        try await data(.GET, Self.path("", "v1", "tokens"))
    }

    /// `POST /v1/principals/{principal}/tokens` (`name` given) or `POST /v1/tokens` (the caller's own): a new token,
    /// `{"token","info"}`, shown once.
    public func createToken(for name: String?, expiresIn: Double?) async throws -> Data {
        let path =
            name.map { Self.path("", "v1", "principals", $0, "tokens") } ?? Self.path("", "v1", "tokens")
        return try await data(.POST, path, json: try Self.encode(CreateTokenRequest(expiresIn: expiresIn)))
    }

    /// `DELETE /v1/tokens/{token}`: revokes a token by id.
    public func revokeToken(id: String) async throws {
        _ = try await data(.DELETE, Self.path("", "v1", "tokens", id))
    }

    // MARK: Keys and the audit log

    /// `POST /v1/keys/rotate`: a new key version. No passphrase is sent: the server wraps the new identity under
    /// the key material it was started with, so the client never holds a vault secret.
    public func rotateKeys(reencrypt: Bool) async throws -> Data {
        try await data(
            .POST, Self.path("", "v1", "keys", "rotate"),
            json: try Self.encode(RotateKeysRequest(passphrase: nil, reencrypt: reencrypt)))
    }

    /// `POST /v1/audit/verify`: the server recomputes the tree and checks every checkpoint (JSON summary).
    public func verifyAudit() async throws -> Data {
        try await data(.POST, Self.path("", "v1", "audit", "verify"))
    }

    /// `GET /v1/audit/proofs/{index}`: an inclusion proof of one entry against a signed checkpoint (JSON).
    public func auditProof(index: UInt64) async throws -> Data {
        try await data(.GET, Self.path("", "v1", "audit", "proofs", String(index)))
    }

    // MARK: Server-side ML

    /// `POST /v1/datasets/{dataset}/train`: trains on the dataset in the server's memory and pushes the model.
    /// `body` is `{"model","label","version"?,"options"?}`; the answer `{"model","evaluation"}`.
    public func train(dataset: String, body: Data) async throws -> Data {
        try await data(.POST, Self.path("", "v1", "datasets", dataset, "train"), json: body)
    }

    /// `POST /v1/models/{model}/versions/{version}/evaluate`: metrics of a verified version on a dataset (JSON).
    public func evaluate(
        _ name: String, version: String, dataset: String, label: String?, holdout: Bool = false
    ) async throws -> Data {
        try await data(
            .POST, Self.path("", "v1", "models", name, "versions", version, "evaluate"),
            json: try Self.encode(EvaluateRequest(dataset: dataset, label: label, holdout: holdout ? true : nil)))
    }

    /// `POST /v1/models/{model}/versions/{version}/predict`: the predictions CSV for the caller's rows.
    public func predict(_ name: String, version: String, csv: String) async throws -> String {
        let answer = try await data(
            .POST, Self.path("", "v1", "models", name, "versions", version, "predict"),
            json: try Self.encode(PredictRequest(csv: csv)))
        guard let decoded = try? JSONDecoder().decode(PredictRequest.self, from: answer) else {
            throw VaultClientError(.failure, "the server's answer is not the expected JSON")
        }
        return decoded.csv
    }
}
