import Foundation
import Testing

@testable import VaultClient

/// HTTP answers map to the kinds the CLI turns into its exit codes, with the server's text made safe to print.
@Suite struct VaultClientErrorTests {
    @Test func statusesMapToTheCLIsKinds() {
        let expected: [(Int, String, VaultClientError.Kind)] = [
            (401, "missing or invalid bearer token", .denied), (403, "permission denied", .denied),
            (404, "not found", .notFound), (400, "invalid request", .invalidInput),
            (409, "conflicts with the registry's state", .invalidInput), (413, "request body too large", .invalidInput),
            (422, "refused by the model scanner: model.pkl#pickle.global", .findings),
            (422, "unprocessable", .invalidInput), (429, "rate limit exceeded", .failure),
            (500, "internal server error", .failure), (503, "too many concurrent inferences", .failure),
        ]
        for (status, text, kind) in expected {
            let body = try! JSONSerialization.data(withJSONObject: ["error": text])
            let error = VaultClientError.answer(status: status, body: body)
            #expect(error.kind == kind, "HTTP \(status)")
            #expect(error.httpStatus == status)
            #expect(error.description == "server: \(text) (HTTP \(status))")
        }
    }

    @Test func aHostileErrorTextCannotWriteControlSequencesOrFloodTheTerminal() {
        let hostile = "\u{1b}]0;owned\u{07}\u{1b}[2J" + String(repeating: "x", count: 10_000) + "\n"
        let body = try! JSONSerialization.data(withJSONObject: ["error": hostile])
        let error = VaultClientError.answer(status: 400, body: body)
        #expect(!error.message.unicodeScalars.contains { $0.properties.generalCategory == .control })
        #expect(error.message.count <= 300)
        let notJSON = VaultClientError.answer(status: 502, body: Data("<html>bad gateway</html>".utf8))
        #expect(notJSON.message == "HTTP error")
        #expect(notJSON.kind == .failure)
    }
}
