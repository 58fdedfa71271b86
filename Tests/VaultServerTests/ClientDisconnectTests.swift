import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

@testable import VaultServer

/// A registry whose training job runs until it is cancelled (at most 20 s) and counts what happened; its other
/// jobs answer at once.
actor CancellableJobs: RegistryBackend {
    private(set) var started = 0
    private(set) var cancelled = 0
    private(set) var finished = 0

    func perform(_ operation: RemoteOperation, principal: String, requestID: String) async throws -> RegistryRecord {
        guard case .train = operation else {
            finished += 1
            return PredictRequest(csv: "label\nA\n")
        }
        started += 1
        do {
            try await Task.sleep(for: .seconds(20))
        } catch {
            cancelled += 1
            throw error
        }
        finished += 1
        return PredictRequest(csv: "label\nA\n")
    }

    func listModels(principal: String) async throws -> [RegistryModelSummary] { [] }
    func showModel(named name: String) async throws -> RegistryModelDetail { throw RegistryError.notFound }
    func listDatasets(principal: String) async throws -> [RegistryDataset] { [] }
    func showDataset(named name: String) async throws -> RegistryDataset { throw RegistryError.notFound }
    func pushModelVersion(
        named name: String, _ request: PushModelRequest, principal: String
    ) async throws -> RegistryModelVersion { throw RegistryError.notFound }
    func pullModelVersion(
        named name: String, version: String, recipient: String, principal: String
    ) async throws -> PulledModel { throw RegistryError.notFound }
    func moveAlias(_ alias: String, ofModel name: String, to version: String, principal: String) async throws {}
    func exportAudit(csv: Bool, since: Date?) async throws -> Data { Data() }
    func complianceReport(format: ReportFormat) async throws -> Data { Data() }
}

/// #14: a server-side ML job stops when its client goes away. Over a real TLS connection, a client starts a long
/// `train` job and gives up (its request task is cancelled, so AsyncHTTPClient closes the connection); the job's
/// task is cancelled within seconds, which stops real training at its next mini-batch
/// (`TrainerCancellationTests`). Before, the job ran to its end: Hummingbird allows remote half-closure, so the
/// client's close raised only an `inputClosed` event and nothing cancelled the handler.
@Suite struct ClientDisconnectTests {
    static let token = "alice-token-0123456789"
    static let authenticator = TableAuthenticator(grants: [token: ("alice", [.predict, .train])])

    @Test(.timeLimit(.minutes(1))) func aTrainingJobIsCancelledWhenItsClientCloses() async throws {
        let jobs = CancellableJobs()
        try await withLiveServer(authenticator: Self.authenticator, registry: jobs) { server in
            let client = server.client
            let url = server.baseURL + "/v1/datasets/d/train"
            let request = Task {
                var request = HTTPClientRequest(url: url)
                request.method = .POST
                request.headers.add(name: "Authorization", value: "Bearer \(Self.token)")
                request.body = .bytes(ByteBuffer(string: "{}"))
                _ = try await client.execute(request, timeout: .seconds(60))
            }
            while await jobs.started < 1 { try await Task.sleep(for: .milliseconds(10)) }
            let gaveUp = ContinuousClock.now
            request.cancel()
            while await jobs.cancelled < 1, ContinuousClock.now - gaveUp < .seconds(10) {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(await jobs.cancelled == 1, "the job was not cancelled within 10 s of its client leaving")
            // The server serves the next client as before.
            let next = try await server.send(
                .POST, "/v1/models/m/versions/1/predict", token: Self.token, body: Array(#"{"csv":"x\n1\n"}"#.utf8))
            #expect(next.status == 200)
        }
    }

    /// A client that stays gets its answers, several on one kept-alive connection: finishing a job must not leave
    /// a cancellation armed for the next.
    @Test func jobsOnAKeptAliveConnectionAreNotCancelled() async throws {
        let jobs = CancellableJobs()
        try await withLiveServer(authenticator: Self.authenticator, registry: jobs) { server in
            for _ in 0..<3 {
                let answer = try await server.send(
                    .POST, "/v1/models/m/versions/1/predict", token: Self.token,
                    body: Array(#"{"csv":"x\n1\n"}"#.utf8))
                #expect(answer.status == 200)
            }
            #expect(await jobs.finished == 3)
            #expect(await jobs.cancelled == 0)
        }
    }
}
