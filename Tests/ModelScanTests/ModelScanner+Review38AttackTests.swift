import Foundation
import Testing

@testable import ModelScan

/// Scanner review 38, on review 37's fix: `__array_interface__` set on a `StandardScaler()` by a `BUILD` whose key
/// was made by a call (`builtins.str('__array_interface__')`), and a state handed through `numpy.object_(d)` (which
/// is `d`) hiding a built mapping, gave numpy a raw pointer again (0 findings, also under the strict policy): memory
/// reads, and with `numpy.mean(…, out)` writes, forged objects and `builtins.dict(x)` calling a forged `x.keys`, a
/// bound `eval`, under all four loaders. A `BUILD` state key the scanner cannot read is now high for every target
/// (it was only for those that set every key with `setattr`), and a state made by a call that may return its
/// argument counts as a mapping whose keys are not seen.
@Suite struct ModelScannerReview38AttackTests {
    /// The reviewer's `leak.pkl` (reads `&PyBytes_Type` through a forged `__array_interface__`).
    static let memoryRead = [UInt8](
        Data(
            base64Encoded:
                "gAQoWB0AAABQeUJ5dGVzX1R5cGVfcmVhZF9mcm9tX21lbW9yeWNidWlsdGlucwppbnQKKGNzY2lweS5fbGliLmFycmF5X2FwaV9j"
                + "b21wYXQubnVtcHkuX2FsaWFzZXMKYXNhcnJheQooY3NrbGVhcm4ucHJlcHJvY2Vzc2luZy5fZGF0YQpTdGFuZGFyZFNjYWxlcgoo"
                + "dFIoY2J1aWx0aW5zCnN0cgooWBMAAABfX2FycmF5X2ludGVyZmFjZV9fdFIoWAUAAABzaGFwZSh0WAcAAAB0eXBlc3RyWAMAAAA8"
                + "aThYBAAAAGRhdGFCQAAAAEFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
                + "QUFBQUFYBgAAAG9mZnNldIoB6FgHAAAAdmVyc2lvbooBA2RkYnRScgAAAAB0UlgOAAAAbGlicHl0aG9uX2Jhc2VjYnVpbHRpbnMK"
                + "aW50CihjbnVtcHkKYXZlcmFnZQooKGoAAAAAigPAebuKAGxOKIoBAYoBAYoB/2x0UnRSZC4=")!)

    @Test func theReviewersFileIsRefused() {
        let report = ModelScanner().scan(bytes: Self.memoryRead, name: "model.pkl")
        #expect(report.isRefusedByDefault, "\(report.findings)")
    }

    /// `StandardScaler()` then `BUILD` with `{builtins.str('x'): 1}`.
    @Test func aComputedKeyInAStateIsHigh() {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("sklearn.preprocessing._data", "StandardScaler")
        p.raw([0x29, 0x52])  // EMPTY_TUPLE, REDUCE
        p.emptyDict()
        p.global("builtins", "str")
        p.shortUnicode("x")
        p.raw([0x85, 0x52])  // TUPLE1, REDUCE
        p.raw([0x4B, 0x01, 0x73, 0x62])  // BININT1 1, SETITEM, BUILD
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("pickle.build-class"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// `StandardScaler()` then `BUILD` with `numpy.object_(builtins.dict(()))`.
    @Test func aStateHandedThroughAPassThroughCallIsHigh() {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("sklearn.preprocessing._data", "StandardScaler")
        p.raw([0x29, 0x52])  // EMPTY_TUPLE, REDUCE
        p.global("numpy", "object_")
        p.global("builtins", "dict")
        p.raw([0x29, 0x52, 0x85, 0x52])  // EMPTY_TUPLE, REDUCE, TUPLE1, REDUCE
        p.raw([0x62])  // BUILD
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("pickle.build-class"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }
}
