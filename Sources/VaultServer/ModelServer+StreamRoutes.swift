import Foundation
import Hummingbird
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A private (`0700`) directory for one streamed transfer, removed when the request is done.
struct StagingDirectory: Sendable {
    let url: URL

    /// Creates a fresh directory under `base` (the system temporary directory when `nil`).
    static func make(in base: URL?) throws -> StagingDirectory {
        let base = base ?? FileManager.default.temporaryDirectory
        let url = base.appending(path: StaleStaging.name(prefix))
        guard mkdir(url.path(percentEncoded: false), 0o700) == 0 else { throw APIError.internalError }
        return StagingDirectory(url: url)
    }

    /// The name prefix of transfer staging directories.
    static let prefix = "modelvault-stream-"

    /// Removes what a killed server left under `base` (the system temporary directory when `nil`): transfer
    /// staging and the registry's pull staging of processes that no longer run.
    static func sweepStale(in base: URL?) {
        let temporary = FileManager.default.temporaryDirectory
        StaleStaging.sweep(base ?? temporary, prefix: prefix)
        StaleStaging.sweep(temporary, prefix: StaleStaging.registryPullPrefix)
    }

    /// Where the transfer's files go (created by the receiver or by the vault).
    var files: URL { url.appending(path: "files") }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}

/// A flag one task raises and others read (shared by reference with the tasks of one request).
final class FailureFlag: Sendable {
    private let raised = Atomic(false)

    func raise() { raised.store(true, ordering: .releasing) }
    var isRaised: Bool { raised.load(ordering: .acquiring) }
}

