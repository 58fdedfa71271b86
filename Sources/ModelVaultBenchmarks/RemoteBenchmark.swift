import Foundation

/// `remote`: issue #14's remote-mode acceptance. A 1 GiB model (8 × 128 MiB) pushed and pulled by the release
/// `modelvault` CLI as a child process, in remote mode against `modelvault serve` on loopback (TLS with a
/// self-signed certificate, a data scientist's bearer token, streamed file routes; the client holds no vault key
/// and no vault path), and in local mode against a vault of its own (unlocked with an exported identity file, so
/// scrypt's 256 MiB does not count against the local client) in the same run, round by round.
///
/// The peer is the local-mode CLI: the issue asks for remote throughput of at least 0.7× local, with the client's
/// peak RSS (its own, from `wait4`) under 100 MiB. The durable-copy floor (`cp -r` + fsync) is printed beside them,
/// and after them the fastest a remote run could be on this machine, given what TLS on loopback costs with OpenSSL
/// (`Scripts/tls-loopback-floor`, run from the package root).
/// Knobs: `MODELVAULT_BENCH_VAULT_MIB` (1024), `MODELVAULT_BENCH_ROUNDS` (2).
enum RemoteBenchmark {
    typealias Failure = ServerBenchmark.Failure

    /// One child run: wall seconds, the child's own peak resident set and CPU seconds, and the server's CPU
    /// seconds meanwhile (zero in local mode).
    struct ChildRun {
        var seconds: Double
        var peakRSSKiB: Int
        var cpuSeconds: Double
        var serverCPUSeconds = 0.0
    }

    static var rounds: Int { Int(ProcessInfo.processInfo.environment["MODELVAULT_BENCH_ROUNDS"] ?? "") ?? 2 }

