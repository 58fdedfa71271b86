import Foundation
import Testing

@testable import ModelScan

/// Scanner review 36 found no bypass, and false positives: `FunctionTransformer(np.log1p, np.expm1)` and
/// `TransformedTargetRegressor(func=np.log1p, …)` dumps were refused for their numpy ufuncs. Elementwise ufuncs are
/// allowed now, as calls that may return an earlier object (`ufunc(x, out)` returns `out`).
@Suite struct ModelScannerReview36Tests {
    @Test func aUfuncHeldAsAValuePasses() {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("numpy", "log1p")
        p.global("numpy", "expm1")
        p.raw([0x86])  // TUPLE2
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.findings.isEmpty, "\(report.findings)")
    }

    /// What a ufunc call gives back may be its `out` argument, an object made earlier: a `BUILD` on it is high.
    @Test func aBuildOnWhatAUfuncReturnsIsHigh() {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("numpy", "log1p")
        p.raw([0x4B, 0x01, 0x85, 0x52])  // BININT1 1, TUPLE1, REDUCE
        p.emptyDict()
        p.raw([0x62])  // BUILD
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("pickle.build-on-passthrough"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }
}
