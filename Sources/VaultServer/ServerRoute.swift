import Hummingbird

/// One route the server serves, declared once: method, path template, the action it needs and the path parameter
/// naming the resource it addresses. The gateway's authorisation, the audit record's action and route, the metric
/// label, handler registration and the checks of `openapi.json` all read this table; nothing else lists routes.
struct ServerRoute: Sendable, Equatable {
    /// Which resource a route addresses.
    enum Resource: Sendable, Equatable {
        /// The server or the whole registry.
        case global
        /// The model named by the `{model}` path parameter.
        case model
        /// The dataset named by the `{dataset}` path parameter.
        case dataset
    }

    /// The HTTP method.
    let method: HTTPRequest.Method
    /// The path template, e.g. `/v2/models/{model}/infer`; also the route's audit and metric label.
    let template: String
    /// The action to authorise; `nil` for the open routes (health probes, the OpenAPI document).
    let action: ServerAction?
    /// What the action applies to.
    let resource: Resource

    private init(_ method: HTTPRequest.Method, _ template: String, _ action: ServerAction?, _ resource: Resource) {
        self.method = method
        self.template = template
        self.action = action
        self.resource = resource
    }

    /// Whether the route's request or response body is a `FileStream`: exempt from the JSON body cap
    /// (`maxBodySize`), bounded by the stream cap (`maxStreamBytes`) instead, and given the body read time.
    var streamsFiles: Bool { Self.fileStreamTemplates.contains(template) }

    /// The path template's segments (`{name}` for a parameter).
    var segments: [Substring] { template.split(separator: "/") }
}

extension ServerRoute {
    // Open Inference Protocol v2.
    static let healthLive = ServerRoute(.get, "/v2/health/live", nil, .global)
    static let healthReady = ServerRoute(.get, "/v2/health/ready", nil, .global)
    static let serverMetadata = ServerRoute(.get, "/v2", .readServerMetadata, .global)
    static let modelMetadata = ServerRoute(.get, "/v2/models/{model}", .readModelMetadata, .model)
    static let modelVersionMetadata = ServerRoute(
        .get, "/v2/models/{model}/versions/{version}", .readModelMetadata, .model)
    static let modelReady = ServerRoute(.get, "/v2/models/{model}/ready", .readModelMetadata, .model)
    static let modelVersionReady = ServerRoute(
        .get, "/v2/models/{model}/versions/{version}/ready", .readModelMetadata, .model)
    static let infer = ServerRoute(.post, "/v2/models/{model}/infer", .infer, .model)
    static let versionInfer = ServerRoute(.post, "/v2/models/{model}/versions/{version}/infer", .infer, .model)
    static let metrics = ServerRoute(.get, "/metrics", .readMetrics, .global)
    // The /v1 registry API.
    static let openAPI = ServerRoute(.get, "/v1/openapi.json", nil, .global)
    static let listModels = ServerRoute(.get, "/v1/models", .listModels, .global)
    static let showModel = ServerRoute(.get, "/v1/models/{model}", .showModel, .model)
    static let pushModel = ServerRoute(.post, "/v1/models/{model}/versions", .pushModel, .model)
    static let pullModel = ServerRoute(.post, "/v1/models/{model}/versions/{version}/pull", .pullModel, .model)
    static let moveAlias = ServerRoute(.put, "/v1/models/{model}/aliases/{alias}", .moveAlias, .model)
    static let removeAlias = ServerRoute(.delete, "/v1/models/{model}/aliases/{alias}", .moveAlias, .model)
    static let listDatasets = ServerRoute(.get, "/v1/datasets", .listDatasets, .global)
    static let showDataset = ServerRoute(.get, "/v1/datasets/{dataset}", .showDataset, .dataset)
    static let exportAudit = ServerRoute(.get, "/v1/audit", .exportAudit, .global)
    static let report = ServerRoute(.get, "/v1/report", .readReport, .global)
    static let privateInfer = ServerRoute(.post, "/v1/models/{model}/private-infer", .privateInfer, .model)
    // What `model show` prints, for remote mode: the vault's own version record.
    static let showModelVersion = ServerRoute(.get, "/v1/models/{model}/versions/{version}", .showModel, .model)
    // Remote mode (#14): streamed transfers (`FileStream`) and the CLI's remaining commands.
    static let uploadModel = ServerRoute(.post, "/v1/models/{model}/upload", .pushModel, .model)
    static let downloadModel = ServerRoute(
        .get, "/v1/models/{model}/versions/{version}/download", .pullModel, .model)
    static let uploadDataset = ServerRoute(.post, "/v1/datasets/{dataset}/upload", .addDataset, .dataset)
    static let downloadDataset = ServerRoute(
        .get, "/v1/datasets/{dataset}/versions/{version}/download", .getDataset, .dataset)
    static let verifyModel = ServerRoute(.post, "/v1/models/{model}/versions/{version}/verify", .verifyModel, .model)
    static let showDatasetVersion = ServerRoute(
        .get, "/v1/datasets/{dataset}/versions/{version}", .showDataset, .dataset)
    static let listKeys = ServerRoute(.get, "/v1/keys", .listKeys, .global)
    static let listKeyFiles = ServerRoute(.get, "/v1/keys/{version}/files", .listKeys, .global)
    static let rotateKeys = ServerRoute(.post, "/v1/keys/rotate", .rotateKeys, .global)
    static let listPrincipals = ServerRoute(.get, "/v1/principals", .listPrincipals, .global)
    static let addPrincipal = ServerRoute(.post, "/v1/principals", .managePrincipals, .global)
    static let removePrincipal = ServerRoute(.delete, "/v1/principals/{principal}", .managePrincipals, .global)
    static let grantRole = ServerRoute(.put, "/v1/principals/{principal}/roles/{binding}", .manageRoles, .global)
    static let revokeRole = ServerRoute(
        .delete, "/v1/principals/{principal}/roles/{binding}", .manageRoles, .global)
    static let listTokens = ServerRoute(.get, "/v1/tokens", .listTokens, .global)
    static let createOwnToken = ServerRoute(.post, "/v1/tokens", .createOwnToken, .global)
    static let createToken = ServerRoute(.post, "/v1/principals/{principal}/tokens", .createToken, .global)
    static let revokeToken = ServerRoute(.delete, "/v1/tokens/{token}", .revokeToken, .global)
    static let auditTail = ServerRoute(.get, "/v1/audit/tail", .readAudit, .global)
    static let auditVerify = ServerRoute(.post, "/v1/audit/verify", .verifyAudit, .global)
    static let auditProof = ServerRoute(.get, "/v1/audit/proofs/{index}", .readAudit, .global)
    // `audit verify --trusted/--max-cosignature-age` in remote mode: the evidence the client checks itself.
    static let auditCheckpoint = ServerRoute(.get, "/v1/audit/checkpoint", .verifyAudit, .global)
    static let appendAudit = ServerRoute(.post, "/v1/audit/entries", .appendAudit, .global)
    static let appendAuditBatch = ServerRoute(.post, "/v1/audit/batches", .appendAudit, .global)
    static let train = ServerRoute(.post, "/v1/datasets/{dataset}/train", .train, .dataset)
    static let evaluate = ServerRoute(.post, "/v1/models/{model}/versions/{version}/evaluate", .evaluate, .model)
    static let predict = ServerRoute(.post, "/v1/models/{model}/versions/{version}/predict", .predict, .model)
    static let whoami = ServerRoute(.get, "/v1/whoami", .whoami, .global)
    // `deploy` in remote mode: a JSON request, a file stream answer (the serving bundle and its metadata).
    static let deployModel = ServerRoute(.post, "/v1/models/{model}/deploy", .deployModel, .model)

