import Foundation
import TestSupport
import Testing

@testable import ModelScan

/// Replays the committed libFuzzer corpora (`Fuzz/Corpus/pickle`, `Fuzz/Corpus/zip`) as ordinary tests, with the
/// same calls as the fuzz targets, then seeded mutations of them (`FuzzCorpus`): no crash, no trap, a report for
/// every input. A crash the fuzzer finds is kept here by copying its input into the corpus. (`Fuzz/run.sh` runs
/// the fuzzers themselves.)
@Suite struct ModelScannerFuzzCorpusTests {
    @Test func pickleCorpusReplays() throws {
        let run = try FuzzCorpus.replay("pickle") { bytes in
            ModelScanner().scan(bytes: bytes, name: "input").file == "input"
        }
        #expect(run.replayed >= 5)
        #expect(run.accepted == run.replayed + run.mutated)
        // A pickle that imports os.system is flagged, so the replay also checks the scanner still sees it.
        // (The corpus's seed `reduce-os-system.pkl`, by its bytes: minimising the corpus renames its files.)
        let dangerous: [UInt8] = [
            0x80, 0x04, 0x95, 0x1E, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x8C, 0x02, 0x6F, 0x73, 0x94, 0x8C, 0x06,
            0x73, 0x79, 0x73, 0x74, 0x65, 0x6D, 0x94, 0x93, 0x94, 0x8C, 0x02, 0x69, 0x64, 0x94, 0x85, 0x94, 0x52, 0x94,
            0x2E,
        ]
        #expect(!ModelScanner().scan(bytes: dangerous, name: "x").refused(by: .default).isEmpty)
    }

    @Test func zipCorpusReplays() throws {
        let run = try FuzzCorpus.replay("zip") { bytes in
            var bytes = bytes
            if !bytes.starts(with: [0x50, 0x4B]) { bytes.insert(contentsOf: [0x50, 0x4B, 0x03, 0x04], at: 0) }
            return ModelScanner(deep: true).scan(bytes: bytes, name: "input").file == "input"
        }
        #expect(run.replayed >= 5)
        #expect(run.accepted == run.replayed + run.mutated)
    }

    @Test func hdf5CorpusReplays() throws {
        let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
        let run = try FuzzCorpus.replay("hdf5") { bytes in
            var bytes = bytes
            if !bytes.starts(with: signature) { bytes.insert(contentsOf: signature, at: 0) }
            return ModelScanner().scan(bytes: bytes, name: "input").file == "input"
        }
        #expect(run.replayed >= 5)
        #expect(run.accepted == run.replayed + run.mutated)
        // Every seed hides a Lambda in model_config (plain, committed datatype, dense storage): all are refused.
        for input in try FuzzCorpus.inputs("hdf5") {
            #expect(!ModelScanner().scan(bytes: input.bytes, name: "x").refused(by: .default).isEmpty)
        }
    }
}
