import Foundation
import Testing

@testable import VaultServer

#if canImport(Glibc)
import Glibc
#endif

/// Slow and silent clients (issue #15, defect 8): a connection that sends nothing, trickles its headers or its
/// body is cut off, and connections beyond the cap are not accepted until one closes.
@Suite(.serialized) struct ModelServerConnectionLimitsTests {
    /// A connection that never sends a byte (no TLS ClientHello) is closed after the header-read timeout.
    @Test func silentTLSConnectionIsClosed() async throws {
        try await withLiveServer(configure: { $0.headerReadTimeout = .seconds(1) }) { live in
            let socket = try RawSocket(port: live.port)
            defer { socket.close() }
            #expect(await socket.waitForClose(seconds: 4), "a silent TLS connection stayed open")
        }
    }

    /// Headers trickled one byte at a time never complete a request head in time: the connection is closed.
    @Test func trickledHeadersAreCutOff() async throws {
        try await withLiveServer(configure: {
            $0.transport = .insecureHTTP
            $0.headerReadTimeout = .seconds(1)
        }) { live in
            let socket = try RawSocket(port: live.port)
            defer { socket.close() }
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
            #expect(closed, "trickled headers held the connection for \(Date().timeIntervalSince(start)) s")
            #expect(Date().timeIntervalSince(start) < 10)
        }
    }

    /// A body trickled one byte at a time is cut off after the body-read timeout.
    @Test func trickledBodyIsCutOff() async throws {
        try await withLiveServer(configure: {
            $0.transport = .insecureHTTP
            $0.bodyReadTimeout = .seconds(1)
            $0.idleTimeout = .seconds(30)
            $0.requestTimeout = .seconds(30)
        }) { live in
            let socket = try RawSocket(port: live.port)
            defer { socket.close() }
            let head =
                "POST /v2/models/iris/infer HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer engineer-token-0123456789\r\n"
                + "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
            #expect(socket.send(Array(head.utf8)))
            var closed = false
            let start = Date()
            for _ in 0..<40 {
                let sent = socket.send([0x20])
                let gone = await socket.waitForClose(seconds: 0.2)
                if !sent || gone {
                    closed = true
                    break
                }
            }
            #expect(closed, "a trickled body held the connection for \(Date().timeIntervalSince(start)) s")
            #expect(Date().timeIntervalSince(start) < 10)
        }
    }

    /// Beyond `maxConnections`, a further connection is not served until one of the others closes.
    @Test func connectionsBeyondTheCapWait() async throws {
        try await withLiveServer(configure: {
            $0.transport = .insecureHTTP
            $0.maxConnections = 2
            $0.headerReadTimeout = .seconds(30)
        }) { live in
            let idle = [try RawSocket(port: live.port), try RawSocket(port: live.port)]
            try await Task.sleep(for: .milliseconds(300))
            let third = try RawSocket(port: live.port)
            defer { third.close() }
            #expect(third.send(Array("GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n".utf8)))
            #expect(await third.receive(seconds: 1.5).isEmpty, "a third connection was served over a cap of 2")
            idle[0].close()
            let answer = String(decoding: await third.receive(seconds: 5), as: UTF8.self)
            #expect(answer.hasPrefix("HTTP/1.1 200"), "the waiting connection was not served once one closed")
            idle[1].close()
        }
    }
}

/// A blocking loopback TCP socket: enough to play a slow or silent client.
final class RawSocket: Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            Glibc.close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    /// Sends every byte; false if the peer has closed.
    func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// `receive(blocking:)` off the cooperative pool (the server under test needs its threads).
    func receive(seconds: Double) async -> [UInt8] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: self.receive(blocking: seconds)) }
        }
    }

    /// `waitForClose(blocking:)` off the cooperative pool.
    func waitForClose(seconds: Double) async -> Bool {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: self.waitForClose(blocking: seconds)) }
        }
    }

    /// Waits up to `seconds` for data or a close; returns whatever arrived (empty on timeout or close).
    func receive(blocking seconds: Double) -> [UInt8] {
        var received: [UInt8] = []
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
            guard poll(&poller, 1, left) > 0 else { break }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received += buffer[0..<count]
            if received.count > 16 { break }
        }
        return received
    }

    /// Whether the peer closes (or resets) the connection within `seconds`; data that arrives is discarded.
    func waitForClose(blocking seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
            guard poll(&poller, 1, left) > 0 else { return false }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return true }
        }
        return false
    }

    func close() { Glibc.close(fd) }
}
