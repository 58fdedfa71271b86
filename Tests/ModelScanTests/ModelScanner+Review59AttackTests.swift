import Foundation
import Testing

@testable import ModelScan

/// Scanner reviews 59 and 60: `Gini(n_outputs, n_classes)` copies `n_classes[k]` for every output into a C buffer with no
/// bounds check, so `n_outputs` 8,000,000 over a one-entry array read 64 MB past it while loading (SIGSEGV under all
/// four loaders). Fitted models never hold a criterion, splitter, partitioner or tree builder: making one is high
/// (`sklearn.tree-builder-call`).
@Suite struct ModelScannerReview59AttackTests {
    /// The reviewer's `gini.pkl` (protocol 5).
    static let gini = [UInt8](
        Data(
            base64Encoded:
                "gAWVqAAAAAAAAACMF3NrbGVhcm4udHJlZS5fY3JpdGVyaW9ulIwER2luaZSTlEoAEnoAjBNudW1weS5fY29yZS5udW1lcmlj"
                + "lIwLX2Zyb21idWZmZXKUk5QolggAAAAAAAAAAgAAAAAAAACUjAVudW1weZSMBWR0eXBllJOUjAJpOJSJiIeUUpQoSwOMATyU"
                + "Tk5OSv////9K/////0sAdJRiSwGFlIwBQ5R0lFKUhpRSlC4="
        )!)

    /// Review 60's `ifd.pkl`: `IntFloatDict(keys, values)` with one key and 4,194,304 values over a `bytearray`.
    static let intFloatDict = [UInt8](
        Data(
            base64Encoded:
                "gASV+AAAAAAAAACMGHNrbGVhcm4udXRpbHMuX2Zhc3RfZGljdJSMDEludEZsb2F0RGljdJSTlIwTbnVtcHkuX2NvcmUubnVt"
                + "ZXJpY5SMC19mcm9tYnVmZmVylJOUKIwIYnVpbHRpbnOUjAlieXRlYXJyYXmUk5RLCIWUUpSMBW51bXB5lIwFZHR5cGWUk5SM"
                + "Amk4lImIh5RSlChLA4wBPJROTk5K/////0r/////SwB0lGJLAYWUjAFDlHSUUpRoBShoCEoAAAAChZRSlGgNjAJmOJSJiIeU"
                + "UpQoSwNoEU5OTkr/////Sv////9LAHSUYkoAAEAAhZRoFHSUUpSGlFKULg=="
        )!)

    /// Review 60: `IntFloatDict` loops over its values and reads `keys[i]` unchecked (SIGSEGV under all four loaders).
    @Test func anIntFloatDictIsRefused() {
        let report = scan(Self.intFloatDict)
        #expect(report.has("sklearn.fit-time-class", "sklearn.utils._fast_dict.IntFloatDict"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    @Test func theReviewersFileIsRefused() {
        let report = scan(Self.gini)
        #expect(report.has("sklearn.tree-builder-call", "sklearn.tree._criterion.Gini"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// Under every module that exports them; the fitted `Tree` is not one of them.
    @Test(arguments: [
        ("sklearn.tree._criterion.Gini", true), ("sklearn.tree._classes.Splitter", true),
        ("sklearn.tree._tree.DepthFirstTreeBuilder", true), ("sklearn.tree._partitioner.DensePartitioner", true),
        ("sklearn.tree._tree.Tree", false), ("sklearn.tree._classes.DecisionTreeClassifier", false),
        ("sklearn.ensemble._forest.Gini", false),
    ])
    func theTreeBuildingClassesAreKnownByName(_ qualified: String, _ building: Bool) {
        #expect(PickleInterpreter.isTreeBuildingClass(qualified) == building)
    }
}
