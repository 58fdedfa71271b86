import Foundation
import Vault

/// Push, verify and pull a 1 GiB model directory against `cp -r` of the same data.
///
/// Push writes every blob durably (temporary file, fsync, rename), so its floor is a durable copy: `cp -r` followed
/// by `sync` of every copied file and the directory (coreutils `sync FILE...` fsyncs each). Pull writes durably
/// too; verify writes nothing. `cp -r` alone (page cache only, nothing on disk yet) is shown for reference.
enum VaultBenchmark {
    static let fileCount = 8
    static let fileSize = 128 << 20

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

        // Every measurement starts with no dirty data pending, so none pays for another's writeback.
        sync()
        let copy = try measure { try runProcess("/bin/cp", ["-r", model.path, base.appending(path: "copy").path]) }
        sync()
        let durableTarget = base.appending(path: "durable-copy")
        let durable = try measure {
            try runProcess("/bin/cp", ["-r", model.path, durableTarget.path])
            try runProcess("/bin/sync", shards.map { durableTarget.appending(path: $0).path } + [durableTarget.path])
        }
        let vault = try Vault.create(at: base.appending(path: "vault"), passphrase: "benchmark passphrase")
        // Creating the vault runs scrypt (2^18, 256 MiB); reset the peak so it covers push, verify and pull only.
        let peakReset = (try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)) != nil
        sync()
        let push = try await measureAsync { _ = try await vault.pushModel("bench", from: .path(model)) }
        let reference = try ModelReference(parsing: "bench@1")
        sync()
        let verify = try await measureAsync { try await vault.verifyModel(reference) }
        sync()
        let pull = try await measureAsync { try await vault.pullModel(reference, to: base.appending(path: "pulled")) }

        print("1 GiB model directory (\(fileCount) x \(fileSize >> 20) MiB), files in the page cache")
        print("floor = `cp -r model copy` then `sync copy/* copy` (fsync of each copied file and the directory),")
        print("the durability push and pull give every file (temp file + fsync + rename); verify writes nothing")
        print("operation              seconds     MiB/s   vs cp -r   vs floor")
        for (name, seconds) in [
            ("cp -r (page cache)", copy), ("cp -r + fsync (floor)", durable), ("model push", push),
            ("model verify", verify), ("model pull", pull),
        ] {
            let rate = total / seconds / 1_048_576
            print(
                name.padding(toLength: 21, withPad: " ", startingAt: 0)
                    + String(format: "%8.3f  %8.1f  %8.2fx  %8.2fx", seconds, rate, seconds / copy, seconds / durable))
        }
        if peakReset, let peak = peakRSSKiB() {
            print(
                String(format: "peak RSS during push, verify and pull (in this process): %.1f MiB", Double(peak) / 1024)
            )
        }
        print(String(format: "push / floor = %.2fx (target <= 1.5x)", push / durable))
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
