import Foundation
import TestSupport
import Testing

@testable import Homomorphic

/// Cross-check with PyPI `tenseal` (Microsoft SEAL): the same linear scores on the same 114 rows with the same
/// parameters (N = 8192, moduli [60, 40, 40, 60], scale 2^40), computed by TenSEAL's packed
/// `enc_matmul_plain` path and by ModelVault; both must agree with each other and with plaintext within 1e-3.
@Suite struct TenSEALInteropTests {
    static let script = """
        import json, sys
        import tenseal as ts
        job = json.load(sys.stdin)
        ctx = ts.context(ts.SCHEME_TYPE.CKKS, poly_modulus_degree=job["n"], coeff_mod_bit_sizes=job["bits"])
        ctx.global_scale = job["scale"]
        ctx.generate_galois_keys()
        rows = job["rows"]
        encrypted = ts.enc_matmul_encoding(ctx, rows)
        scores = encrypted.enc_matmul_plain(job["weights"], len(rows)) + job["bias"]
        json.dump({"scores": scores.decrypt()}, sys.stdout)
        """

    @Test func linearScoresAgreeWithTenSEAL() throws {
        guard Interop.pythonCanImport("tenseal") else {
            try Interop.skipOrFail("python3 tenseal")
        }
        let split = try BreastCancerSplit.load()
        let model = try split.trainLogistic()
        let named = try #require(CKKSParameters.named("n8192-d2"))
        let job: [String: Any] = [
            "n": named.polyDegree, "bits": named.bitSizes, "scale": Double(1 << named.logScale),
            "rows": split.testX, "weights": model.weights[0], "bias": model.bias[0],
        ]
        let input = try JSONSerialization.data(withJSONObject: job)
        let peer = try ChildProcess.python(Self.script, input: input).run()
        try #require(peer.status == 0, "\(peer.stderr)")
        let decoded = try #require(try JSONSerialization.jsonObject(with: peer.stdoutData) as? [String: Any])
        let theirs = try #require(decoded["scores"] as? [Double])
        try #require(theirs.count == 114)

        let context = Fixtures.d2
        let client = PrivateInferenceClient(context: context)
        let query = try client.encrypt(rows: split.testX, packing: .coefficientRows)
        let result = try PrivateInferenceServer.evaluate(
            query, model: .linear(model), keys: client.evaluationKeys(for: .coefficientRows), context: context)
        let ours = try client.decrypt(result).map { $0[0] }
        for (i, x) in split.testX.enumerated() {
            let plain = model.scores(x)[0]
            #expect(abs(ours[i] - theirs[i]) < 1e-3)
            #expect(abs(theirs[i] - plain) < 1e-3)
            #expect((ours[i] > 0) == (theirs[i] > 0))
        }
    }
}
