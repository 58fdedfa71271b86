import Testing

@testable import ModelScan

/// Scanner reviews 64 and 65: scikit-learn's `PyFuncDistance64`, made by the allowed `_dist_metrics.newObj`, calls the
/// callable in its state as the distance on every prediction. The reviewers handed it `_ValidationScoreCallback`, an
/// allow-listed scikit-learn class that re-points another estimator's `coef_` when called. Any `PyFuncDistance` import
/// is now high (`sklearn.callable-metric`).
@Suite struct ModelScannerReview65AttackTests {
    /// `newObj(PyFuncDistance64)`, then a BUILD whose state's `func` is an allow-listed scikit-learn callable.
    static func callableMetric(_ metric: String, protocol version: UInt8) -> [UInt8] {
        var pickle = PickleAssembler(protocol: version)
        if version >= 4 {
            pickle.shortUnicode("sklearn.metrics._dist_metrics")
            pickle.shortUnicode("newObj")
            pickle.stackGlobal()
            pickle.shortUnicode("sklearn.metrics._dist_metrics")
            pickle.shortUnicode(metric)
            pickle.stackGlobal()
        } else {
            pickle.global("sklearn.metrics._dist_metrics", "newObj")
            pickle.global("sklearn.metrics._dist_metrics", metric)
        }
        pickle.tuple1()
        pickle.reduce()
        pickle.emptyDict()
        pickle.shortUnicode("func")
        pickle.global("sklearn.linear_model._stochastic_gradient", "_ValidationScoreCallback")
        pickle.emptyTuple()
        pickle.reduce()
        pickle.setItem()
        pickle.build()
        pickle.stop()
        return pickle.bytes
    }

    @Test(arguments: [
        ("PyFuncDistance64", UInt8(5)), ("PyFuncDistance32", UInt8(4)), ("PyFuncDistance64", UInt8(2)),
    ])
    func aCallableDistanceIsRefused(metric: String, version: UInt8) {
        let report = scan(Self.callableMetric(metric, protocol: version))
        #expect(
            report.has("sklearn.callable-metric", "sklearn.metrics._dist_metrics.\(metric)"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// Control: the same shape with a built-in metric has no such finding.
    @Test func aBuiltInDistanceHasNoCallableMetricFinding() {
        let report = scan(Self.callableMetric("EuclideanDistance64", protocol: 5))
        #expect(!report.findings.contains { $0.rule == "sklearn.callable-metric" }, "\(report.findings)")
    }
}
