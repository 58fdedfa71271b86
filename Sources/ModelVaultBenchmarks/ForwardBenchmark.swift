import Foundation
import VaultClient
import VaultServer

/// `forward`: review 5, deploy F4. A serving pod's `AuditForwarder` sends entries to `modelvault serve` on loopback
/// (TLS, an audit-writer token, the server's default per-principal rate limit), one entry per request (the peer:
/// how every pod forwarded before batches) and up to 64 per request (`POST /v1/audit/batches`), in the same run.
/// The figure is entries recorded per second until the queue is empty. Knob: `MODELVAULT_BENCH_ENTRIES` (3,000).
enum ForwardBenchmark {
    typealias Failure = ServerBenchmark.Failure

    static var entries: Int { Int(ProcessInfo.processInfo.environment["MODELVAULT_BENCH_ENTRIES"] ?? "") ?? 3_000 }

    static func run() async throws {
        guard let binary = ServerBenchmark.modelvaultBinary() else {
            print("forward: SKIPPED: release modelvault binary not found; build it first with `swift build -c release`")
            return
        }
        let base = FileManager.default.temporaryDirectory.appending(path: "modelvault-forward-bench-\(UUID())")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: base) }
        var environment = ProcessInfo.processInfo.environment
        for name in ["MODELVAULT_IDENTITY_FILE", "MODELVAULT_TOKEN", "MODELVAULT_SERVER", "MODELVAULT_CA_FILE"] {
            environment[name] = nil
        }
        // A throwaway vault in the temp directory (the passphrase protects nothing outside this run).
        environment["MODELVAULT_VAULT"] = base.appending(path: "vault").path
        environment["MODELVAULT_PASSPHRASE"] = "forward-benchmark-\(UUID())"
        let adminToken = base.appending(path: "admin.token")
        try ServerBenchmark.runChecked(binary, ["init", "-o", adminToken.path], environment: environment, in: base)
        environment["MODELVAULT_TOKEN"] = try ServerBenchmark.readToken(adminToken)
        let podToken = base.appending(path: "pod.token")
        try ServerBenchmark.runChecked(
            binary, ["user", "add", "pod", "--role", "audit-writer", "--service"], environment: environment, in: base)
        try ServerBenchmark.runChecked(
            binary, ["token", "create", "pod", "--expires", "1d", "-o", podToken.path], environment: environment,
            in: base)
        environment["MODELVAULT_TOKEN"] = nil
        let certificate = base.appending(path: "server.pem")
        let server = try ServerBenchmark.BackgroundProcess(
            binary,
            [
                "serve", "--self-signed", "--host", "127.0.0.1", "--port", "0", "--log-level", "warning",
                "--cert-out", certificate.path,
            ],
            environment: environment, log: base.appending(path: "serve"))
        defer { server.stop() }
        let line = try await server.waitForOutput(containing: "listening on https://", timeout: .seconds(120))
        guard let port = line.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) })
        else { throw Failure("modelvault serve printed no port") }
        let configuration = try VaultClientConfiguration(
            server: "https://127.0.0.1:\(port)",
            trustedCertificatesPEM: try String(contentsOf: certificate, encoding: .utf8),
            token: try ServerBenchmark.readToken(podToken))

        print(
            "\(entries) entries per run; modelvault serve on loopback (TLS, default rate limits); load average \(VaultBenchmark.loadAverage())"
        )
        var rates: [String: Double] = [:]
        for (name, size) in [("one per request", 1), ("batches of 64", AuditForwarder.batchSize)] {
            let forwarder = AuditForwarder(
                capacity: entries, initialBackoff: .milliseconds(20), maximumBackoff: .seconds(1))
            for index in 0..<entries {
                await forwarder.enqueue(
                    AppendAuditRequest(
                        action: "model.infer", resource: "model:bench@1", outcome: "allowed",
                        detail: "POST /v2/models/bench/infer 200 (\(size)-\(index))"))
            }
            let start = ContinuousClock.now
            let elapsed = try await VaultClient.with(configuration) { client -> Duration in
                let task = Task {
                    await forwarder.run(batchesOf: size) { batch in
                        if batch.count == 1 {
                            try await client.appendAuditEntry(batch[0])
                        } else {
                            try await client.appendAuditEntries(batch)
                        }
                    }
                }
                while await forwarder.snapshot.pending > 0 { try await Task.sleep(for: .milliseconds(5)) }
                let elapsed = ContinuousClock.now - start
                await forwarder.stop()
                await task.value
                return elapsed
            }
            let counts = await forwarder.snapshot
            guard counts.forwarded == entries else {
                throw Failure("forward: \(counts.forwarded) of \(entries) recorded (rejected \(counts.rejected))")
            }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            rates[name] = Double(entries) / seconds
            print(
                String(
                    format: "%@: %8.2f s  %8.0f entries/s  (%d retries after 429 or errors)", name, seconds,
                    Double(entries) / seconds, counts.retries))
        }
        let ratio = (rates["batches of 64"] ?? 0) / max(rates["one per request"] ?? 1, 1e-9)
        print(String(format: "batches / one per request: %.1fx", ratio))
    }
}
