import Foundation
import Testing

@testable import ONNX

/// Replays the committed libFuzzer corpus `Fuzz/Corpus/onnx` as ordinary tests, with the fuzz target's call:
/// loading either succeeds or throws an `ONNXError`, never traps. (`Fuzz/run.sh onnx` runs the fuzzer.)
@Suite struct ONNXModelFuzzCorpusTests {
    @Test func onnxCorpusReplays() throws {
        let directory = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appending(path: "Fuzz/Corpus/onnx")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names.count >= 3)
        var loaded = 0
        for name in names {
            let bytes = Array(try Data(contentsOf: directory.appending(path: name)))
            if (try? ONNXModel(bytes: bytes)) != nil { loaded += 1 }
        }
        // The hand-made seeds are valid models: the corpus starts inside the parser's happy path.
        #expect(loaded >= 3)
    }
}
