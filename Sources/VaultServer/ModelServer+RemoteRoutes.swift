import Foundation
import Hummingbird

extension ModelServer {
    /// Registers the routes of the CLI's remaining commands (#14): each handler decodes its request and hands
    /// one `RemoteOperation` to the backend, which runs it in a vault session for the caller (authorise, audit,
    /// act); the answer is the operation's record as JSON.
    static func addRemoteRoutes(to routes: TimedRoutes, registry: (any RegistryBackend)?, state: GatewayState) {
        let maxBody = state.configuration.maxBodySize
        let jobs = JobLimiter(limit: max(1, state.configuration.maxJobsPerPrincipal))
        @Sendable func run(
            _ operation: RemoteOperation, _ context: VaultRequestContext, status: HTTPResponse.Status = .ok
        ) async throws -> Response {
            guard let registry else { throw APIError.notFound("the registry API is not enabled") }
            let record = try await registry.perform(
                operation, principal: context.principal ?? "", requestID: context.requestID)
            var response = try Responses.json(record)
            response.status = status
            return response
        }
        @Sendable func decode<T: Decodable>(_ type: T.Type, _ request: Request, limit: Int) async throws -> T {
            let body = try await request.body.collect(upTo: limit)
            do {
                return try JSONDecoder().decode(type, from: Data(body.readableBytesView))
            } catch {
                throw APIError.badRequest("malformed JSON body")
            }
        }
        /// An optional JSON body: empty means the defaults.
        @Sendable func decodeOptional<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T? {
            let body = try await request.body.collect(upTo: maxBody)
            guard body.readableBytes > 0 else { return nil }
            do {
                return try JSONDecoder().decode(type, from: Data(body.readableBytesView))
            } catch {
                throw APIError.badRequest("malformed JSON body")
            }
        }

        routes.on(.verifyModel) { _, context in
            try await run(
                .verifyModel(
                    name: try context.parameters.require("model"), version: try context.parameters.require("version")),
                context)
        }
        routes.on(.showDatasetVersion) { _, context in
            try await run(
                .showDatasetVersion(
                    name: try context.parameters.require("dataset"),
                    version: try context.parameters.require("version")), context)
        }
        routes.on(.listKeys) { _, context in try await run(.listKeys, context) }
        routes.on(.listKeyFiles) { _, context in
            guard let version = Int(try context.parameters.require("version")), version > 0 else {
                throw APIError.badRequest("the key version must be a positive number")
            }
            return try await run(.listKeyFiles(version: version), context)
        }
        routes.on(.removeAlias) { _, context in
            try await run(
                .removeAlias(
                    model: try context.parameters.require("model"), alias: try context.parameters.require("alias")),
                context)
        }
        // Rotation re-wraps (or re-encrypts) every file: it gets the transfer routes' longer time.
        routes.on(.rotateKeys, timeout: state.configuration.requestTimeout + state.configuration.bodyReadTimeout) {
            request, context in
            let rotate = try await decodeOptional(RotateKeysRequest.self, request) ?? RotateKeysRequest()
            // The passphrase never travels (not even over TLS): the server rotates with the one it holds.
            guard rotate.passphrase == nil else { throw APIError.badRequest(RotateKeysRequest.passphraseRefused) }
            // A re-encrypting rotation must re-seal the key files under a new passphrase (review 5, trust F1/F2).
            guard rotate.reencrypt != true else { throw APIError.badRequest(RotateKeysRequest.reencryptRefused) }
            return try await run(.rotateKeys(rotate), context)
        }
        routes.on(.listPrincipals) { _, context in try await run(.listPrincipals, context) }
        routes.on(.addPrincipal) { request, context in
            try await run(
                .addPrincipal(try await decode(AddPrincipalRequest.self, request, limit: maxBody)), context,
                status: .created)
        }
        routes.on(.removePrincipal) { _, context in
            try await run(.removePrincipal(try context.parameters.require("principal")), context)
        }
        routes.on(.grantRole) { _, context in
            try await run(
                .grantRole(
                    principal: try context.parameters.require("principal"),
                    binding: try context.parameters.require("binding")), context)
        }
        routes.on(.revokeRole) { _, context in
            try await run(
                .revokeRole(
                    principal: try context.parameters.require("principal"),
                    binding: try context.parameters.require("binding")), context)
        }
        routes.on(.listTokens) { _, context in try await run(.listTokens, context) }
        routes.on(.whoami) { request, context in
            try await run(
                .whoami(presentedToken: GatewayMiddleware.bearerToken(request.headers[.authorization])), context)
        }
        routes.on(.createOwnToken) { request, context in
            let create = try await decodeOptional(CreateTokenRequest.self, request)
            let presented = GatewayMiddleware.bearerToken(request.headers[.authorization]) ?? ""
            return try await run(
                .createToken(principal: nil, expiresIn: create?.expiresIn, presentedToken: presented), context,
                status: .created)
        }
        routes.on(.createToken) { request, context in
            let create = try await decodeOptional(CreateTokenRequest.self, request)
            let presented = GatewayMiddleware.bearerToken(request.headers[.authorization]) ?? ""
            return try await run(
                .createToken(
                    principal: try context.parameters.require("principal"), expiresIn: create?.expiresIn,
                    presentedToken: presented), context, status: .created)
        }
        routes.on(.revokeToken) { _, context in
            try await run(.revokeToken(id: try context.parameters.require("token")), context)
        }
        // The longest a follower's poll waits for new entries: well inside the request timeout.
        let longestWait = max(0, Int(state.configuration.requestTimeout.components.seconds) - 5)
        routes.on(.auditTail) { request, context in
            let query = request.uri.queryParameters
            let text = query.get("count") ?? "10"
            guard let count = Int(text), (1...10_000).contains(count) else {
                throw APIError.badRequest("count must be a number from 1 to 10000")
            }
            guard let from = query.get("from") else {
                guard query.get("wait") == nil else { throw APIError.badRequest("wait needs from") }
                return try await run(.auditTail(count: count), context)
            }
            guard let start = UInt64(from), let wait = Int(query.get("wait") ?? "0"), (0...60).contains(wait) else {
                throw APIError.badRequest("from must be an entry index and wait a number of seconds from 0 to 60")
            }
            return try await run(
                .auditTailFrom(start: start, count: count, waitSeconds: min(wait, longestWait)), context)
        }
        routes.on(.auditVerify) { _, context in try await run(.auditVerify, context) }
        routes.on(.auditCheckpoint) { request, context in
            let texts = request.uri.queryParameters.getAll("trusted")
            let sizes = texts.compactMap { UInt64($0) }
            guard sizes.count == texts.count, sizes.count <= 16 else {
                throw APIError.badRequest("trusted must be up to 16 tree sizes")
            }
            return try await run(.auditCheckpoint(trustedSizes: sizes), context)
        }
        routes.on(.auditProof) { _, context in
            guard let index = UInt64(try context.parameters.require("index")) else {
                throw APIError.badRequest("the entry index must be a number")
            }
            return try await run(.auditProof(index: index), context)
        }
        // ML jobs: bounded per principal, given the transfer routes' longer time, cancelled when the client's
        // connection closes; the backend runs the computation off the cooperative pool, stops it at its next
        // check once cancelled, and does not push a trained model then.
        let jobTimeout = state.configuration.requestTimeout + state.configuration.bodyReadTimeout
        routes.on(.train, timeout: jobTimeout) { request, context in
            let body = try await request.body.collect(upTo: maxBody)
            let dataset = try context.parameters.require("dataset")
            return try await jobs.run(for: context.principal ?? "") {
                try await ClientDisconnect.cancelling(on: context.channel) {
                    try await run(
                        .train(dataset: dataset, body: Data(body.readableBytesView)), context, status: .created)
                }
            }
        }
        routes.on(.evaluate, timeout: jobTimeout) { request, context in
            let evaluate = try await decode(EvaluateRequest.self, request, limit: maxBody)
            let model = try context.parameters.require("model")
            let version = try context.parameters.require("version")
            return try await jobs.run(for: context.principal ?? "") {
                try await ClientDisconnect.cancelling(on: context.channel) {
                    try await run(.evaluate(model: model, version: version, evaluate), context)
                }
            }
        }
        routes.on(.predict, timeout: jobTimeout) { request, context in
            let predict = try await decode(PredictRequest.self, request, limit: maxBody)
            let model = try context.parameters.require("model")
            let version = try context.parameters.require("version")
            return try await jobs.run(for: context.principal ?? "") {
                try await ClientDisconnect.cancelling(on: context.channel) {
                    try await run(.predict(model: model, version: version, predict), context)
                }
            }
        }
        routes.on(.appendAudit) { request, context in
            let entry = try await decode(AppendAuditRequest.self, request, limit: AppendAuditRequest.maxBodyBytes)
            try entry.validate()
            return try await run(.appendAudit(entry), context, status: .created)
        }
        routes.on(.appendAuditBatch) { request, context in
            let batch = try await decode(
                AppendAuditBatchRequest.self, request, limit: AppendAuditBatchRequest.maxBodyBytes)
            try batch.validate()
            return try await run(.appendAuditBatch(batch), context, status: .created)
        }
    }
}
