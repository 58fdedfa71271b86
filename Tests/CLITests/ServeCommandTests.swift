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
        let process = Process()
        process.executableURL = ModelVaultBinary.url
        process.arguments = ["serve", "--self-signed", "--port", "0", "--cert-out", "server.pem"]
        process.currentDirectoryURL = work.url
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in env { environment[key] = value }
        process.environment = environment
        let out = work.url.appending(path: "serve.out")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        let handle = try FileHandle(forWritingTo: out)
        process.standardOutput = handle
        process.standardError = FileHandle.nullDevice
        try process.run()
        var listening: String?
        for _ in 0..<300 where listening == nil {
            try await Task.sleep(for: .milliseconds(100))
            let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
            listening = text.split(separator: "\n").first { $0.hasPrefix("listening on https://127.0.0.1:") }
                .map(String.init)
        }
        let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        #expect(listening != nil, "\(text)")
        #expect(text.contains("certificate SHA-256 fingerprint: "))
        let pem = (try? String(contentsOf: work.url.appending(path: "server.pem"), encoding: .utf8)) ?? ""
        #expect(pem.contains("BEGIN CERTIFICATE"))
        process.terminate()  // SIGTERM
        for _ in 0..<300 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 0)
        try handle.close()
    }
}
