import Foundation
import Testing

@testable import VaultServer

/// Review 3: the header-read timeout (`serve --header-timeout`, default 10 s) is armed only for a connection's first
/// request head (`ReadTimeoutHandler.sawFirstHead`). After one quick request on a kept-alive connection, the next
/// request's headers may be trickled for as long as the idle timeout (default 60 s, 6x longer), so a client without a
/// token holds each of the `--max-connections` slots six times longer per request it pays for.
@Suite(.serialized) struct ModelServerKeepAliveSlowlorisTests {
    @Test func trickledHeadersOfASecondRequestOnAKeptAliveConnectionAreNotCutOff() async throws {
        try await withLiveServer(configure: {
            $0.transport = .insecureHTTP
            $0.headerReadTimeout = .seconds(1)
            $0.idleTimeout = .seconds(30)
        }) { live in
            let socket = try RawSocket(port: live.port)
            defer { socket.close() }
            #expect(socket.send(Array("GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n".utf8)))
            let first = String(decoding: await socket.receive(seconds: 5), as: UTF8.self)
            try #require(first.hasPrefix("HTTP/1.1 200"), "\(first)")

            let request = Array(
                "GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-Slow: \(String(repeating: "a", count: 40))".utf8)
            var closed = false
            let start = Date()
            for byte in request {
                let sent = socket.send([byte])
                let gone = await socket.waitForClose(seconds: 0.2)
                if !sent || gone {
                    closed = true
                    break
                }
            }
            let held = Date().timeIntervalSince(start)
            #expect(
                closed, "the second request's trickled headers held the connection for \(held) s (header timeout 1 s)")
        }
    }
}
