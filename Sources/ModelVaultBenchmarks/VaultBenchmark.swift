import Foundation
import Vault

/// Push, verify and pull a 1 GiB model directory; `cp -r` of the same data is the peer.
enum VaultBenchmark {
    static let fileCount = 8
    static let fileSize = 128 << 20

    static func run() async throws {
        let base = FileManager.default.temporaryDirectory.appending(path: "modelvault-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let model = base.appending(path: "model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        for index in 0..<fileCount {
            try pseudoRandom(fileSize, seed: UInt64(index + 1)).write(to: model.appending(path: "shard-\(index).bin"))
        }
        let total = Double(fileCount * fileSize)

        let copy = try measure { try runProcess("/bin/cp", ["-r", model.path, base.appending(path: "copy").path]) }
        let vault = try Vault.create(at: base.appending(path: "vault"), passphrase: "benchmark passphrase")
        let push = try await measureAsync { _ = try await vault.pushModel("bench", from: .path(model)) }
        let reference = try ModelReference(parsing: "bench@1")
        let verify = try await measureAsync { try await vault.verifyModel(reference) }
        let pull = try await measureAsync { try await vault.pullModel(reference, to: base.appending(path: "pulled")) }

        print("1 GiB model directory (\(fileCount) x \(fileSize >> 20) MiB)")
        print("operation          seconds     MiB/s   ratio to cp")
        for (name, seconds) in [
            ("cp -r (peer)", copy), ("model push", push), ("model verify", verify), ("model pull", pull),
        ] {
            let rate = total / seconds / 1_048_576
            print(
                name.padding(toLength: 17, withPad: " ", startingAt: 0)
                    + String(format: "%8.3f  %8.1f  %8.2fx", seconds, rate, seconds / copy))
        }
        print(String(format: "push / cp = %.2fx (target <= 1.5x)", push / copy))
    }

    /// Incompressible bytes from xorshift64, fast enough to make a gigabyte.
    static func pseudoRandom(_ count: Int, seed: UInt64) -> Data {
        var data = Data(count: count)
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        data.withUnsafeMutableBytes { buffer in
            let words = buffer.bindMemory(to: UInt64.self)
            for index in words.indices {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                words[index] = state
            }
        }
        return data
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