extension ModelServer {
    /// Registers the streamed upload and download routes (`FileStream` bodies): model push and pull, dataset add
    /// and get, remote deploy's bundle, each authorised by the gateway and run in a vault session for the caller by the backend.
    static func addStreamRoutes(to routes: TimedRoutes, registry: (any RegistryBackend)?, state: GatewayState) {
        let configuration = state.configuration
        // A transfer may take the body read time on top of the request's own.
        let timeout = configuration.requestTimeout + configuration.bodyReadTimeout
        @Sendable func backend() throws -> any RegistryBackend {
            guard let registry else { throw APIError.notFound("the registry API is not enabled") }
            return registry
        }
        @Sendable func receive(_ request: Request, flat: Bool) async throws -> StagingDirectory {
            let staging = try StagingDirectory.make(in: configuration.stagingDirectory)
            do {
                guard mkdir(staging.files.path(percentEncoded: false), 0o700) == 0 else {
                    throw APIError.internalError
                }
                _ = try await FileStream.receive(
                    request.body, into: staging.files, limit: configuration.maxStreamBytes, flat: flat)
                return staging
            } catch {
                staging.remove()
                throw error
            }
        }
        @Sendable func send(_ fill: (URL) async throws -> Void) async throws -> Response {
            let staging = try StagingDirectory.make(in: configuration.stagingDirectory)
            do {
                try await fill(staging.files)
                let body = try FileStream.body(of: staging.files, cleanup: { staging.remove() })
                return Response(status: .ok, headers: [.contentType: FileStream.contentType], body: body)
            } catch {
                staging.remove()
                throw error
            }
        }
        @Sendable func created(_ value: some Encodable) throws -> Response {
            var response = try Responses.json(value)
            response.status = .created
            return response
        }

        routes.on(.uploadModel, timeout: timeout) { request, context in
            let registry = try backend()
            let query = request.uri.queryParameters
            let requested = {
                var options = UploadedPushOptions()
                options.alias = query.get("alias")
                options.datasets = query.getAll("dataset")
                options.accept = query.getAll("accept")
                options.scanPolicy = query.get("scanPolicy")
                return options
            }()
            let model = try context.parameters.require("model")
            let principal = context.principal ?? ""
            let staging = try StagingDirectory.make(in: configuration.stagingDirectory)
            defer { staging.remove() }
            guard mkdir(staging.files.path(percentEncoded: false), 0o700) == 0 else { throw APIError.internalError }
            let files = staging.files
            // The `.modelvault/` metadata files come first; the push starts at the first model file and takes each
            // one as soon as it is whole (scanned, then encrypted) while the next arrives.
            let (metadata, metadataArrivals) = AsyncThrowingStream.makeStream(of: String.self)
            let (paths, arrivals) = AsyncThrowingStream.makeStream(of: String.self)
            // (model file seen, metadata after one)
            let order = Mutex((modelFile: false, lateMetadata: false))
            let route: @Sendable (String) -> Void = { path in
                guard path.hasPrefix(UploadedPushOptions.metadataPrefix) else {
                    order.withLock { $0.modelFile = true }
                    metadataArrivals.finish()
                    arrivals.yield(path)
                    return
                }
                let late = order.withLock { state in
                    state.lateMetadata = state.lateMetadata || state.modelFile
                    return state.modelFile
                }
                if !late { metadataArrivals.yield(path) }
            }
            // Once the push has failed, the rest of the upload is read (so the client gets the answer, not a reset
            // connection) but not written.
            let pushFailed = FailureFlag()
            return try await withThrowingTaskGroup(of: RegistryModelVersion.self) { group in
                group.addTask {
                    do {
                        var names: [String] = []
                        for try await name in metadata { names.append(name) }
                        var options = requested
                        try options.read(metadata: names, below: files)
                        return try await registry.pushModelVersion(
                            named: model, fromDirectory: files, arriving: paths, options: options,
                            principal: principal)
                    } catch {
                        pushFailed.raise()
                        throw error
                    }
                }
                do {
                    _ = try await FileStream.receive(
                        request.body, into: files, limit: configuration.maxStreamBytes, flat: false, arrived: route,
                        discarding: { pushFailed.isRaised })
                    if order.withLock({ $0.lateMetadata }) {
                        throw FileStream.malformed("metadata files must come before the model files")
                    }
                    metadataArrivals.finish()
                    // The end marker (an empty path): only now may the push commit.
                    arrivals.yield("")
                    arrivals.finish()
                } catch {
                    // The push stops at the failed upload; its own error (if it failed first) is the lesser news.
                    metadataArrivals.finish(throwing: error)
                    arrivals.finish(throwing: error)
                    _ = try? await group.next()
                    throw error
                }
                guard let version = try await group.next() else { throw APIError.internalError }
                return try created(version)
            }
        }
        routes.on(.downloadModel, timeout: timeout) { request, context in
            let registry = try backend()
            guard let recipient = request.uri.queryParameters.get("recipient"), !recipient.isEmpty else {
                throw APIError.badRequest("the recipient query parameter is required")
            }
            // A client that decrypts the files itself (`model pull` without `--to`) says so, and then needs
            // `model.pull` as locally: `model.pull-rewrapped` alone never gives its holder the plaintext.
            let decryptedByCaller: Bool
            switch request.uri.queryParameters.get("decryptedByCaller") {
            case nil, "false": decryptedByCaller = false
            case "true": decryptedByCaller = true
            default: throw APIError.badRequest("decryptedByCaller must be true or false")
            }
            let model = try context.parameters.require("model")
            let version = try context.parameters.require("version")
            // Re-wrapped while it streams where the backend can (no temporary copy), else staged first.
            if let download = try await registry.streamModelVersion(
                named: model, version: version, recipient: recipient, decryptedByCaller: decryptedByCaller,
                principal: context.principal ?? "")
            {
                return Response(
                    status: .ok, headers: [.contentType: FileStream.contentType],
                    body: FileStream.body(streaming: download))
            }
            return try await send { directory in
                try await registry.pullModelVersion(
                    named: model, version: version, recipient: recipient, decryptedByCaller: decryptedByCaller,
                    into: directory, principal: context.principal ?? "")
            }
        }
        // `deploy` in remote mode: the vault verifies the version, records the deployment and writes the signed
        // bundle for the recipient the client sent (or the one the deployment keeps); both are streamed back.
        routes.on(.deployModel, timeout: timeout) { request, context in
            let registry = try backend()
            let body = try await request.body.collect(upTo: configuration.maxBodySize)
            let deploy: DeployModelRequest
            do {
                deploy = try JSONDecoder().decode(DeployModelRequest.self, from: Data(body.readableBytesView))
            } catch {
                throw APIError.badRequest("malformed JSON body")
            }
            let model = try context.parameters.require("model")
            return try await send { directory in
                try await registry.deployModel(
                    named: model, deploy, into: directory, principal: context.principal ?? "")
            }
        }
        routes.on(.uploadDataset, timeout: timeout) { request, context in
            let registry = try backend()
            let description = request.uri.queryParameters.get("description")
            let processed: Bool
            switch request.uri.queryParameters.get("processed") {
            case nil, "false": processed = false
            case "true": processed = true
            default: throw APIError.badRequest("processed must be true or false")
            }
            let staging = try await receive(request, flat: true)
            defer { staging.remove() }
            return try created(
                try await registry.addDatasetVersion(
                    named: try context.parameters.require("dataset"), fromDirectory: staging.files,
                    description: description, processed: processed, principal: context.principal ?? ""))
        }
        routes.on(.downloadDataset, timeout: timeout) { _, context in
            let registry = try backend()
            let dataset = try context.parameters.require("dataset")
            let version = try context.parameters.require("version")
            return try await send { directory in
                try await registry.getDatasetVersion(
                    named: dataset, version: version, into: directory, principal: context.principal ?? "")
            }
        }
    }
}
