import Foundation
import ModelScan

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Model scanner vs picklescan, like for like, each a child process (wall time and peak RSS from wait4):
/// a 1 GiB PyTorch zip checkpoint (picklescan reads only its pickle members; `--deep` also verifies every
/// member's CRC, which picklescan does not), optionally a 4 GiB one (SCAN_BENCH_4G=1), and two ~100 MB raw
/// pickles: a million small tuples and a few large BINBYTES. Files are written by torch and pickle.
enum ScanBenchmark {
    /// The child side: `ModelVaultBenchmarks --scan-child PATH [--deep]` scans and exits 0.
    static func child(_ arguments: [String]) -> Never {
        do {
            let report = try ModelScanner(deep: arguments.contains("--deep")).scan(path: arguments[0])
            exit(report.refused(by: .default).isEmpty ? 0 : 3)
        } catch {
            FileHandle.standardError.write(Data("scan failed: \(error)\n".utf8))
            exit(4)
        }
    }

    static func run() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mv-scan-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let sizes = ProcessInfo.processInfo.environment["SCAN_BENCH_4G"] == "1" ? [1, 4] : [1]
        let script = """
            import sys, os, pickle, torch
            d, sizes = sys.argv[1], [int(s) for s in sys.argv[2].split(",")]
            for gib in sizes:
                torch.manual_seed(0)
                state = {f"layer{i}.weight": torch.randn(4096, 4096) for i in range(16 * gib)}
                torch.save(state, os.path.join(d, f"ckpt{gib}g.pt"))
                del state
            with open(os.path.join(d, "tuples.pkl"), "wb") as f:
                pickle.dump([(i, i + 1) for i in range(10_000_000)], f, protocol=4)
            with open(os.path.join(d, "binbytes.pkl"), "wb") as f:
                pickle.dump([os.urandom(25 << 20) for _ in range(4)], f, protocol=4)
            """
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", script, root.path, sizes.map(String.init).joined(separator: ",")]
        try python.run()
        python.waitUntilExit()
        guard python.terminationStatus == 0 else {
            throw AgeBenchmark.Failure("python3 with torch could not write the files")
        }

        let me =
            CommandLine.arguments[0].hasPrefix("/")
            ? CommandLine.arguments[0] : FileManager.default.currentDirectoryPath + "/" + CommandLine.arguments[0]
        guard let picklescan = which("picklescan") else { throw AgeBenchmark.Failure("picklescan is not installed") }
        var files = sizes.map { "ckpt\($0)g.pt" }
        files += ["tuples.pkl", "binbytes.pkl"]
        print("file                size     modelvault s  RSS MiB  deep s  RSS MiB  picklescan s  RSS MiB  speed-up")
        for file in files {
            let path = root.appendingPathComponent(file).path
            let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            let ours = try best { try measure([me, "--scan-child", path]) }
            let deep = try best { try measure([me, "--scan-child", path, "--deep"]) }
            let peer = try best { try measure([picklescan, "-p", path], allowing: [0, 1]) }
            print(
                String(
                    format: "%-18@ %6.0f MiB  %10.3f  %7.1f  %6.3f  %7.1f  %12.3f  %7.1f  %7.1fx", file as NSString,
                    Double(size) / 1_048_576, ours.seconds, ours.rssMiB, deep.seconds, deep.rssMiB, peer.seconds,
                    peer.rssMiB, peer.seconds / ours.seconds))
        }
    }

    struct Measurement {
        var seconds: Double
        var rssMiB: Double
    }

    /// The fastest of three runs (with the largest RSS seen).
    static func best(_ body: () throws -> Measurement) throws -> Measurement {
        var runs: [Measurement] = []
        for _ in 0..<3 { runs.append(try body()) }
        return Measurement(seconds: runs.map(\.seconds).min()!, rssMiB: runs.map(\.rssMiB).max()!)
    }

    static func measure(_ command: [String], allowing statuses: Set<Int32> = [0]) throws -> Measurement {
        var pid: pid_t = 0
        let arguments = command.map { strdup($0) } + [nil]
        defer { arguments.forEach { free($0) } }
        let start = DispatchTime.now()
        guard posix_spawn(&pid, command[0], nil, nil, arguments, environ) == 0 else {
            throw AgeBenchmark.Failure("cannot start \(command[0])")
        }
        var status: Int32 = 0
        var usage = rusage()
        guard wait4(pid, &status, 0, &usage) == pid else { throw AgeBenchmark.Failure("wait4 failed") }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        let exitStatus = (status >> 8) & 0xFF
        guard status & 0x7F == 0, statuses.contains(exitStatus) else {
            throw AgeBenchmark.Failure("\(command[0]) failed with status \(status)")
        }
        return Measurement(seconds: seconds, rssMiB: Double(usage.ru_maxrss) / 1024)
    }

    static func which(_ tool: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
