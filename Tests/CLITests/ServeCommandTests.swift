import Foundation
import TestSupport
import Testing

/// `modelvault serve` as a process: refuses unsafe configurations, starts on TLS, stops on SIGTERM.
@Suite struct ServeCommandTests {
    @Test func plainHTTPIsRefusedOffLoopbackAndTransportsAreExclusive() throws {
        try ModelVaultBinary.requireBuilt()
        let work = try TemporaryDirectory()
        let offLoopback = try ModelVaultBinary.run(["serve", "--insecure-http", "--host", "0.0.0.0"], in: work.url)
        #expect(offLoopback.status != 0)
        #expect(offLoopback.stderr.contains("loopback"))
        let both = try ModelVaultBinary.run(["serve", "--insecure-http", "--self-signed"], in: work.url)
        #expect(both.status == 2)
        let neither = try ModelVaultBinary.run(["serve"], in: work.url)
        #expect(neither.status == 2)
    }

    @Test(.timeLimit(.minutes(5))) func servesOverTLSAndShutsDownGracefullyOnSIGTERM() async throws {
        try ModelVaultBinary.requireBuilt()
        let work = try TemporaryDirectory()
        let env = try CLI.makeVault(in: work.url)
        let server = try BackgroundProcess(
            ["serve", "--self-signed", "--port", "0", "--cert-out", "server.pem"], in: work.url,
            environment: ModelVaultBinary.environment(adding: env))
        let listening = try await server.listeningURL()
        let text = server.output
        #expect(listening?.hasPrefix("https://127.0.0.1:") == true, "\(text)")
        #expect(text.contains("certificate SHA-256 fingerprint: "))
        let pem = (try? String(contentsOf: work.url.appending(path: "server.pem"), encoding: .utf8)) ?? ""
        #expect(pem.contains("BEGIN CERTIFICATE"))
        let status = try await server.stop()  // SIGTERM
        #expect(status == 0)
    }
}