    /// Every route the server serves: the one table.
    static let all: [ServerRoute] = [
        healthLive, healthReady, serverMetadata, modelMetadata, modelVersionMetadata, modelReady, modelVersionReady,
        infer, versionInfer, metrics, openAPI, listModels, showModel, pushModel, pullModel, moveAlias, listDatasets,
        showDataset, exportAudit, report, privateInfer,
        // Remote mode (#14).
        uploadModel, downloadModel, uploadDataset, downloadDataset, verifyModel, showDatasetVersion, listKeys,
        rotateKeys, listPrincipals, addPrincipal, removePrincipal, grantRole, revokeRole, listTokens, createOwnToken,
        createToken, revokeToken, auditTail, auditVerify, auditProof, appendAudit, appendAuditBatch, train, evaluate,
        predict,
        showModelVersion, whoami, removeAlias, listKeyFiles, deployModel, auditCheckpoint,
    ]
}

extension ServerRoute {
    /// The templates of the routes whose bodies are file streams.
    static let fileStreamTemplates: Set<String> = [
        uploadModel.template, downloadModel.template, uploadDataset.template, downloadDataset.template,
    ]
}

extension ServerRoute {
    /// The routes a serving-only server answers: health, metadata, inference (plain and private) and metrics; no
    /// `/v1` registry route.
    static let serving: [ServerRoute] = [
        healthLive, healthReady, serverMetadata, modelMetadata, modelVersionMetadata, modelReady, modelVersionReady,
        infer, versionInfer, metrics, privateInfer,
    ]

    /// The routes a server with this selection answers; the others answer 404 before authentication.
    static func routes(for selection: VaultServerConfiguration.Routes) -> [ServerRoute] {
        switch selection {
        case .all: all
        case .servingOnly: serving
        }
    }
}