    static func run() async throws {
        guard let binary = ServerBenchmark.modelvaultBinary() else {
            print(
                "remote: SKIPPED: release modelvault binary not found; build it first with `swift build -c release`"
                    + " (or set MODELVAULT_BIN)")
            return
        }
        print("modelvault: \(binary.path)")
        if binary.path.contains("/debug/") {
            print("remote: WARNING: a debug build; figures are not comparable (`swift build -c release` first)")
        }
        let base = FileManager.default.temporaryDirectory.appending(path: "modelvault-remote-bench-\(UUID())")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: base) }
        let model = base.appending(path: "model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        let fileCount = VaultBenchmark.fileCount
        let fileSize = VaultBenchmark.fileSize
        for index in 0..<fileCount {
            try VaultBenchmark.writePseudoRandom(
                fileSize, seed: UInt64(index + 1), to: model.appending(path: "shard-\(index).bin"))
        }
        let shards = (0..<fileCount).map { "shard-\($0).bin" }
        let total = Double(fileCount * fileSize)

        // Two throwaway vaults in the temp directory (the passphrases protect nothing outside this run): the local
        // CLI's and the server's, so neither waits on the other's lock.
        var clean = ProcessInfo.processInfo.environment
        for name in [
            "MODELVAULT_IDENTITY_FILE", "MODELVAULT_TOKEN", "MODELVAULT_PASSPHRASE", "MODELVAULT_VAULT",
            "MODELVAULT_SERVER", "MODELVAULT_CA_FILE", "MODELVAULT_VERIFIER",
        ] {
            clean[name] = nil
        }
        func vaultEnvironment(_ name: String) throws -> (environment: [String: String], admin: String) {
            var environment = clean
            environment["MODELVAULT_VAULT"] = base.appending(path: name).path
            environment["MODELVAULT_PASSPHRASE"] = "remote-benchmark-\(UUID())"
            let adminToken = base.appending(path: "\(name).admin-token")
            try ServerBenchmark.runChecked(binary, ["init", "-o", adminToken.path], environment: environment, in: base)
            return (environment, try ServerBenchmark.readToken(adminToken))
        }
        let (localSetup, localAdmin) = try vaultEnvironment("local-vault")
        var local = localSetup
        local["MODELVAULT_TOKEN"] = localAdmin
        let identity = base.appending(path: "local-identity.txt")
        try ServerBenchmark.runChecked(
            binary, ["keys", "export-identity", "-o", identity.path], environment: local, in: base)
        local["MODELVAULT_PASSPHRASE"] = nil
        local["MODELVAULT_IDENTITY_FILE"] = identity.path

        let (serverSetup, remoteAdmin) = try vaultEnvironment("server-vault")
        var serverEnvironment = serverSetup
        serverEnvironment["MODELVAULT_TOKEN"] = remoteAdmin
        let clientToken = base.appending(path: "client.token")
        try ServerBenchmark.runChecked(
            binary, ["user", "add", "dana", "--role", "data-scientist", "--service"], environment: serverEnvironment,
            in: base)
        try ServerBenchmark.runChecked(
            binary, ["token", "create", "dana", "--expires", "1d", "-o", clientToken.path],
            environment: serverEnvironment, in: base)
        // A remote plaintext pull checks the vault's signature against a key the client pinned.
        let verifier = base.appending(path: "vault-verifier.pem")
        try ServerBenchmark.runChecked(
            binary, ["keys", "export-verifier", "-o", verifier.path], environment: serverEnvironment, in: base)
        serverEnvironment["MODELVAULT_TOKEN"] = nil
        let certificate = base.appending(path: "server.pem")
        let server = try ServerBenchmark.BackgroundProcess(
            binary,
            [
                "serve", "--self-signed", "--host", "127.0.0.1", "--port", "0", "--log-level", "warning",
                "--cert-out", certificate.path,
            ],
            environment: serverEnvironment, log: base.appending(path: "serve"))
        defer { server.stop() }
        let line = try await server.waitForOutput(containing: "listening on https://", timeout: .seconds(120))
        guard let port = line.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) })
        else { throw Failure("modelvault serve printed no port") }
        // Unlocking the vault ran scrypt (256 MiB); reset the server's peak so it covers the transfers only.
        let serverPID = server.process.processIdentifier
        let serverPeakReset =
            (try? "5".write(toFile: "/proc/\(serverPID)/clear_refs", atomically: false, encoding: .utf8)) != nil
        // The remote client: a URL, the server's certificate and a token. No vault path, passphrase or identity.
        var remote = clean
        remote["MODELVAULT_SERVER"] = "https://127.0.0.1:\(port)"
        remote["MODELVAULT_CA_FILE"] = certificate.path
        remote["MODELVAULT_VERIFIER"] = verifier.path
        remote["MODELVAULT_TOKEN"] = try ServerBenchmark.readToken(clientToken)

        var floor: [Double] = []
        var runs: [String: [ChildRun]] = [:]
        let log = base.appending(path: "client.log")
        for round in 0..<rounds {
            let copy = base.appending(path: "copy")
            sync()
            floor.append(
                try VaultBenchmark.measure {
                    try VaultBenchmark.runProcess("/bin/cp", ["-r", model.path, copy.path])
                    try VaultBenchmark.runProcess(
                        "/bin/sync", shards.map { copy.appending(path: $0).path } + [copy.path])
                })
            try FileManager.default.removeItem(at: copy)
            for (mode, environment) in [("local", local), ("remote", remote)] {
                // The server's CPU time during a remote run: it scans, hashes, encrypts and signs, or re-wraps.
                func measured(_ arguments: [String]) throws -> ChildRun {
                    let before = cpuSeconds(of: serverPID)
                    var run = try spawn(binary, arguments, environment: environment, log: log)
                    if mode == "remote" { run.serverCPUSeconds = cpuSeconds(of: serverPID) - before }
                    return run
                }
                sync()
                runs["\(mode) push", default: []].append(try measured(["model", "push", "bench", model.path]))
                sync()
                let pulled = base.appending(path: "pulled")
                runs["\(mode) pull", default: []].append(
                    try measured(["model", "pull", "bench@\(round + 1)", "-o", pulled.path]))
                try FileManager.default.removeItem(at: pulled)
            }
        }
        let serverPeak = serverPeakReset ? peakRSSKiB(of: serverPID) : nil

        print(
            "\(fileCount * fileSize >> 20) MiB model (\(fileCount) x \(fileSize >> 20) MiB); \(rounds) rounds; "
                + "load average \(VaultBenchmark.loadAverage())")
        print(
            "remote: `modelvault model push/pull` with MODELVAULT_SERVER=https://127.0.0.1:\(port) (TLS, self-signed),")
        print("        a data-scientist token, no vault path, passphrase or identity; `modelvault serve` on loopback")
        print("local:  the same commands on a vault of their own, unlocked with an exported identity file")
        print("floor:  `cp -r` + fsync of each file and the directory; medians; RSS = the client process's peak")
        print(
            "operation        seconds     MiB/s   vs floor   client RSS MiB   client cpu s   server cpu s   per round (s)"
        )
        let durable = VaultBenchmark.median(floor)
        print(String(format: "cp -r + fsync   %8.3f  %8.1f      1.00x", durable, total / durable / 1_048_576))
        for name in ["local push", "remote push", "local pull", "remote pull"] {
            let measured = runs[name] ?? []
            let seconds = VaultBenchmark.median(measured.map(\.seconds))
            let peak = measured.map(\.peakRSSKiB).max() ?? 0
            print(
                name.padding(toLength: 14, withPad: " ", startingAt: 0)
                    + String(
                        format: "  %8.3f  %8.1f  %8.2fx  %14.1f  %13.2f  %13.2f   ", seconds,
                        total / seconds / 1_048_576, seconds / durable, Double(peak) / 1024,
                        VaultBenchmark.median(measured.map(\.cpuSeconds)),
                        VaultBenchmark.median(measured.map(\.serverCPUSeconds)))
                    + measured.map { String(format: "%.2f", $0.seconds) }.joined(separator: ", "))
        }
        if let serverPeak {
            print(
                String(
                    format: "server (modelvault serve) peak RSS during the transfers (reset after unlocking): %.1f MiB",
                    Double(serverPeak) / 1024
                ))
        }
        var met = true
        for operation in ["push", "pull"] {
            let localTimes = (runs["local \(operation)"] ?? []).map(\.seconds)
            let remoteRuns = runs["remote \(operation)"] ?? []
            let ratios = zip(localTimes, remoteRuns.map(\.seconds)).map { $0 / $1 }
            let ratio = VaultBenchmark.median(ratios)
            let peak = Double(remoteRuns.map(\.peakRSSKiB).max() ?? 0) / 1024
            met = met && ratio >= 0.7 && peak < 100
            print(
                String(
                    format:
                        "remote / local throughput, \(operation): %.2fx (per round: %@); remote client peak %.1f MiB",
                    ratio, ratios.map { String(format: "%.2f", $0) }.joined(separator: ", "), peak))
        }
        print("target (remote >= 0.7x local throughput, remote client RSS < 100 MiB): " + (met ? "MET" : "MISSED"))
        printTransportBound(runs: runs, mebibytes: fileCount * fileSize >> 20)
    }

    /// The fastest a remote run could be on this machine: it does the local run's work and also carries the bytes
    /// over TLS between two processes on the same cores, so it takes at least (local CPU + transport CPU) / cores.
    /// The transport's CPU is measured with OpenSSL, not ModelVault's stack (`Scripts/tls-loopback-floor`).
    static func printTransportBound(runs: [String: [ChildRun]], mebibytes: Int) {
        guard let transport = transportCPUSeconds(mebibytes: mebibytes) else {
            print("transport bound: SKIPPED (needs python3 and Scripts/tls-loopback-floor; run from the package root)")
            return
        }
        let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
        print(
            String(
                format: "TLS on loopback alone (Scripts/tls-loopback-floor: OpenSSL, %d MiB memory to memory, median "
                    + "of 3): %.2f cpu s, sender and receiver", mebibytes, transport))
        for operation in ["push", "pull"] {
            let local = runs["local \(operation)"] ?? []
            let localCPU = VaultBenchmark.median(local.map(\.cpuSeconds))
            let bound = (localCPU + transport) / cores
            print(
                String(
                    format:
                        "fastest possible remote \(operation) on %.0f cores: (local cpu %.2f + transport %.2f) / %.0f = "
                        + "%.2f s, at most %.2fx local throughput", cores, localCPU, transport, cores, bound,
                    VaultBenchmark.median(local.map(\.seconds)) / bound))
        }
    }

    /// The median CPU seconds (both ends) of carrying `mebibytes` over TLS on loopback, or nil without the script.
    static func transportCPUSeconds(mebibytes: Int) -> Double? {
        let script = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            .appending(path: "Scripts/tls-loopback-floor")
        guard FileManager.default.isExecutableFile(atPath: script.path) else { return nil }
        guard let data = VaultBenchmark.pythonOutput([script.path, "--total-cpu", String(mebibytes), "3"]) else {
            return nil
        }
        return Double(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Runs `binary` to completion with stdout and stderr appended to `log`, and returns its wall time and its own
    /// peak RSS (`wait4`'s `ru_maxrss`, which counts this child alone, unlike `RUSAGE_CHILDREN`).
    static func spawn(
        _ binary: URL, _ arguments: [String], environment: [String: String], log: URL
    ) throws
        -> ChildRun
    {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([binary.path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv + envp { free(pointer) }
        }
        let start = ContinuousClock.now
        var pid: pid_t = 0
        guard posix_spawn(&pid, binary.path, &actions, nil, argv, envp) == 0 else {
            throw Failure("cannot start \(binary.lastPathComponent)")
        }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            guard errno == EINTR else { throw Failure("wait4 failed") }
        }
        let seconds = VaultBenchmark.seconds(ContinuousClock.now - start)
        // Exited normally with status 0: WIFEXITED and WEXITSTATUS spelled out (the macros are not imported).
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            let tail = ((try? String(contentsOf: log, encoding: .utf8)) ?? "").suffix(2000)
            FileHandle.standardError.write(Data(tail.utf8))
            throw Failure("modelvault \(arguments.prefix(2).joined(separator: " ")) failed")
        }
        let cpu =
            Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        return ChildRun(seconds: seconds, peakRSSKiB: usage.ru_maxrss, cpuSeconds: cpu)
    }

    /// A running process's user plus system CPU seconds so far (`/proc/PID/stat` fields 14 and 15).
    static func cpuSeconds(of pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return 0 }
        // Fields after the command name (which may hold spaces) start at field 3.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// A running process's peak resident set (VmHWM), in KiB.
    static func peakRSSKiB(of pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return nil }
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }
}
