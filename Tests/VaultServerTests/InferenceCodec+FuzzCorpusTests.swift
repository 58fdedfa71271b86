import Foundation
import TestSupport
import Testing

@_spi(Fuzzing) @testable import VaultServer

/// Replays `Fuzz/Corpus/oip` with the fuzz target's call, then seeded mutations of it (`FuzzCorpus`): an Open
/// Inference Protocol body is either accepted or refused with an error, never a trap.
@Suite struct InferenceCodecFuzzCorpusTests {
    /// The fuzz target's models: they declare inputs and never run.
    struct DeclaredModel: ServedModel {
        let name = "m"
        let version = "1"
        let platform = "fuzz"
        let inputs: [TensorMetadata]
        let outputs = [TensorMetadata(name: "output", datatype: .fp32, shape: [-1, 2])]
        func infer(_ inputs: [String: Tensor]) throws -> [String: Tensor] { [:] }
    }

    static let models = [
        DeclaredModel(inputs: [TensorMetadata(name: "input", datatype: .fp32, shape: [-1, 4])]),
        DeclaredModel(inputs: [
            TensorMetadata(name: "pixels", datatype: .uint8, shape: [-1, 2, 2]),
            TensorMetadata(name: "ids", datatype: .int64, shape: [-1, 3]),
        ]),
    ]

    /// Byte 0 picks the model (bit 0) and whether bytes 1-2 are the header length (bit 1), as in `fuzz-oip`.
    static func parse(_ bytes: [UInt8]) -> Bool {
        guard let mode = bytes.first else { return false }
        var body = bytes.dropFirst()
        var headerLength: Int?
        if mode & 2 != 0 {
            guard body.count >= 2 else { return false }
            headerLength = Int(body[body.startIndex]) << 8 | Int(body[body.startIndex + 1])
            body = body.dropFirst(2)
        }
        return (try? InferenceBodyParser.parse(Array(body), headerLength: headerLength, for: models[Int(mode & 1)]))
            != nil
    }

    @Test func oipCorpusReplays() throws {
        let run = try FuzzCorpus.replay("oip", Self.parse)
        #expect(run.replayed >= 5)
        #expect(run.accepted >= 1)
    }
}
