import Foundation
import TestSupport
import Testing

@testable import ONNX

/// Replays the committed libFuzzer corpus `Fuzz/Corpus/onnx` with the fuzz target's call, then seeded mutations
/// of it (`FuzzCorpus`): loading either succeeds or throws an `ONNXError`, never traps. (`Fuzz/run.sh onnx` runs
/// the fuzzer.)
@Suite struct ONNXModelFuzzCorpusTests {
    @Test func onnxCorpusReplays() throws {
        let run = try FuzzCorpus.replay("onnx") { bytes in (try? ONNXModel(bytes: bytes)) != nil }
        #expect(run.replayed >= 3)
        // Valid models are in the corpus: the replay starts inside the parser's happy path.
        #expect(run.accepted >= 1)
    }
}
