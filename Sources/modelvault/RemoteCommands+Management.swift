import AccessControl
import ArgumentParser
import AuditLog
import Foundation
import MLCore
import Vault
import VaultClient
import VaultServer

// Remote mode of the management, audit and ML commands: the server's record, decoded into the vault's own type and
// printed by the local command's own code, so flags, output and exit codes match local mode.

extension UserAdd: RemoteCapable {
    func remote(_ client: VaultClient) async throws {
        let binding = try parseBinding(role: role, scope: scope)
        let principal = try RemoteModels.decode(
            Principal.self, try await client.addPrincipal(name, binding: binding.description, service: service))
        print("added \(principal.kind.rawValue) \(principal.name): \(binding)")
    }
}

extension UserList: RemoteCapable {
    func remote(_ client: VaultClient) async throws {
        try show(try RemoteModels.decode([Principal].self, try await client.principals()))
    }
}

extension UserRemove: RemoteCapable {
    func remote(_ client: VaultClient) async throws {
        try await client.removePrincipal(name)
        print("removed \(name)")
    }
}

extension RoleGrant: RemoteCapable {
    func remote(_ client: VaultClient) async throws {
        let binding = try parseBinding(role: role, scope: scope)
        try await client.grantRole(binding.description, to: name)
        print("granted \(binding) to \(name)")
    }
}

extension RoleRevoke: RemoteCapable {
    func remote(_ client: VaultClient) async throws {
        let binding = try parseBinding(role: role, scope: scope)
        try await client.revokeRole(binding.description, from: name)
        print("revoked \(binding) from \(name)")
    }
}

extension TokenCreate: RemoteCapable {
    /// The server's `{"token","info"}`.
    struct Issued: Decodable {
        var token: String
        var info: TokenInfo
    }

    func remote(_ client: VaultClient) async throws {
        let lifetime = try TokenLifetime.parseOrNever(expires)
        let issued: Issued
        do {
            issued = try RemoteModels.decode(Issued.self, try await client.createToken(for: name, expiresIn: lifetime))
        } catch let denied as VaultClientError where denied.httpStatus == 403 {
            // Without `token.create`, the caller may still hold `token.create-own`, which has its own route. Only
            // when `whoami` says `name` is the caller: no token is minted (and revoked) for a plain denial (review
            // 4, F6).
            let caller = try? RemoteModels.decode(CallerIdentity.self, try await client.whoami())
            guard caller?.principal == name else { throw denied }
            issued = try RemoteModels.decode(Issued.self, try await client.createToken(for: nil, expiresIn: lifetime))
        }
        try present(token: issued.token, info: issued.info)
    }
}

extension TokenList: RemoteCapable {
    func remote(_ client: VaultClient) async throws {
        try show(try RemoteModels.decode([TokenInfo].self, try await client.tokens()))
    }
}

extension TokenRevoke: RemoteCapable {
    func remote(_ client: VaultClient) async throws {
        try await client.revokeToken(id: id)
        print("revoked token \(id)")
    }
}

extension KeysRotate: RemoteCapable {
    /// The server's rotation record (older servers send neither `retiredVersions` nor `resumed`).
    struct Record: Decodable {
        var keyVersion: Int
        var filesMoved: Int
        var reencrypted: Bool
        var retiredVersions: [Int]?
        var resumed: Bool?
    }

    func remote(_ client: VaultClient) async throws {
        progress(reencrypt ? "re-encrypting every stored file..." : "re-wrapping every stored file...")
        let record = try RemoteModels.decode(Record.self, try await client.rotateKeys(reencrypt: reencrypt))
        try present(
            Output(
                keyVersion: record.keyVersion, filesMoved: record.filesMoved, reencrypted: record.reencrypted,
                retiredVersions: record.retiredVersions ?? [], resumed: record.resumed ?? false))
    }
}

