import Foundation
import Testing

@testable import ModelScan

/// Scanner review 37: with only allowed globals (scikit-learn's `Bunch`, `asarray`, `numpy.average`, `builtins.int`,
/// `builtins.dict`, `copyreg._reconstructor`, and the elementwise ufuncs review 36's false positive had put on the
/// allow-list), a 1.7 kB pickle read and wrote any memory and called `eval` under all four loaders (0 findings). A
/// `Bunch` answers attribute lookups from its keys, and numpy looks `__array_interface__` up on the instance, so a
/// `Bunch` filled with that key handed numpy a pointer of the pickle's choosing; `numpy.negative(x, out)` wrote
/// through it and `numpy.sqrt(b)` called `b.sqrt()`, a forged bound `eval`. The ufuncs are off the allow-list again;
/// a dunder key set on anything but a literal dict, in a `BUILD` state, or in the mapping a `Bunch` is made from is
/// high, and so is a key the scanner cannot read on a `Bunch`.
@Suite struct ModelScannerReview37AttackTests {
    /// The reviewer's `rce_pickle.pkl` (its addresses fit one libpython build; the structure is what matters).
    static let memoryForgery = [UInt8](
        Data(
            base64Encoded:
                "gARjbnVtcHkKbmVnYXRpdmUKKGNudW1weQpuZWdhdGl2ZQooKIoGAAAAAAABY2J1aWx0aW5zCmludAooY251bXB5CmF2ZXJhZ2UK"
                + "KChjc2NpcHkuX2xpYi5hcnJheV9hcGlfY29tcGF0Lm51bXB5Ll9hbGlhc2VzCmFzYXJyYXkKKGNza2xlYXJuLnV0aWxzLl9idW5j"
                + "aApCdW5jaAoodFIoWBMAAABfX2FycmF5X2ludGVyZmFjZV9fKFgFAAAAc2hhcGUodFgHAAAAdHlwZXN0clgDAAAAPGk4WAQAAABk"
                + "YXRhQkAAAABBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBWAYA"
                + "AABvZmZzZXSKAehYBwAAAHZlcnNpb26KAQNkdXRScgAAAACKAyCSAYoAbE4oigEBigEBigH/bHRSdFKKAT6KAf+KAuQAigCKCF9f"
                + "aW1wb3J0ighfXygnb3MnKYoILnN5c3RlbSiKCCd0b3VjaCAvigh0bXAvcmV2M4oINy9wd25lZC2KCHVmdW5jLXBpigZja2xlJymK"
                + "BgAAAAAAAWNidWlsdGlucwppbnQKKGNudW1weQphdmVyYWdlCigoagAAAACKAyCSAYoAbE4oigEBigEBigH/bHRSdFKKAQSKAf+K"
                + "AuQAigCKBHNxcnSKBgAAAAAAAWNidWlsdGlucwppbnQKKGNudW1weQphdmVyYWdlCigoagAAAACKA8ApAYoAbE4oigEBigEBigH/"
                + "bHRSdFJjYnVpbHRpbnMKaW50CihjbnVtcHkKYXZlcmFnZQooKGoAAAAAigOArAGKAGxOKIoBAYoBAYoB/2x0UnRSigCKAIoAY2J1"
                + "aWx0aW5zCmludAooY251bXB5CmF2ZXJhZ2UKKChqAAAAAIoDEO7VigBsTiiKAQGKAQGKAf9sdFJ0UooGAAAAAAABY2J1aWx0aW5z"
                + "CmludAooY251bXB5CmF2ZXJhZ2UKKChqAAAAAIoCgAyKAGxOKIoBAYoBAYoB/2x0UnRSY2J1aWx0aW5zCmludAooY251bXB5CmF2"
                + "ZXJhZ2UKKChqAAAAAIoDaBQXigBsTiiKAQGKAQGKAf9sdFJ0UmNidWlsdGlucwppbnQKKGNudW1weQphdmVyYWdlCigoagAAAACK"
                + "A8ATF4oAbE4oigEBigEBigH/bHRSdFKKAGNidWlsdGlucwppbnQKKGNudW1weQphdmVyYWdlCigoagAAAACKA8Aq0YoAbE4oigEB"
                + "igEBigH/bHRSdFJjYnVpbHRpbnMKaW50CihjbnVtcHkKYXZlcmFnZQooKGoAAAAAigMwFBeKAGxOKIoBAYoBAYoB/2x0UnRSY2J1"
                + "aWx0aW5zCmludAooY251bXB5CmF2ZXJhZ2UKKChqAAAAAIoDoBQXigBsTiiKAQGKAQGKAf9sdFJ0Umx0UmNzY2lweS5fbGliLmFy"
                + "cmF5X2FwaV9jb21wYXQubnVtcHkuX2FsaWFzZXMKYXNhcnJheQooY3NrbGVhcm4udXRpbHMuX2J1bmNoCkJ1bmNoCih0UihYEwAA"
                + "AF9fYXJyYXlfaW50ZXJmYWNlX18oWAUAAABzaGFwZSiKASR0WAcAAAB0eXBlc3RyWAMAAAA8aThYBAAAAGRhdGEoY2J1aWx0aW5z"
                + "CmludAooY251bXB5CmF2ZXJhZ2UKKChqAAAAAIoDwBMXigBsTiiKAQGKAQGKAf9sdFJ0Uol0WAcAAAB2ZXJzaW9uigEDZHV0UnRS"
                + "MGNudW1weQpzcXJ0CihjY29weXJlZwpfcmVjb25zdHJ1Y3RvcgooY3NrbGVhcm4udXRpbHMuX2J1bmNoCkJ1bmNoCmNidWlsdGlu"
                + "cwpkaWN0CmNidWlsdGlucwpkaWN0Cihjc2NpcHkuX2xpYi5hcnJheV9hcGlfY29tcGF0Lm51bXB5Ll9hbGlhc2VzCmFzYXJyYXkK"
                + "KGNza2xlYXJuLnV0aWxzLl9idW5jaApCdW5jaAoodFIoWBMAAABfX2FycmF5X2ludGVyZmFjZV9fKFgFAAAAc2hhcGUoigEBigEC"
                + "dFgHAAAAdHlwZXN0clgCAAAAfE9YBAAAAGRhdGEoY2J1aWx0aW5zCmludAooY251bXB5CmF2ZXJhZ2UKKChqAAAAAIoD0BQXigBs"
                + "TiiKAQGKAQGKAf9sdFJ0Uol0WAcAAAB2ZXJzaW9uigEDZHV0UnRSdFJ0UjAoWAUAAABtb2RlbFgCAAAAb2tkLg==")!)

