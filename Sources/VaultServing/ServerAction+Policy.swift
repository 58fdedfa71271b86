import AccessControl
import VaultServer

extension ServerAction {
    /// The vault action a server route is authorised as: the same matrix rows the CLI uses.
    var vaultAction: Action {
        switch self {
        case .readServerMetadata, .listModels: .modelList
        case .readModelMetadata, .showModel: .modelShow
        case .infer: .modelInfer
        case .privateInfer: .modelPrivateInfer
        case .readMetrics: .serverMetrics
        case .pushModel: .modelPush
        // A remote pull only ever hands out files re-wrapped for the caller's recipient.
        case .pullModel: .modelPullRewrapped
        case .moveAlias: .modelAlias
        case .deployModel: .modelDeploy
        case .listDatasets: .dataList
        case .showDataset: .dataShow
        case .exportAudit: .auditRead
        case .readReport: .reportRead
        case .addDataset: .dataAdd
        case .getDataset: .dataGet
        case .verifyModel: .modelVerify
        case .listKeys: .keysList
        case .rotateKeys: .keysRotate
        case .listPrincipals: .userList
        case .managePrincipals: .userManage
        case .manageRoles: .roleManage
        case .listTokens: .tokenList
        case .createOwnToken: .tokenCreateOwn
        case .createToken: .tokenCreate
        case .revokeToken: .tokenRevokeOwn
        case .readAudit: .auditRead
        case .verifyAudit: .auditVerify
        case .appendAudit: .auditAppend
        case .train: .train
        case .evaluate: .evaluate
        case .predict: .predict
        case .whoami: .whoami
        }
    }
}

extension ServerResource {
    /// The policy scope of the resource.
    var scope: Scope {
        switch self {
        case .global: .global
        case .model(let name): .model(name)
        case .dataset(let name): .dataset(name)
        }
    }
}
