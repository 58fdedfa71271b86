/// One authorised operation of the CLI or the server. Every vault command maps to exactly one action.
///
/// Commands that never touch a vault (`keygen`, `encrypt`, `decrypt`, `sign`, `verify`, `he keygen|encrypt|decrypt`)
/// need no action. Raw values are the names shown in the permission matrix and recorded in the audit log.
public enum Action: String, CaseIterable, Sendable, Codable, Comparable {
    /// `modelvault init`: create a vault (bootstrap; creates the first admin).
    case vaultInit = "vault.init"
    /// `data add`: add an encrypted dataset version.
    case dataAdd = "data.add"
    /// `data list`: list datasets (metadata).
    case dataList = "data.list"
    /// `data show`: show a dataset's versions and metadata.
    case dataShow = "data.show"
    /// `data get`: decrypt dataset bytes.
    case dataGet = "data.get"
    /// `model push`: push a new model version.
    case modelPush = "model.push"
    /// `model list`: list models (metadata).
    case modelList = "model.list"
    /// `model show`: show a model's versions, aliases, lineage (metadata).
    case modelShow = "model.show"
    /// `model pull`: decrypt model bytes.
    case modelPull = "model.pull"
    /// `model pull --recipient`: model bytes re-wrapped to another age recipient (never plaintext).
    case modelPullRewrapped = "model.pull-rewrapped"
    /// `model verify`: check a version's signature and file hashes.
    case modelVerify = "model.verify"
    /// `model alias`: point an alias (e.g. `production`) at a version: promotion.
    case modelAlias = "model.alias"
    /// `model import-fernet`: import a legacy Fernet-encrypted model.
    case modelImport = "model.import"
    /// `deploy`: generate deployment artifacts for a version.
    case modelDeploy = "model.deploy"
    /// Inference on a stored model (`POST /v2/models/.../infer`).
    case modelInfer = "model.infer"
    /// Homomorphic (CKKS) inference on encrypted inputs (`he infer`).
    case modelPrivateInfer = "model.private-infer"
    /// Scan a model's files for unsafe content.
    case modelScan = "model.scan"
    /// `keys rotate`: new key version, re-wrap or re-encrypt.
    case keysRotate = "keys.rotate"
    /// `keys list`: key versions and ages (no key material).
    case keysList = "keys.list"
    /// `keys export-identity`: hand out the vault's master identity, which decrypts everything. Admin only: whoever
    /// holds it is an admin in effect.
    case keysExportIdentity = "keys.export-identity"
    /// `user add|remove`: manage principals.
    case userManage = "user.manage"
    /// `user list`: list principals and their bindings.
    case userList = "user.list"
    /// `role grant|revoke`: manage role bindings.
    case roleManage = "role.manage"
    /// `token create NAME` for another principal.
    case tokenCreate = "token.create"
    /// `token create` for the caller itself.
    case tokenCreateOwn = "token.create-own"
    /// `token list`: every principal's token ids, expiry and state (never the tokens).
    case tokenList = "token.list"
    /// `token revoke ID` for any principal's token.
    case tokenRevoke = "token.revoke"
    /// `token revoke ID` for one of the caller's own tokens.
    case tokenRevokeOwn = "token.revoke-own"
    /// `audit tail|export|prove`: read the audit log.
    case auditRead = "audit.read"
    /// `audit verify`: recompute the tree and check checkpoints.
    case auditVerify = "audit.verify"
    /// `report`: compliance report.
    case reportRead = "report.read"
    /// `train`: train a model on a vault dataset (reads the dataset, writes a model version).
    case train
    /// `evaluate`: evaluate a model version on a vault dataset (metrics only, no bytes out).
    case evaluate
    /// `predict`: run a model version on caller-supplied rows.
    case predict
    /// Server metrics and status endpoints beyond health.
    case serverMetrics = "server.metrics"
    /// Append an entry to the audit log through the server (`POST /v1/audit/entries`): a serving-only pod's
    /// record of what it loaded and served, under its own principal.
    case auditAppend = "audit.append"
    /// `whoami`: the caller's own principal, role bindings, permissions and token (id and expiry, never the token).
    case whoami

    /// The kind of resource the action applies to, which decides which scoped bindings can apply.
    public var resourceKind: ResourceKind {
        switch self {
        case .dataAdd, .dataShow, .dataGet, .train: .dataset
        case .modelPush, .modelShow, .modelPull, .modelPullRewrapped, .modelVerify, .modelAlias, .modelImport,
            .modelDeploy, .modelInfer, .modelPrivateInfer, .modelScan, .evaluate, .predict:
            .model
        case .dataList: .datasetListing
        case .modelList: .modelListing
        case .whoami: .caller
        default: .vault
        }
    }

    /// Orders actions as declared, so tables are stable.
    public static func < (lhs: Action, rhs: Action) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// What an action is checked against.
public enum ResourceKind: Sendable, Equatable {
    /// A vault-wide operation: only global bindings apply.
    case vault
    /// One model (`Scope.model`): global bindings and bindings scoped to that model apply.
    case model
    /// One dataset (`Scope.dataset`): global bindings and bindings scoped to that dataset apply.
    case dataset
    /// Listing models: allowed if any binding grants it; filter the rows with `Policy.visible`.
    case modelListing
    /// Listing datasets: allowed if any binding grants it; filter the rows with `Policy.visible`.
    case datasetListing
    /// The caller itself (`whoami`): any binding that grants the action, at whatever scope.
    case caller
}