    @Test func theReviewersFileIsRefused() {
        let report = ModelScanner().scan(bytes: Self.memoryForgery, name: "model.pkl")
        #expect(report.isRefusedByDefault, "\(report.findings)")
        #expect(report.has("pickle.fill-attribute-key"), "\(report.findings)")
    }

    /// `copyreg._reconstructor(Bunch, dict, {})` filled by `SETITEMS` with `__array_interface__`.
    @Test func aDunderKeyFilledIntoABunchIsHigh() {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("copyreg", "_reconstructor")
        p.global("sklearn.utils._bunch", "Bunch")
        p.global("builtins", "dict")
        p.emptyDict()
        p.raw([0x87, 0x52])  // TUPLE3, REDUCE
        p.raw([0x28])  // MARK
        p.shortUnicode("__array_interface__")
        p.emptyDict()
        p.raw([0x75])  // SETITEMS
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("pickle.fill-attribute-key"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// The same key in the mapping the `Bunch` is made from, or a mapping the scanner cannot read there.
    @Test func aBunchMadeFromADunderKeyOrAnUnreadableMappingIsHigh() {
        for computed in [false, true] {
            var p = PickleAssembler()
            p.raw([0x80, 2])
            p.global("copyreg", "_reconstructor")
            p.global("sklearn.utils._bunch", "Bunch")
            p.global("builtins", "dict")
            if computed {
                p.global("builtins", "dict")
                p.raw([0x29, 0x52])  // EMPTY_TUPLE, REDUCE: dict()
            } else {
                p.emptyDict()
                p.shortUnicode("__array_struct__")
                p.raw([0x4B, 0x01, 0x73])  // BININT1 1, SETITEM
            }
            p.raw([0x87, 0x52])  // TUPLE3, REDUCE
            p.stop()
            let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
            #expect(report.has("pickle.fill-attribute-key"), "computed \(computed): \(report.findings)")
        }
    }

    /// A dunder name in a `BUILD` state is high like `__class__`; in a literal dict it is only a key.
    @Test func aDunderNameInAStateIsHighAndInADictIsAKey() {
        var build = PickleAssembler()
        build.raw([0x80, 2])
        build.global("collections", "OrderedDict")
        build.raw([0x29, 0x52])  // EMPTY_TUPLE, REDUCE
        build.emptyDict()
        build.shortUnicode("__array_interface__")
        build.raw([0x4B, 0x01, 0x73, 0x62])  // BININT1 1, SETITEM, BUILD
        build.stop()
        let built = ModelScanner().scan(bytes: build.bytes, name: "model.pkl")
        #expect(built.isRefusedByDefault, "\(built.findings)")

        var plain = PickleAssembler()
        plain.raw([0x80, 2])
        plain.emptyDict()
        plain.shortUnicode("__version__")
        plain.raw([0x4B, 0x01, 0x73])  // BININT1 1, SETITEM
        plain.stop()
        let dict = ModelScanner().scan(bytes: plain.bytes, name: "model.pkl")
        #expect(dict.findings.isEmpty, "\(dict.findings)")
    }

    /// `numpy.matrix(m)` is `m` when `m` is a matrix: a `BUILD` on what it returns is high.
    @Test func aBuildOnWhatNumpyMatrixReturnsIsHigh() {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("numpy", "matrix")
        p.raw([0x4B, 0x01, 0x85, 0x52])  // BININT1 1, TUPLE1, REDUCE
        p.emptyDict()
        p.raw([0x62])  // BUILD
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("pickle.build-on-passthrough"), "\(report.findings)")
    }
}
