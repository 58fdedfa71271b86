import Foundation
import NIOHTTP1
import Testing

@testable import VaultServer

/// A registry whose ML jobs wait until released, to hold jobs open.
actor BlockingJobs: RegistryBackend {
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private(set) var started = 0

    func release() {
        for continuation in waiting { continuation.resume() }
        waiting.removeAll()
    }

    func perform(_ operation: RemoteOperation, principal: String, requestID: String) async throws -> RegistryRecord {
        started += 1
        await withCheckedContinuation { waiting.append($0) }
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

/// The per-principal limit on server-side ML jobs (#14): a principal at its limit gets 429 with a clear body
/// while another principal still runs its jobs.
@Suite struct ModelServerJobLimitTests {
    @Test func aPrincipalOverItsJobLimitGets429WhileOthersRun() async throws {
        let jobs = BlockingJobs()
        let authenticator = TableAuthenticator(grants: [
            "alice-token-0123456789": ("alice", [.predict, .evaluate, .train]),
            "bob-token-0123456789": ("bob", [.predict]),
        ])
        try await withServer(
            configure: { $0.maxJobsPerPrincipal = 1 }, authenticator: authenticator, registry: jobs
        ) { server in
            let body = Array(#"{"csv":"x\n1\n"}"#.utf8)
            let path = "/v1/models/m/versions/1/predict"
            try await withThrowingTaskGroup(of: Int.self) { group in
                group.addTask {
                    try await server.send(.POST, path, token: "alice-token-0123456789", body: body).status
                }
                // Wait until alice's first job holds her slot.
                while await jobs.started < 1 { try await Task.sleep(for: .milliseconds(10)) }
                let refused = try await server.send(
                    .POST, "/v1/models/m/versions/1/evaluate", token: "alice-token-0123456789",
                    body: Array(#"{"dataset":"d"}"#.utf8))
                #expect(refused.status == 429)
                #expect(
                    String(decoding: refused.body, as: UTF8.self)
                        == #"{"error":"too many concurrent jobs for this principal"}"#)
                #expect(refused.headers["Retry-After"].first == "1")
                group.addTask {
                    try await server.send(.POST, path, token: "bob-token-0123456789", body: body).status
                }
                while await jobs.started < 2 { try await Task.sleep(for: .milliseconds(10)) }
                await jobs.release()
                var statuses: [Int] = []
                for try await status in group { statuses.append(status) }
                #expect(statuses == [200, 200])
            }
            // The slot is free again.
            let again = Task { try await server.send(.POST, path, token: "alice-token-0123456789", body: body) }
            while await jobs.started < 3 { try await Task.sleep(for: .milliseconds(10)) }
            await jobs.release()
            #expect(try await again.value.status == 200)
        }
    }
}
