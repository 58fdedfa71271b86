public import Foundation

/// A vault operation of the CLI's remaining commands (#14), run by ``RegistryBackend/perform(_:principal:requestID:)``
/// in a session for the caller after the gateway authorised the route's action.
public enum RemoteOperation: Sendable, Equatable {
    /// `model verify NAME@V` (`version`: a number or an alias name).
    case verifyModel(name: String, version: String)
    /// `data show NAME@V` (`version`: a number or `latest`).
    case showDatasetVersion(name: String, version: String)
    /// `keys list`.
    case listKeys
    /// `keys list --files`: the files still wrapped for one key version.
    case listKeyFiles(version: Int)
    /// `model alias --delete NAME ALIAS`.
    case removeAlias(model: String, alias: String)
    /// `keys rotate [--reencrypt]`.
    case rotateKeys(RotateKeysRequest)
    /// `user list`.
    case listPrincipals
    /// `user add NAME --role R [--scope S] [--service]`.
    case addPrincipal(AddPrincipalRequest)
    /// `user remove NAME`.
    case removePrincipal(String)
    /// `role grant NAME BINDING` (`role` or `role@scope`).
    case grantRole(principal: String, binding: String)
    /// `role revoke NAME BINDING`.
    case revokeRole(principal: String, binding: String)
    /// `token list`.
    case listTokens
    /// `token create [NAME]`: for `principal`, or the caller itself when `nil` (then bounded by the presented
    /// token's expiry, identified by `presentedToken`, which is never stored or logged).
    case createToken(principal: String?, expiresIn: Double?, presentedToken: String)
    /// `token revoke ID`.
    case revokeToken(id: String)
    /// `audit tail -n COUNT`.
    case auditTail(count: Int)
    /// `audit tail --follow`: up to `count` entries from index `start` on, waiting up to `waitSeconds` for new ones
    /// when there are none but the follower's own polls (a long poll).
    case auditTailFrom(start: UInt64, count: Int, waitSeconds: Int)
    /// `audit verify`.
    case auditVerify
    /// `audit verify --trusted/--max-cosignature-age`: the evidence the client checks itself (a checkpoint signed
    /// now, the key chain, consistency proofs from `trustedSizes`, the witnesses' cosignatures).
    case auditCheckpoint(trustedSizes: [UInt64])
    /// `audit prove INDEX`.
    case auditProof(index: UInt64)
    /// An audit entry from a serving-only pod, recorded under the caller.
    case appendAudit(AppendAuditRequest)
    /// A batch of audit entries from a serving-only pod, recorded under the caller in one durable write.
    case appendAuditBatch(AppendAuditBatchRequest)
    /// `train --dataset NAME[@V]`: trains on the decrypted dataset in memory and pushes the model. `body` is the
    /// JSON request `{"model","label","version"?,"options"?}` (options: the ML engine's `TrainingOptions`), decoded
    /// by the backend, which knows the engine.
    case train(dataset: String, body: Data)
    /// `evaluate NAME@V --dataset D[@V]`: metrics only.
    case evaluate(model: String, version: String, EvaluateRequest)
    /// `predict NAME@V --input ROWS.csv`: predictions for the caller's rows.
    case predict(model: String, version: String, PredictRequest)
    /// `whoami`: the caller's principal, bindings, permissions, and the presented token's id and expiry
    /// (`presentedToken`, `nil` for a client certificate, is only looked up, never stored or logged).
    case whoami(presentedToken: String?)
}

/// The body of `POST /v1/models/{model}/versions/{version}/evaluate`.
public struct EvaluateRequest: Sendable, Codable, Equatable {
    /// The dataset: `NAME` or `NAME@V`.
    public var dataset: String
    /// The label column; `nil` for the model's.
    public var label: String?
    /// Score only the rows held out when the version was trained (`evaluate --holdout`); the dataset must be one the
    /// version was trained on.
    public var holdout: Bool?

    /// Creates a request.
    public init(dataset: String, label: String? = nil, holdout: Bool? = nil) {
        self.dataset = dataset
        self.label = label
        self.holdout = holdout
    }
}

/// The body of `POST /v1/models/{model}/versions/{version}/predict`, and its answer.
public struct PredictRequest: Sendable, Codable, Equatable {
    /// CSV rows with a header holding the model's feature columns (or, in the answer, the predictions CSV).
    public var csv: String

    /// Creates a request.
    public init(csv: String) {
        self.csv = csv
    }
}

