import Crypto
import Foundation
import ModelSigning

/// `modelvault sign` (the library call the CLI makes) against `model_signing sign key` (PyPI 1.1.1) on the
/// same ~1 GiB model directory, warm page cache for both. Data is written to a temporary directory and removed.
enum SigningBenchmark {
    static let largeFiles = 3
    static let largeFileSize = 320 << 20
    static let smallFiles = 64
    static let smallFileSize = 256 << 10

    static func run() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("modelvault-signbench-\(UUID())")
        let model = root.appendingPathComponent("model")
        defer { try? FileManager.default.removeItem(at: root) }
        try makeModel(at: model)
        let total = Double(largeFiles * largeFileSize + smallFiles * smallFileSize)

        let privateKey = P256.Signing.PrivateKey()
        let keyFile = root.appendingPathComponent("key.pem")
        try Data(privateKey.pemRepresentation.utf8).write(to: keyFile)
        let key = try SigningKey(pem: privateKey.pemRepresentation)

        // Warm the page cache so neither side pays for the first read from disk.
        _ = try ModelManifest.hashing(directoryAt: model)

        var ours = [Double]()
        for _ in 0..<2 {
            ours.append(
                try time {
                    try ModelSignature.signModel(
                        at: model, with: key, signature: root.appendingPathComponent("ours.sig"))
                })
        }
        let oursBest = ours.min() ?? 0

        let peer = try? time {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "model_signing", "sign", "key", model.path, "--private_key", keyFile.path,
                "--signature", root.appendingPathComponent("peer.sig").path,
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw BenchmarkError() }
        }

        let gib = total / Double(1 << 30)
        print("model: \(largeFiles) x \(largeFileSize >> 20) MiB + \(smallFiles) x \(smallFileSize >> 10) KiB")
        print("| signer | time (s) | throughput (MiB/s) |")
        print("|---|---:|---:|")
        print(row("modelvault sign (P-256)", oursBest, total))
        if let peer {
            print(row("model_signing sign key (P-256)", peer, total))
            print(String(format: "ratio model_signing / modelvault: %.2fx (%.2f GiB)", peer / oursBest, gib))
        } else {
            print("model_signing sign key: not available (pip install model-signing==1.1.1 pyopenssl)")
        }
    }

    struct BenchmarkError: Error, CustomStringConvertible {
        var description: String { "a benchmark step failed (model_signing sign key, or writing the data)" }
    }

    static func row(_ name: String, _ seconds: Double, _ bytes: Double) -> String {
        String(format: "| %@ | %.2f | %.0f |", name, seconds, bytes / seconds / Double(1 << 20))
    }

    static func time(_ body: () throws -> Void) throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Writes pseudo-random (incompressible) content: a few large weight files and many small ones.
    static func makeModel(at model: URL) throws {
        let manager = FileManager.default
        try manager.createDirectory(at: model.appendingPathComponent("shards"), withIntermediateDirectories: true)
        try manager.createDirectory(
            at: model.appendingPathComponent("extra/tokenizer"), withIntermediateDirectories: true)
        var generator = SystemRandomNumberGenerator()
        let block = Data((0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        for index in 0..<largeFiles {
            let url = model.appendingPathComponent("shards/model-\(index).safetensors")
            guard manager.createFile(atPath: url.path, contents: nil) else { throw BenchmarkError() }
            let handle = try FileHandle(forWritingTo: url)
            for chunk in 0..<(largeFileSize >> 20) {
                var varied = block
                varied[0] = UInt8(truncatingIfNeeded: chunk)
                varied[1] = UInt8(truncatingIfNeeded: index)
                try handle.write(contentsOf: varied)
            }
            try handle.close()
        }
        for index in 0..<smallFiles {
            var data = block.prefix(smallFileSize)
            data[0] = UInt8(truncatingIfNeeded: index)
            try data.write(to: model.appendingPathComponent("extra/tokenizer/part-\(index).json"))
        }
    }
}