extension AuditVerify: RemoteCapable {
    func remote(_ client: VaultClient) async throws {
        let notes = try trusted.map { path in
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CLIError("cannot read the trusted checkpoint file \(path)")
            }
            return String(decoding: data, as: UTF8.self)
        }
        let summary = try RemoteModels.decode(AuditVerificationSummary.self, try await client.verifyAudit())
        // The trust decision is the client's: the server sends a checkpoint signed now, proofs and cosignatures,
        // and the client checks them against its own trusted checkpoints (and the witnesses they carry).
        var check = AuditConsistencyCheck()
        if !notes.isEmpty || maxCosignatureAge != nil {
            let sizes = notes.compactMap(AuditConsistencyEvidence.claimedSize(of:))
            let evidence = try RemoteModels.decode(
                AuditConsistencyEvidence.self,
                try await client.auditCheckpoint(
                    trustedSizes: Array(sizes.prefix(AuditConsistencyEvidence.maxTrustedSizes))))
            do {
                check = try evidence.check(trusted: notes, maxCosignatureAge: maxCosignatureAge)
            } catch let error as AuditConsistencyError {
                throw CLIError(error.description, status: .integrity)
            }
        }
        let problems = check.problems.map { "\($0)" }
        let firstBad = ([summary.firstBadIndex] + check.problems.map(\.index)).compactMap { $0 }.min()
        try present(
            Output(
                valid: summary.ok && problems.isEmpty, entries: Int(summary.entryCount),
                checkpoints: summary.checkpointCount, root: summary.root ?? "",
                latestCheckpointSize: summary.latestCheckpointSize.map { Int($0) },
                entriesAfterLatestCheckpoint: Int(summary.entriesAfterLatestCheckpoint ?? 0),
                unfinishedTail: summary.unfinishedTail ?? false,
                consistentWithTrustedSizes: check.trustedVerified.map { Int($0) },
                problemCount: summary.problemCount + problems.count, problems: summary.problems + problems,
                firstBadIndex: firstBad.map { Int($0) },
                auditKeyFingerprint: summary.auditKey.flatMap { try? NoteVerifier(vkey: $0).fingerprint }),
            newestCosignature: check.newestCosignature)
    }
}

extension AuditProve: RemoteCapable {
    func remote(_ client: VaultClient) async throws {
        try printJSON(try RemoteModels.decode(InclusionProof.self, try await client.auditProof(index: index)))
    }
}

extension Train: RemoteCapable {
    /// The request body of the server's train route.
    struct Request: Encodable {
        var model: String
        var label: String
        var version: Int?
        var options: TrainingOptions
    }

    /// The server's answer: the pushed version and its held-out metrics.
    struct Answer: Decodable {
        var model: RegistryModelVersion
        var evaluation: Evaluation
    }

    func remote(_ client: VaultClient) async throws {
        let training = try trainingOptions()
        let reference = try DatasetReference(parsing: dataset)
        progress("training \(training.kind.rawValue) on \(reference) on the server (the dataset stays there)...")
        let body = try JSONEncoder().encode(
            Request(model: name, label: label, version: reference.version, options: training))
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let data = try await client.train(dataset: reference.name, body: body)
        guard let answer = try? decoder.decode(Answer.self, from: data) else {
            throw CLIError("the server's answer is not the expected record")
        }
        progress(answer.evaluation.report)
        print("\(name)@\(answer.model.version)")
    }
}

extension Evaluate: RemoteCapable {
    func remote(_ client: VaultClient) async throws {
        let reference = try ModelReference(parsing: reference)
        let datasetReference = try DatasetReference(parsing: dataset)
        let version = try await RemoteModels.version(reference, client)
        let evaluation = try RemoteModels.decode(
            Evaluation.self,
            try await client.evaluate(
                reference.name, version: version, dataset: datasetReference.description, label: label,
                holdout: holdout))
        if json { return try printJSON(evaluation) }
        print(evaluation.report)
    }
}

extension Predict: RemoteCapable {
    func remote(_ client: VaultClient) async throws {
        let reference = try ModelReference(parsing: reference)
        let rows = try CLIFiles.read(input, what: "input CSV")
        let version = try await RemoteModels.version(reference, client)
        try write(
            try await client.predict(reference.name, version: version, csv: String(decoding: rows, as: UTF8.self)))
    }
}
