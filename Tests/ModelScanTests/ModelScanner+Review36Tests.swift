import Foundation
import Testing

@testable import ModelScan

/// Scanner review 36 found no bypass, and false positives, among them `FunctionTransformer(np.log1p, np.expm1)` and
/// `TransformedTargetRegressor(func=np.log1p, …)`, refused for their numpy ufuncs. Allowing the ufuncs gave review 37
/// a zero-argument method call (`numpy.sqrt(b)` calls `b.sqrt()`) and a write through `out`, so they stay refused.
@Suite struct ModelScannerReview36Tests {
    @Test func aUfuncHeldAsAValueStaysHigh() {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("numpy", "log1p")
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("pickle.global.unknown", "numpy.log1p"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }
}
