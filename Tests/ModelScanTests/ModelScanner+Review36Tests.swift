import Foundation
import Testing

@testable import ModelScan

/// Scanner review 36 found no bypass, and false positives, among them `FunctionTransformer(np.log1p, np.expm1)` and
/// `TransformedTargetRegressor(func=np.log1p, …)`, refused for their numpy ufuncs. Review 37 then used ufuncs put on
/// the allow-list by calling them: `numpy.sqrt(b)` calls `b.sqrt()`, and `numpy.negative(x, out)` writes through
/// `out`. Held as values the ufuncs pass now; called by the pickle they are high.
@Suite struct ModelScannerReview36Tests {
    @Test func aUfuncHeldAsAValuePasses() {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("numpy", "log1p")
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(!report.isRefusedByDefault, "\(report.findings)")
    }

    /// Review 37's two calls: a method call through `numpy.sqrt(b)` and a write through `numpy.negative(x, out)`.
    @Test(arguments: [("sqrt", 1), ("negative", 2)])
    func review37sUfuncCallsAreHigh(_ name: String, _ arguments: Int) {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("numpy", name)
        p.mark()
        for _ in 0..<arguments { p.binInt1(1) }
        p.tuple()
        p.reduce()
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("pickle.call-array-coercion", "numpy.\(name)"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }
}
