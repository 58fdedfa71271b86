import Foundation
import Testing

@testable import VaultServer

/// Review 5, F7: after SIGTERM, requests in flight get a bounded drain (`shutdownDrainTimeout`, 5 s by default,
/// well under Kubernetes' 30 s grace period), then their connections are closed.
@Suite(.serialized) struct ModelServerShutdownDrainTests {
    /// The attack: a caller with a token starts an inference and trickles its body, one byte at a time, fast enough
    /// for the body-read timeout. Graceful shutdown used to wait for that request until the request timeout (30 s
    /// by default, 20 s here), so the pod outlived its grace period and was killed mid-way. The group runs as
    /// `runUntilSignalled()` runs it, with the shutdown triggered instead of signalled. Seen failing (shutdown took
    /// the request timeout) before the drain was bounded.
    @Test(.timeLimit(.minutes(2))) func aTrickledBodyDoesNotHoldShutdownPastTheDrain() async throws {
        let (server, _, _, _) = try makeTestServer(
            models: [.verified(LinearModel.make())],
            configure: {
                $0.transport = .insecureHTTP
                $0.requestTimeout = .seconds(20)
                $0.bodyReadTimeout = .seconds(60)
                $0.shutdownDrainTimeout = .seconds(2)
            }, authenticator: TableAuthenticator.standard, registry: nil)
        let group = server.serviceGroup(gracefulShutdownSignals: [])
        let running = Task { try await group.run() }
        let port = await server.boundPort()
        try #require(port != 0)
        let socket = try RawSocket(port: port)
        defer { socket.close() }
        let head =
            "POST /v2/models/iris/infer HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer engineer-token-0123456789\r\n"
            + "Content-Type: application/json\r\nContent-Length: 4096\r\n\r\n{"
        #expect(socket.send(Array(head.utf8)))
        let trickle = Task {
            while !Task.isCancelled, socket.send([UInt8(ascii: " ")]) {
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
        defer { trickle.cancel() }
        try await Task.sleep(for: .seconds(1))
        let answered = await socket.receive(seconds: 0.2)
        try #require(answered.isEmpty, "the request was answered before the shutdown: \(answered.count) bytes")
        try #require(await !socket.waitForClose(seconds: 0.3), "the connection closed before the shutdown")

        let start = ContinuousClock.now
        await group.triggerGracefulShutdown()
        let ended = await running.result
        let took = ContinuousClock.now - start
        #expect(throws: Never.self, "the server did not end cleanly after the drain") { try ended.get() }
        #expect(took < .seconds(8), "shutdown took \(took) with a trickled body in flight (drain 2 s)")
        #expect(await socket.waitForClose(seconds: 2), "the trickled request's connection is still open")
    }
}
