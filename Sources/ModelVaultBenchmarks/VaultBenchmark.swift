import Foundation
import Vault

/// Push, verify and pull a 1 GiB model directory against `cp -r` of the same data.
///
/// Push writes every blob durably (temporary file, fsync, rename), so its floor is a durable copy: `cp -r` followed
/// by `sync` of every copied file and the directory (coreutils `sync FILE...` fsyncs each). Pull writes durably
/// too; verify writes nothing. `cp -r` alone (page cache only, nothing on disk yet) is shown for reference.
enum VaultBenchmark {
    static let fileCount = 8
    /// 128 MiB per file (1 GiB in all); `MODELVAULT_BENCH_VAULT_MIB` sets the total (a multiple of 8) when iterating.
    static var fileSize: Int {
        let total = Int(ProcessInfo.processInfo.environment["MODELVAULT_BENCH_VAULT_MIB"] ?? "") ?? 1024
        return max(1, total / fileCount) << 20
    }

    /// Rounds of every measurement, interleaved; the figures are medians. A shared VM's disk varies by tens of
    /// percent from one second to the next, so each push is compared with the floor measured in its own round.
    static var rounds: Int { Int(ProcessInfo.processInfo.environment["MODELVAULT_BENCH_ROUNDS"] ?? "") ?? 3 }

    static func run() async throws {
        let base = FileManager.default.temporaryDirectory.appending(path: "modelvault-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let model = base.appending(path: "model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        for index in 0..<fileCount {
            try writePseudoRandom(fileSize, seed: UInt64(index + 1), to: model.appending(path: "shard-\(index).bin"))
        }
        let total = Double(fileCount * fileSize)
        let shards = (0..<fileCount).map { "shard-\($0).bin" }
        let vault = try Vault.create(at: base.appending(path: "vault"), passphrase: "benchmark passphrase")
        // Creating the vault runs scrypt (2^18, 256 MiB); reset the peak so it covers push, verify and pull only.
        let peakReset = (try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)) != nil

        var copy: [Double] = []
        var durable: [Double] = []
        var push: [Double] = []
        var verify: [Double] = []
        var pull: [Double] = []
        var coldCopy: [Double] = []
        // CPU seconds (user + system) of this process per operation, to tell computing from waiting.
        var cpu: [String: [Double]] = [:]
        for round in 0..<rounds {
            // Every measurement starts with no dirty data pending, so none pays for another's writeback; outputs
            // are removed (and that synced) before the next one.
            let target = base.appending(path: "copy")
            sync()
            copy.append(try measure { try runProcess("/bin/cp", ["-r", model.path, target.path]) })
            try FileManager.default.removeItem(at: target)
            sync()
            durable.append(
                try measure {
                    try runProcess("/bin/cp", ["-r", model.path, target.path])
                    try runProcess("/bin/sync", shards.map { target.appending(path: $0).path } + [target.path])
                })
            try FileManager.default.removeItem(at: target)
            sync()
            var before = cpuSeconds()
            push.append(try await measureAsync { _ = try await vault.pushModel("bench", from: .path(model)) })
            cpu["model push", default: []].append(cpuSeconds() - before)
            let reference = try ModelReference(parsing: "bench@\(round + 1)")
            // The blobs push just wrote are not in the page cache (it writes around it), so verify and pull read
            // them from the disk, which the floor's `cp -r` of a cached directory does not: this second floor copies
            // those blobs durably with reads and writes around the cache, the fastest a copy of them can be.
            let blobs = base.appending(path: "vault/models/encrypted/bench/\(round + 1)")
            let blobNames = try FileManager.default.contentsOfDirectory(atPath: blobs.path).sorted()
            sync()
            coldCopy.append(
                try measure {
                    try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
                    for name in blobNames {
                        try runProcess(
                            "/bin/dd",
                            [
                                "if=\(blobs.appending(path: name).path)", "of=\(target.appending(path: name).path)",
                                "bs=4M", "iflag=direct", "oflag=direct", "conv=fsync", "status=none",
                            ])
                    }
                    try runProcess("/bin/sync", [target.path])
                })
            try FileManager.default.removeItem(at: target)
            sync()
            before = cpuSeconds()
            verify.append(try await measureAsync { try await vault.verifyModel(reference) })
            cpu["model verify", default: []].append(cpuSeconds() - before)
            sync()
            let pulled = base.appending(path: "pulled")
            before = cpuSeconds()
            pull.append(try await measureAsync { try await vault.pullModel(reference, to: pulled) })
            cpu["model pull", default: []].append(cpuSeconds() - before)
            try FileManager.default.removeItem(at: pulled)
        }

        print(
            "\(fileCount * fileSize >> 20) MiB model directory (\(fileCount) x \(fileSize >> 20) MiB), files in the "
                + "page cache; \(rounds) rounds; load average \(loadAverage())")
        print("floor = `cp -r model copy` then `sync copy/* copy` (fsync of each copied file and the directory),")
        print("the durability push and pull give every file (temp file + fsync + rename); verify writes nothing")
        print("medians; \"vs floor\" is the median of each round's ratio to that round's floor")
        print("operation              seconds     MiB/s   vs cp -r   vs floor   range (s)   cpu s")
        for (name, times) in [
            ("cp -r (page cache)", copy), ("cp -r + fsync (floor)", durable), ("model push", push),
            ("cold blob copy", coldCopy),
            ("model verify", verify), ("model pull", pull),
        ] {
            let seconds = median(times)
            let rate = total / seconds / 1_048_576
            let ratio = median(zip(times, durable).map { $0 / $1 })
            print(
                name.padding(toLength: 21, withPad: " ", startingAt: 0)
                    + String(
                        format: "%8.3f  %8.1f  %8.2fx  %8.2fx   %.2f-%.2f", seconds, rate, seconds / median(copy),
                        ratio,
                        times.min()!, times.max()!)
                    + (cpu[name].map { String(format: "   %5.2f", median($0)) } ?? ""))
        }
        if peakReset, let peak = peakRSSKiB() {
            print(
                String(format: "peak RSS during push, verify and pull (in this process): %.1f MiB", Double(peak) / 1024)
            )
        }
        print(String(format: "floor (cp -r + fsync) = %.3f s (median)", median(durable)))
        for (name, times) in [("push", push), ("pull", pull)] {
            let ratios = zip(times, durable).map { $0 / $1 }
            print(
                String(format: "\(name) / floor = %.2fx (target <= 1.5x); per round: ", median(ratios))
                    + ratios.map { String(format: "%.2f", $0) }.joined(separator: ", "))
        }
        let coldRatios = zip(pull, coldCopy).map { $0 / $1 }
        print(
            String(
                format: "pull / cold blob copy (dd of the pushed blobs around the page cache, %.3f s) = %.2fx; "
                    + "per round: ", median(coldCopy), median(coldRatios))
                + coldRatios.map { String(format: "%.2f", $0) }.joined(separator: ", "))
    }

