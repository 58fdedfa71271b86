import Foundation
import TestSupport
import Testing

@testable import ModelScan

/// Seeded mutations of the corpus: the scanner must never crash, hang or trap on any of them. (The hardening
/// issue's harness runs the million-input campaign; this is the quick in-suite version. Re-run a larger campaign
/// with `MODELSCAN_FUZZ_ITERATIONS=200000 MODELSCAN_FUZZ_SEED=7 swift test --filter ModelScannerFuzzTests`.)
@Suite struct ModelScannerFuzzTests {

    private static var seeds: [[UInt8]] {
        var zip = ZipWriter()
        zip.add("a/data.pkl", torchStateDict())
        zip.add("a/data/0", [1, 2, 3, 4])
        var deflated = ZipWriter.Member(name: "b.npy", data: payload("os", "system"))
        deflated.method = 8
        deflated.payload = deflateStored(deflated.data)
        zip.members.append(deflated)
        let gguf =
            Array("GGUF".utf8) + le(3, 4) + le(0, 8) + le(1, 8) + le(1, 8) + [0x6B] + le(8, 4) + le(2, 8) + [
                0x61, 0x62,
            ]
        let safetensors =
            le(52, 8) + Array(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#.utf8)
            + [UInt8](repeating: 0, count: 8)
        let hdf5 = hdf5File(attributes: [("model_config", Array(#"{"class_name": "Dense", "module": "x"}"#.utf8))])
        return [torchStateDict(), payload("os", "system", protocol: 4), zip.bytes, gguf, safetensors, hdf5]
    }

    @Test func mutatedInputsNeverCrash() {
        let environment = ProcessInfo.processInfo.environment
        let iterations = Int(environment["MODELSCAN_FUZZ_ITERATIONS"] ?? "") ?? 4000
        var generator = SplitMix64(state: UInt64(environment["MODELSCAN_FUZZ_SEED"] ?? "") ?? 16)
        var scanned = 0
        for seed in Self.seeds {
            for _ in 0..<iterations {
                var bytes = seed
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    let index = Int.random(in: 0..<bytes.count, using: &generator)
                    switch Int.random(in: 0..<4, using: &generator) {
                    case 0: bytes[index] = UInt8.random(in: 0...255, using: &generator)
                    case 1: bytes[index] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
                    case 2: bytes.remove(at: index)
                    default: bytes.insert(contentsOf: [0xFF, 0xFF, 0xFF, 0xFF], at: index)
                    }
                    if bytes.isEmpty { bytes = [0] }
                }
                _ = scan(bytes, deep: true)
                scanned += 1
            }
        }
        #expect(scanned == iterations * Self.seeds.count)
    }
}