/// The body of `POST /v1/keys/rotate`: `{"reencrypt": BOOL}` or nothing.
///
/// No passphrase travels: the server rotates with the passphrase it was unlocked with (held in its memory, next to
/// the unlocked identities, which are worth as much). A server unlocked with an identity file holds none, and
/// answers 409: rotate locally there.
public struct RotateKeysRequest: Sendable, Codable, Equatable {
    /// Must be absent: a request that carries a passphrase is refused (400) before anything else is done, so a
    /// client that still sends one learns it should not.
    public var passphrase: String?
    /// Must be absent or false: `true` is refused (400, ``reencryptRefused``); a re-encrypting rotation runs on the
    /// vault host, where it takes a new passphrase.
    public var reencrypt: Bool?

    /// The fixed text of the 400 a request with a passphrase gets.
    public static let passphraseRefused =
        "keys rotate takes no passphrase over the server: send {\"reencrypt\":BOOL} only; the server rotates with the passphrase it was unlocked with"
    /// The fixed text of the 400 a request with `reencrypt: true` gets: the recovery after a compromise needs a new
    /// vault passphrase (copies of the old key files open with the old one), and no passphrase travels to the server.
    public static let reencryptRefused =
        "keys rotate --reencrypt needs a new vault passphrase, which never travels to the server: run it on the vault host"
    /// The fixed text of the 409 a server that holds no passphrase answers.
    public static let noPassphraseHeld =
        "this server was unlocked with an identity file and holds no passphrase to wrap a new key: run modelvault keys rotate where the vault is"

    /// Creates a rotation request (leave `passphrase` nil: one is refused).
    public init(passphrase: String? = nil, reencrypt: Bool? = nil) {
        self.passphrase = passphrase
        self.reencrypt = reencrypt
    }
}

/// The body of `POST /v1/principals`.
public struct AddPrincipalRequest: Sendable, Codable, Equatable {
    /// The new principal's name.
    public var name: String
    /// Its first role binding: `role` or `role@scope` (`role@model:NAME`, `role@dataset:NAME`).
    public var binding: String
    /// `person` (the default) or `service`.
    public var kind: String?

    /// Creates a request.
    public init(name: String, binding: String, kind: String? = nil) {
        self.name = name
        self.binding = binding
        self.kind = kind
    }
}

/// The body of `POST /v1/tokens` and `POST /v1/principals/{principal}/tokens`.
public struct CreateTokenRequest: Sendable, Codable, Equatable {
    /// Seconds until the token expires; `nil` for no expiry.
    public var expiresIn: Double?

    /// Creates a request.
    public init(expiresIn: Double?) {
        self.expiresIn = expiresIn
    }
}

/// The body of `POST /v1/audit/entries`: one entry a serving-only pod writes to the vault's log.
///
/// The entry is recorded under the calling principal (a `principal` in the body is ignored), with the request's
/// id and client address; `action` must be in ``allowedActions`` or the `serving.` namespace.
public struct AppendAuditRequest: Sendable, Codable, Equatable {
    /// What happened: one of ``allowedActions`` or `serving.NAME` (lowercase letters, digits, `.` and `-`).
    public var action: String
    /// What it happened to, e.g. `model:fraud@3` (at most 256 UTF-8 bytes; see ``validate()``).
    public var resource: String
    /// `allowed`, `denied` or `failed`.
    public var outcome: String
    /// Optional detail (at most 1,024 UTF-8 bytes; see ``validate()``).
    public var detail: String?
    /// The sender's id for this entry (1 to 64 ASCII letters, digits and `-`): a retry with the same id is recorded
    /// once by the server process that recorded it.
    public var id: String?

    /// Creates a request.
    public init(action: String, resource: String, outcome: String, detail: String? = nil, id: String? = nil) {
        self.action = action
        self.resource = resource
        self.outcome = outcome
        self.detail = detail
        self.id = id
    }

    /// The actions a pod may record besides the `serving.` namespace: what a serving process does.
    public static let allowedActions: Set<String> = ["model.load", "model.infer", "model.private-infer"]
    /// The largest body accepted, in bytes.
    public static let maxBodyBytes = 4096

