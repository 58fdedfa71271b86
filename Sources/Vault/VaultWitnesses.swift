public import AuditLog
import Foundation
import GRDB

/// A witness configured for a vault (`modelvault audit witness add`): where it listens, its pinned cosignature key
/// and, for a private deployment, the CA its TLS certificate is checked against.
///
/// Kept as an authenticated `trust_pins` row (`witness.<name>+<key id>`), so someone who can write the vault
/// directory cannot add, change or drop a witness without the catalog refusing the row or its state root.
public struct VaultWitness: Sendable, Equatable, Codable {
    /// The witness's base URL (`https://host:port`); requests go to `<url>/add-checkpoint`.
    public var url: String
    /// The pinned cosignature verifier key (`<name>+<key id>+<key>`, signed-note key type 0x04).
    public var key: String
    /// PEM certificates the witness's TLS certificate must chain to (`nil`: the system's trust store).
    public var certificateAuthorityPEM: String?

    /// Creates a configuration after checking the key parses and the URL is HTTPS (HTTP only on loopback).
    public init(url: String, key: String, certificateAuthorityPEM: String? = nil) throws {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), let host = parsed.host(),
            scheme == "https" || (scheme == "http" && ["127.0.0.1", "localhost", "::1"].contains(host))
        else {
            throw VaultError(.invalidName, "a witness URL must be https://HOST[:PORT] (plain http only on loopback)")
        }
        guard (try? CosignatureVerifier(vkey: key)) != nil else {
            throw VaultError(
                .invalidName, "the witness key is not a cosignature verifier key (<name>+<key id>+<base64 key>)")
        }
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.key = key
        self.certificateAuthorityPEM = certificateAuthorityPEM
    }

    /// The pinned verifier.
    public var verifier: CosignatureVerifier {
        // Checked at init and when read back from the authenticated catalog.
        try! CosignatureVerifier(vkey: key)
    }

    /// The witness name (from its key).
    public var name: String { verifier.name }

    /// SHA-256 of the verifier key: what an operator compares with the witness's own output when pinning it.
    public var fingerprint: String { verifier.fingerprint }

    var pinName: String { "witness." + verifier.name + "+" + String(format: "%08x", verifier.keyID) }
}

/// Makes the transport that reaches a configured witness (the CLI's is HTTPS; tests may connect in process).
public typealias WitnessConnector = @Sendable (VaultWitness) throws -> any WitnessTransport

enum WitnessPins {
    static let prefix = "witness."

    static func all(_ db: Database) throws -> [VaultWitness] {
        try TrustPin.witnessPins(db)
            .map { pin in
                let name = pin.name
                let value = pin.value
                guard let witness = try? JSONDecoder().decode(VaultWitness.self, from: Data(value.utf8)),
                    (try? CosignatureVerifier(vkey: witness.key)) != nil, witness.pinName == name
                else { throw VaultError(.tampered, "trust_pins[name=\(name)]: not a witness configuration") }
                return witness
            }
    }

    static func set(_ witness: VaultWitness, _ db: Database) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try TrustPin.set(named: witness.pinName, to: String(decoding: try encoder.encode(witness), as: UTF8.self), db)
    }

    static func remove(_ witness: VaultWitness, _ db: Database) throws {
        try TrustPin.remove(named: witness.pinName, db)
    }
}

extension VaultAccess {
    /// Asks each witness whether it holds a newer or another tree than the local log (a live `add-checkpoint` of the
    /// current checkpoint, which also brings the witness up to date). A witness ahead of the log, or holding another
    /// tree, means the vault directory was rolled back, cut or forked: refused with an error naming the witness.
    /// Returns the witnesses that could not be reached (the vault stays usable; `audit verify` reports the age of
    /// the newest cosignature, and `--max-cosignature-age` makes it fatal).
    static func checkWitnesses(_ witnesses: [(VaultWitness, WitnessEndpoint)], log: AuditLog) async throws -> [String] {
        var unreachable: [String] = []
        for (witness, endpoint) in witnesses {
            switch await log.submit(to: endpoint) {
            case .cosigned: break
            case .witnessAhead(let size):
                throw VaultError(
                    .tampered,
                    "audit/: witness \(witness.name) holds a checkpoint of size \(size), but the log has \(await log.size) entries: the vault directory or its log was rolled back or cut"
                )
            case .inconsistent:
                throw VaultError(
                    .tampered,
                    "audit/: witness \(witness.name) cosigned a tree this log is not consistent with (forked or rewritten)"
                )
            case .keyRefused:
                // Not silent: reported at every open and failing `audit verify` until the witness has the new key.
                unreachable.append(
                    "\(witness.name) (refuses the log's audit key: restart it with this vault's audit/verifier.vkey added as another --log-key)"
                )
            case .unavailable: unreachable.append(witness.name)
            }
        }
        return unreachable
    }

    /// The witnesses configured for this vault.
    public func configuredWitnesses() throws -> [VaultWitness] {
        try vault.catalog.read { db in try WitnessPins.all(db) }
    }
}

extension VaultSession {
    /// `keys.rotate` (key management): pins `witness` for this vault's audit log, then submits the current
    /// checkpoint to it (when the process can reach witnesses) and returns what it answered.
    public func addWitness(_ witness: VaultWitness) async throws -> WitnessOutcome? {
        try await perform(.keysRotate, on: .global, resource: "witness:\(witness.name)") {
            try vault.catalog.write { db in try WitnessPins.set(witness, db) }
            guard let connector = access.witnessConnector, let log = access.log else { return nil }
            let endpoint = WitnessEndpoint(verifier: witness.verifier, transport: try connector(witness))
            return await log.submit(to: endpoint)
        }
    }

    /// `keys.rotate`: removes the witness whose key is `key`; returns whether one was configured.
    public func removeWitness(key: String) async throws -> Bool {
        try await perform(.keysRotate, on: .global, resource: "witness") {
            try vault.catalog.write { db in
                guard let found = try WitnessPins.all(db).first(where: { $0.key == key }) else { return false }
                try WitnessPins.remove(found, db)
                return true
            }
        }
    }

    /// `audit.read`: the witnesses configured for this vault.
    public func witnesses() async throws -> [VaultWitness] {
        try await perform(.auditRead, on: .global, resource: "audit") { try access.configuredWitnesses() }
    }
}
