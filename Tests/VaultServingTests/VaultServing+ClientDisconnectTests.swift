import AsyncHTTPClient
import Foundation
import NIOCore
import SampleData
import Testing
import Vault
import VaultServer
import VaultServing

/// #14, end to end over TLS with the vault backend: real training (an MLP for 100,000 epochs without early stopping: many minutes) stops
/// when its client gives up. The data scientist's one job slot (`maxJobsPerPrincipal = 1`) shows the job running
/// (another job is refused with 429) and then ending soon after the client leaves; no model is pushed.
@Suite struct VaultServingClientDisconnectTests {
    static let longTraining =
        #"{"model":"long","label":"benign","options":{"kind":"mlp","hidden":[64],"epochs":100000,"validationFraction":0}}"#

    @Test(.timeLimit(.minutes(2))) func trainingStopsWhenItsClientGoesAway() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let csv = try Data(contentsOf: SampleData.breastCancerCSV)
        _ = try await fixture.adminSession().addDataset("cancer", contents: ["rows.csv": csv])
        let scientist = try #require(fixture.tokens[.dataScientist])
        try await withVaultServer(fixture, configure: { $0.maxJobsPerPrincipal = 1 }) { live in
            let url = live.base + "/v1/datasets/cancer/train"
            let client = live.client
            // Retried while a probe below holds the slot for a moment: the probes share the principal's one slot.
            let training = Task {
                while true {
                    var request = HTTPClientRequest(url: url)
                    request.method = .POST
                    request.headers.add(name: "Authorization", value: "Bearer \(scientist)")
                    request.body = .bytes(ByteBuffer(string: Self.longTraining))
                    let response = try await client.execute(request, timeout: .seconds(300))
                    let body = try await response.body.collect(upTo: 1 << 20)
                    if response.status.code != 429 { return "\(response.status.code) \(String(buffer: body))" }
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            @Sendable func slotTaken() async throws -> Bool {
                let probe = try await live.send(
                    .POST, "/v1/models/none/versions/1/evaluate", token: scientist, body: #"{"dataset":"cancer"}"#)
                return probe.status == 429
            }
            guard try await eventually(seconds: 20, { try await slotTaken() }) else {
                training.cancel()
                Issue.record("the training job never started")
                return
            }
            // Training for a while yet: the job still holds the slot a second later.
            try await Task.sleep(for: .seconds(1))
            #expect(try await slotTaken())
            training.cancel()
            #expect(
                try await eventually(seconds: 10) { try await !slotTaken() },
                "the training job still ran 10 s after its client left")
        }
        await #expect(throws: (any Error).self) {
            try await fixture.adminSession().model(ModelReference(parsing: "long@1"))
        }
    }
}
