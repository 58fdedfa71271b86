import Foundation
import TestSupport
import Testing

@_spi(Fuzzing) @testable import Homomorphic

/// Replays `Fuzz/Corpus/ckks` with the fuzz target's calls, then seeded mutations of it (`FuzzCorpus`): a
/// private-inference request or result is either parsed or refused with an error, never a trap.
@Suite struct PrivateInferenceFuzzCorpusTests {
    @Test func ckksCorpusReplays() throws {
        // The fuzz target's ring (N = 2048, two 27-bit primes), model and policy.
        let parameters = try CKKSParameters(polyDegree: 2048, coefficientBitSizes: [27, 27], scale: 0x1p20)
        let context = try CKKSContext(parameters: parameters)
        let model = try LinearModel(weights: [[0.5, -1, 0.25, 2], [1, 0, -0.5, 0.125]], bias: [0.1, -0.2])
        let endpoint = try PrivateInferenceEndpoint(
            model: .linear(model), policy: PrivateInferencePolicy(allowing: [parameters], weightNormBound: 3))
        let run = try FuzzCorpus.replay("ckks") { bytes in
            guard let mode = bytes.first else { return false }
            if mode & 1 == 0 { return (try? endpoint.parseRequest(Array(bytes.dropFirst()))) != nil }
            return (try? context.deserializeResult(Array(bytes.dropFirst()))) != nil
        }
        #expect(run.replayed >= 3)
        #expect(run.accepted >= 1)
    }
}
