import Foundation
import Testing

@testable import ModelScan

/// Replays the committed libFuzzer corpora (`Fuzz/Corpus/pickle`, `Fuzz/Corpus/zip`) as ordinary tests, with the
/// same calls as the fuzz targets: no crash, no trap, a report for every input. A crash the fuzzer finds is kept
/// here by copying its input into the corpus. (`Fuzz/run.sh` runs the fuzzers themselves.)
@Suite struct ModelScannerFuzzCorpusTests {
    static func corpus(_ name: String) throws -> [(String, [UInt8])] {
        let directory = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appending(path: "Fuzz/Corpus/\(name)")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        return try names.map { ($0, Array(try Data(contentsOf: directory.appending(path: $0)))) }
    }

    @Test func pickleCorpusReplays() throws {
        let inputs = try Self.corpus("pickle")
        #expect(inputs.count >= 5)
        for (name, bytes) in inputs {
            let report = ModelScanner().scan(bytes: bytes, name: name)
            #expect(report.file == name)
        }
        // The seed that imports os.system is flagged, so the corpus also checks the scanner still sees it.
        let dangerous = try #require(inputs.first { $0.0 == "reduce-os-system.pkl" })
        #expect(!ModelScanner().scan(bytes: dangerous.1, name: "x").refused(by: .default).isEmpty)
    }

    @Test func zipCorpusReplays() throws {
        let inputs = try Self.corpus("zip")
        #expect(inputs.count >= 5)
        for (name, bytes) in inputs {
            var bytes = bytes
            if !bytes.starts(with: [0x50, 0x4B]) { bytes.insert(contentsOf: [0x50, 0x4B, 0x03, 0x04], at: 0) }
            let report = ModelScanner(deep: true).scan(bytes: bytes, name: name)
            #expect(report.file == name)
        }
    }
}
