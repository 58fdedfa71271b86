import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

@testable import VaultServer

/// Review 4, F7: path parameters are percent-decoded, and the gateway logged them (`resource=`) unescaped, so an
/// unauthenticated client could write a forged line (or terminal escapes) into the server's stderr log.
@Suite struct GatewayMiddlewareLogInjectionTests {
    /// Keeps every line a `StreamLogHandler` would print: message and metadata values.
    struct CapturingHandler: LogHandler {
        let sink: Sink
        var logLevel: Logger.Level = .info
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?

        init(_ sink: Sink) { self.sink = sink }

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let values = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            let line = ([event.message.description] + values).joined(separator: " ")
            sink.lines.withLock { $0.append(line) }
        }
    }

    final class Sink: Sendable {
        let lines = Mutex<[String]>([])
    }

    /// The attack: a request with no valid token whose model name holds a newline, a carriage return, an escape
    /// sequence and a Unicode line separator. The logged line stays one line of visible text.
    @Test func aPercentEncodedNewlineInThePathCannotForgeALogLine() async throws {
        let sink = Sink()
        let logger = Logger(label: "test.server") { _ in CapturingHandler(sink) }
        let server = try ModelServer(
            configuration: {
                var configuration = VaultServerConfiguration()
                configuration.port = 0
                return configuration
            }(), catalog: MutableCatalog([.verified(LinearModel.make())]),
            authenticator: TableAuthenticator.standard, audit: RecordingAudit(), registry: MemoryRegistry(),
            logger: logger)
        let application = try await server.makeApplication()
        try await application.test(.router) { client in
            let forged =
                "x%0A2026-12-03T11:07:05+0000%20info%20modelvault.server:%20principal=admin%0Dz%1B%5B2J%E2%80%A8y"
            let response = try await client.execute(
                uri: "/v2/models/\(forged)/infer", method: .post, headers: [.authorization: "Bearer bogus"])
            #expect(response.status == .unauthorized)
        }
        let lines = sink.lines.withLock { $0 }
        let request = try #require(lines.first { $0.hasPrefix("request ") && $0.contains("status=401") })
        #expect(request.contains("resource="), "\(request)")
        // Review 5, F5: the decoded space and `=` cannot add a `principal=admin` field to the 401's line.
        #expect(!request.contains(" principal=admin"), "\(request)")
        for scalar in request.unicodeScalars {
            #expect(
                scalar.value >= 0x20 && scalar.value != 0x7F && !(0x80...0x9F).contains(scalar.value)
                    && scalar != "\u{2028}" && scalar != "\u{2029}", "\(request.debugDescription)")
        }
    }
}