    /// Checks the vocabulary and bounds; throws ``RegistryError/invalid`` with nothing echoed. Bounds are in UTF-8
    /// bytes (one Character can be thousands), and text must be safe for one log line (``LogText/isSafe(_:)``): no
    /// control, format, line or paragraph separator scalar, so no entry can look like two in a viewer.
    public func validate() throws {
        let namespaced =
            action.hasPrefix("serving.") && action.count <= 64 && action.count > "serving.".count
            && action.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "-"
            }
        guard Self.allowedActions.contains(action) || namespaced,
            ["allowed", "denied", "failed"].contains(outcome),
            !resource.isEmpty, resource.utf8.count <= Self.maxResourceBytes, LogText.isSafe(resource),
            (detail?.utf8.count ?? 0) <= Self.maxDetailBytes, detail.map(LogText.isSafe) ?? true,
            id.map(Self.isValidID) ?? true
        else { throw RegistryError.invalid }
    }

    /// Whether `id` is 1 to 64 ASCII letters, digits and `-`.
    static func isValidID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count)
            && id.utf8.allSatisfy {
                ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D
            }
    }

    /// The largest `resource`, in UTF-8 bytes.
    public static let maxResourceBytes = 256
    /// The largest `detail`, in UTF-8 bytes.
    public static let maxDetailBytes = 1024
}

/// The body of `POST /v1/audit/batches`: 1 to ``maxEntries`` entries a serving-only pod writes to the vault's log
/// in one request (one per request topped out at about 115 entries/s under the per-principal limit; review 5, F4).
public struct AppendAuditBatchRequest: Sendable, Codable, Equatable {
    /// The entries, each as ``AppendAuditRequest`` (and checked as one).
    public var entries: [AppendAuditRequest]

    /// Creates a request.
    public init(entries: [AppendAuditRequest]) {
        self.entries = entries
    }

    /// The most entries in one batch.
    public static let maxEntries = 64
    /// The largest body accepted, in bytes: every entry at its largest, with room for the JSON around them.
    public static let maxBodyBytes = maxEntries * AppendAuditRequest.maxBodyBytes + 1024

    /// Checks the count and every entry; throws ``RegistryError/invalid`` with nothing echoed.
    public func validate() throws {
        guard (1...Self.maxEntries).contains(entries.count) else { throw RegistryError.invalid }
        for entry in entries { try entry.validate() }
    }
}

/// The answer to `POST /v1/audit/batches`.
public struct AppendAuditBatchResult: Sendable, Codable, Equatable {
    /// How many entries were recorded by this request (entries an earlier attempt recorded are not counted).
    public var recorded: Int

    /// Creates a result.
    public init(recorded: Int) {
        self.recorded = recorded
    }
}

/// `audit verify`'s result: counts and fixed problem texts, no entry contents.
public struct AuditVerificationSummary: Sendable, Codable, Equatable {
    /// Whether the log verified with no problem.
    public var ok: Bool
    /// Complete entries.
    public var entryCount: UInt64
    /// Checkpoints.
    public var checkpointCount: Int
    /// The index of the latest verified checkpoint's size, if any.
    public var latestCheckpointSize: UInt64?
    /// All problems found.
    public var problemCount: Int
    /// The first problems, as texts.
    public var problems: [String]
    /// The first bad entry index, if any.
    public var firstBadIndex: UInt64?
    /// The recomputed Merkle root (base64), as `audit verify` prints it; absent from older servers.
    public var root: String?
    /// Entries after the latest checkpoint; absent from older servers.
    public var entriesAfterLatestCheckpoint: UInt64?
    /// Whether an unfinished record (an interrupted append) follows the last entry; absent from older servers.
    public var unfinishedTail: Bool?
    /// The vault's audit verifier key (`<origin>+<key id>+<key>`), as the server's unlocked vault holds it; absent from
    /// older servers.
    public var auditKey: String?

    /// Creates a summary.
    public init(
        ok: Bool, entryCount: UInt64, checkpointCount: Int, latestCheckpointSize: UInt64?, problemCount: Int,
        problems: [String], firstBadIndex: UInt64?, root: String? = nil, entriesAfterLatestCheckpoint: UInt64? = nil,
        unfinishedTail: Bool? = nil, auditKey: String? = nil
    ) {
        self.auditKey = auditKey
        self.root = root
        self.entriesAfterLatestCheckpoint = entriesAfterLatestCheckpoint
        self.unfinishedTail = unfinishedTail
        self.ok = ok
        self.entryCount = entryCount
        self.checkpointCount = checkpointCount
        self.latestCheckpointSize = latestCheckpointSize
        self.problemCount = problemCount
        self.problems = problems
        self.firstBadIndex = firstBadIndex
    }
}
