import Foundation
import Testing

@testable import ModelScan

/// Scanner review 44: a MaskedArray pickle whose `fill_value` was a crafted `csr_matrix` (`indptr` 2^40):
/// `MaskedArray.__setstate__` sets the fill value, numpy cannot convert it and prints it in its error message, and
/// printing converts the matrix with scipy's unchecked `expandptr` (SIGSEGV under all four loaders, 0 findings, strict
/// too). Real files keep sparse matrices as attributes of scikit-learn estimators (a dict state) and nowhere else in a
/// BUILD state: anywhere else is high (`scipy.sparse-in-state`).
@Suite struct ModelScannerReview44AttackTests {
    /// The reviewer's `poc.pkl`.
    static let maskedArrayFillValue = [UInt8](
        Data(
            base64Encoded:
                "gASV0QEAAAAAAACMDW51bXB5Lm1hLmNvcmWUjA5fbWFyZWNvbnN0cnVjdJSTlCiMCG51bXB5Lm1hlIwLTWFza2VkQXJyYXmUk5SM"
                + "BW51bXB5lIwHbmRhcnJheZSTlEsAhZSMAWKUdJRSlChLAUsBhZRoBowFZHR5cGWUk5SMAmY4lImIh5RSlChLA4wBPJROTk5K////"
                + "/0r/////SwB0lGKJQwgAAAAAAAAAAJRDAQCUjBFzY2lweS5zcGFyc2UuX2NzcpSMCmNzcl9tYXRyaXiUk5QpgZR9lCiMBl9zaGFw"
                + "ZZRLAUsBhpSMCG1heHByaW50lEsyjAZpbmRwdHKUjBZudW1weS5fY29yZS5tdWx0aWFycmF5lIwMX3JlY29uc3RydWN0lJOUaAhL"
                + "AIWUQwFilIeUUpQoSwFLAoWUaA+MAmk4lImIh5RSlChLA2gTTk5OSv////9K/////0sAdJRiiUMQAAAAAAABAAABAAAAAAEAAJR0"
                + "lGKMB2luZGljZXOUaCJoCEsAhZRoJIeUUpQoSwFLAYWUaCqJQwgAAAAAAAAAAJR0lGKMBGRhdGGUaCJoCEsAhZRoJIeUUpQoSwFL"
                + "AYWUaBKJQwgAAAAAAADwP5R0lGJ1YnSUYi4="
        )!)

    @Test func theReviewersFileIsRefused() {
        let report = ModelScanner().scan(bytes: Self.maskedArrayFillValue, name: "model.pkl")
        #expect(report.has("scipy.sparse-in-state", "numpy.ma.core._mareconstruct"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// The same matrix as an estimator's attribute passes (`KNeighborsClassifier` fitted on a sparse matrix keeps it
    /// so); in a tuple state, or in a state of another class, it is high.
    @Test(arguments: [true, false])
    func aSparseMatrixIsAnEstimatorsAttributeOnly(_ estimator: Bool) {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        if estimator {
            p.global("sklearn.neighbors._classification", "KNeighborsClassifier")
        } else {
            p.global("numpy.random.mtrand", "RandomState")
        }
        p.emptyTuple()
        p.newObj()
        p.emptyDict()
        p.shortUnicode("_fit_X")
        p.global("scipy.sparse._csr", "csr_matrix")
        p.emptyTuple()
        p.newObj()
        p.setItem()
        p.build()
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("scipy.sparse-in-state") == !estimator, "\(report.findings)")
    }
}
