import Foundation
import Testing

@testable import ModelScan

/// Scanner review 42: `builtins.tuple(m)` of a `csc_matrix` whose `indices` point far outside it iterated the
/// matrix, and iterating converts it with scipy's sparsetools, which trust the index arrays: a heap write (SIGSEGV)
/// under all four loaders, 0 findings (strict too). Also through `list`, `set`, `frozenset`, `bytes`, `bytearray`,
/// `collections.deque`, `torch.Size`, and `builtins.str` of a `csr_matrix` (`__str__` converts it). scipy pickles its
/// matrices by NEWOBJ or `copyreg._reconstructor` and a state, and no real file hands one to a call: that is high now
/// (`scipy.sparse-argument`). A crafted matrix that nothing converts during loading still loads (the scanner does not
/// read array contents); README lists it as open.
@Suite struct ModelScannerReview42AttackTests {
    /// The reviewer's `b1.pkl`: `tuple(csc)`.
    static let tupleOfCrafted = [UInt8](
        Data(
            base64Encoded:
                "gASVeQEAAAAAAACMCGJ1aWx0aW5zlIwFdHVwbGWUk5SMEXNjaXB5LnNwYXJzZS5fY3NjlIwKY3NjX21hdHJpeJSTlCmBlH2UKIwG"
                + "X3NoYXBllEsCSwKGlIwIbWF4cHJpbnSUSzKMBmluZHB0cpSMFm51bXB5Ll9jb3JlLm11bHRpYXJyYXmUjAxfcmVjb25zdHJ1Y3SU"
                + "k5SMBW51bXB5lIwHbmRhcnJheZSTlEsAhZRDAWKUh5RSlChLAUsDhZRoD4wFZHR5cGWUk5SMAmk0lImIh5RSlChLA4wBPJROTk5K"
                + "/////0r/////SwB0lGKJQwwAAAAAAQAAAAEAAACUdJRijAdpbmRpY2VzlGgOaBFLAIWUaBOHlFKUKEsBSwGFlGgbiUMEAAAAEJR0"
                + "lGKMBGRhdGGUaA5oEUsAhZRoE4eUUpQoSwFLAYWUaBiMAmY4lImIh5RSlChLA2gcTk5OSv////9K/////0sAdJRiiUMIAAAAAAAA"
                + "8D+UdJRidWKFlFKULg=="
        )!)
    /// The reviewer's `s100000.pkl`: `str(csr)`.
    static let strOfCrafted = [UInt8](
        Data(
            base64Encoded:
                "gASVdwEAAAAAAACMCGJ1aWx0aW5zlIwDc3RylJOUjBFzY2lweS5zcGFyc2UuX2NzcpSMCmNzcl9tYXRyaXiUk5QpgZR9lCiMBl9z"
                + "aGFwZZRLAksChpSMCG1heHByaW50lEsyjAZpbmRwdHKUjBZudW1weS5fY29yZS5tdWx0aWFycmF5lIwMX3JlY29uc3RydWN0lJOU"
                + "jAVudW1weZSMB25kYXJyYXmUk5RLAIWUQwFilIeUUpQoSwFLA4WUaA+MBWR0eXBllJOUjAJpNJSJiIeUUpQoSwOMATyUTk5OSv//"
                + "//9K/////0sAdJRiiUMMAAAAAKCGAQABAAAAlHSUYowHaW5kaWNlc5RoDmgRSwCFlGgTh5RSlChLAUsBhZRoG4lDBAAAAACUdJRi"
                + "jARkYXRhlGgOaBFLAIWUaBOHlFKUKEsBSwGFlGgYjAJmOJSJiIeUUpQoSwNoHE5OTkr/////Sv////9LAHSUYolDCAAAAAAAAPA/"
                + "lHSUYnVihZRSlC4="
        )!)

    @Test(arguments: [tupleOfCrafted, strOfCrafted])
    func theReviewersFilesAreRefused(_ bytes: [UInt8]) {
        let report = ModelScanner().scan(bytes: bytes, name: "model.pkl")
        #expect(report.has("scipy.sparse-argument"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// A sparse matrix made by `copyreg._reconstructor` (a `dok_matrix`) and handed to a call, or inside a tuple
    /// handed to one, is high too.
    @Test(arguments: [false, true])
    func aReconstructedSparseMatrixHandedToACallIsHigh(_ inTuple: Bool) {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("builtins", "list")
        p.global("copyreg", "_reconstructor")
        p.global("scipy.sparse._dok", "dok_matrix")
        p.global("builtins", "dict")
        p.emptyDict()
        p.tuple3()
        p.reduce()
        if inTuple { p.tuple1() }
        p.tuple1()
        p.reduce()
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("scipy.sparse-argument", "builtins.list"), "\(report.findings)")
    }

    /// Review 42's false positive: scorers hold scikit-learn's score functions (`GridSearchCV(scoring="f1")`). Held
    /// they pass; called by the pickle they are high.
    @Test func aScoreFunctionHeldPassesAndCalledIsHigh() {
        var held = PickleAssembler()
        held.raw([0x80, 2])
        held.global("sklearn.metrics._classification", "f1_score")
        held.stop()
        #expect(!ModelScanner().scan(bytes: held.bytes, name: "model.pkl").isRefusedByDefault)
        var called = PickleAssembler()
        called.raw([0x80, 2])
        called.global("sklearn.metrics._classification", "f1_score")
        called.binInt1(1)
        called.binInt1(1)
        called.tuple2()
        called.reduce()
        called.stop()
        let report = ModelScanner().scan(bytes: called.bytes, name: "model.pkl")
        #expect(report.has("pickle.call-array-coercion", "f1_score"), "\(report.findings)")
    }
}
