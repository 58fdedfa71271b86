import Foundation
import Testing

@testable import VaultServer

/// Defect 6 of issue #15: inputs of 3e38 in every feature got HTTP 200 with `null` probabilities and a class.
/// An output that is not finite is a 400 naming the cause, never a class.
@Suite struct ModelServerNonFiniteTests {
    @Test func hugeFiniteInputsThatOverflowAreA400() async throws {
        try await withServer { live in
            let body = #"{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[3e38,3e38,3e38,3e38]}]}"#
            let response = try await live.send(
                .POST, "/v2/models/iris/infer", token: "engineer-token-0123456789", body: Array(body.utf8))
            #expect(response.status == 400, "\(String(decoding: response.body, as: UTF8.self))")
            #expect(
                try live.json(response.body)["error"] as? String == "the model's output is not finite for this input")
        }
    }
}