    /// User plus system CPU time of this process so far, in seconds.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// The 1-, 5- and 15-minute load averages, as `/proc/loadavg` gives them.
    static func loadAverage() -> String {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "unknown" }
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// The process's peak resident set (VmHWM), in KiB.
    static func peakRSSKiB() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return nil }
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }

    /// Incompressible bytes from xorshift64, written in 1 MiB blocks so the generator's memory stays small.
    static func writePseudoRandom(_ count: Int, seed: UInt64, to url: URL) throws {
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var block = Data(count: 1 << 20)
        for _ in 0..<(count >> 20) {
            block.withUnsafeMutableBytes { buffer in
                let words = buffer.bindMemory(to: UInt64.self)
                for index in words.indices {
                    state ^= state << 13
                    state ^= state >> 7
                    state ^= state << 17
                    words[index] = state
                }
            }
            try handle.write(contentsOf: block)
        }
    }

    static func measure(_ body: () throws -> Void) throws -> Double {
        let start = ContinuousClock.now
        try body()
        return seconds(ContinuousClock.now - start)
    }

    static func measureAsync(_ body: () async throws -> Void) async throws -> Double {
        let start = ContinuousClock.now
        try await body()
        return seconds(ContinuousClock.now - start)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Runs `python3 ARGUMENTS` (a peer, or a measurement script) and returns what it printed; nil when Python
    /// cannot start or the script fails.
    static func pythonOutput(_ arguments: [String]) -> Data? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let output = Pipe()
        process.standardOutput = output
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? data : nil
    }

    static func runProcess(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(filePath: executable)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw VaultBenchmarkFailure(description: "\(executable) failed") }
    }
}

struct VaultBenchmarkFailure: Error, CustomStringConvertible {
    let description: String
}
