import Foundation
import Testing

@testable import ModelScan

/// Callables that fitted models hold as values: numpy's ufuncs (`FunctionTransformer(numpy.log1p)`), a
/// `functools.partial` of `check_array` (HistGradientBoosting with categorical features), scipy's sparse classes.
/// Held, they pass; called by the pickle, or given a state other than Python's own, they are high.
@Suite struct PickleInterpreterHeldCallablesTests {
    /// `partial(check_array)`, then BUILD with `(check_array, (), keywords, dictState)` as Python writes it.
    private static func partial(
        keywords: Bool = true, dictState: (inout PickleAssembler) -> Void = { $0.none() }
    )
        -> PickleAssembler
    {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("functools", "partial")
        p.global("sklearn.utils.validation", "check_array")
        p.tuple1()
        p.reduce()
        p.mark()
        p.global("sklearn.utils.validation", "check_array")
        p.emptyTuple()
        if keywords {
            p.emptyDict()
            p.shortUnicode("ensure_all_finite")
            p.raw([0x89])  // NEWFALSE
            p.setItem()
        } else {
            p.none()
        }
        dictState(&p)
        p.tuple()
        p.build()
        return p
    }

    @Test(arguments: [true, false])
    func aPartialAsPythonWritesItPasses(_ keywords: Bool) {
        var p = Self.partial(keywords: keywords)
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(!report.isRefusedByDefault, "\(report.findings)")
    }

    /// `partial.__setstate__` keeps the fourth item as the instance's `__dict__` itself: a mapping there could set
    /// `__setstate__` (called by the next BUILD) or `__array_interface__`, now or later through the memo.
    @Test func aPartialWhoseStateHoldsADictIsHigh() {
        var p = Self.partial { p in
            p.emptyDict()
            p.shortUnicode("__setstate__")
            p.global("numpy", "log1p")
            p.setItem()
        }
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("pickle.partial-state"), "\(report.findings)")
        var empty = Self.partial { $0.emptyDict() }
        empty.stop()
        #expect(ModelScanner().scan(bytes: empty.bytes, name: "model.pkl").has("pickle.partial-state"))
    }

    @Test func aPartialOfAComputedValueIsHigh() {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("functools", "partial")
        p.global("builtins", "dict")
        p.emptyTuple()
        p.reduce()
        p.tuple1()
        p.reduce()
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("pickle.partial-state", "functools.partial"), "\(report.findings)")
    }

    /// A partial is a call waiting to be made with the arguments it holds: torch's `Parameter(data)` calls
    /// `data.detach()`, so `partial(_rebuild_from_type_v2, numpy.object_, C, (x,), state)` set as an estimator's
    /// `detach` would make review 30's call unseen. Only `check_array` may be wrapped, by REDUCE or in the state.
    @Test(arguments: [("torch._tensor", "_rebuild_from_type_v2"), ("numpy", "log1p"), ("builtins", "dict")])
    func aPartialOfAnotherFunctionIsHigh(_ module: String, _ name: String) {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("functools", "partial")
        p.global(module, name)
        p.tuple1()
        p.reduce()
        p.stop()
        #expect(ModelScanner().scan(bytes: p.bytes, name: "model.pkl").has("pickle.partial-state"))
        var swapped = PickleAssembler()
        swapped.raw([0x80, 2])
        swapped.global("functools", "partial")
        swapped.global("sklearn.utils.validation", "check_array")
        swapped.tuple1()
        swapped.reduce()
        swapped.mark()
        swapped.global(module, name)
        swapped.emptyTuple()
        swapped.none()
        swapped.none()
        swapped.tuple()
        swapped.build()
        swapped.stop()
        let report = ModelScanner().scan(bytes: swapped.bytes, name: "model.pkl")
        #expect(report.has("pickle.partial-state"), "\(report.findings)")
    }

    @Test func callingAPartialIsHigh() {
        var p = Self.partial()
        p.emptyTuple()
        p.reduce()
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("pickle.call-computed"), "\(report.findings)")
    }

    @Test(arguments: ["log1p", "expm1", "add"])
    func aUfuncHeldPassesAndCalledIsHigh(_ name: String) {
        var held = PickleAssembler()
        held.raw([0x80, 2])
        held.global("numpy", name)
        held.stop()
        #expect(!ModelScanner().scan(bytes: held.bytes, name: "model.pkl").isRefusedByDefault)
        var called = PickleAssembler()
        called.raw([0x80, 2])
        called.global("numpy", name)
        called.raw([0x4B, 0x01, 0x85, 0x52])  // BININT1 1, TUPLE1, REDUCE
        called.stop()
        let report = ModelScanner().scan(bytes: called.bytes, name: "model.pkl")
        #expect(report.has("pickle.call-array-coercion", "numpy.\(name)"), "\(report.findings)")
    }

    @Test func checkArrayCalledIsHigh() {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("sklearn.utils.validation", "check_array")
        p.raw([0x4B, 0x01, 0x85, 0x52])
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("pickle.call-array-coercion"), "\(report.findings)")
    }

    /// `cls.__new__(cls)` (NEWOBJ, what pickle writes) ignores its arguments; calling the class coerces them.
    @Test(arguments: ["dok", "lil", "bsr", "dia", "csr"])
    func aSparseClassIsMadeEmptyAndNeverCalledWithArguments(_ format: String) {
        var made = PickleAssembler()
        made.raw([0x80, 2])
        made.global("scipy.sparse._\(format)", "\(format)_matrix")
        made.emptyTuple()
        made.newObj()
        made.stop()
        #expect(!ModelScanner().scan(bytes: made.bytes, name: "model.pkl").isRefusedByDefault)
        var called = PickleAssembler()
        called.raw([0x80, 2])
        called.global("scipy.sparse._\(format)", "\(format)_array")
        called.raw([0x4B, 0x01, 0x85, 0x52])
        called.stop()
        let report = ModelScanner().scan(bytes: called.bytes, name: "model.pkl")
        #expect(report.has("pickle.call-array-coercion"), "\(report.findings)")
    }
}

/// numpy's random-state makers call their second argument with their first: only numpy's own bit-generator maker
/// may stand there (what numpy writes), so no held callable is called through them.
@Suite struct PickleInterpreterRandomStateMakerTests {
    @Test(arguments: [("numpy", "log1p"), ("sklearn.utils.validation", "check_array"), ("numpy", "mean")])
    func anotherCallableThanNumpysBitGeneratorMakerIsHigh(_ module: String, _ name: String) {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("numpy.random._pickle", "__randomstate_ctor")
        p.shortUnicode("MT19937")
        p.global(module, name)
        p.tuple2()
        p.reduce()
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("numpy.random-ctor"), "\(report.findings)")
    }

    @Test func numpysOwnMakerPasses() {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("numpy.random._pickle", "__generator_ctor")
        p.shortUnicode("MT19937")
        p.global("numpy.random._pickle", "__bit_generator_ctor")
        p.tuple2()
        p.reduce()
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(!report.has("numpy.random-ctor"), "\(report.findings)")
    }
}

/// torch's parameter rebuilds call `data.detach()`, and its device-tensor rebuild `data.to(…)`: handed anything but
/// a tensor torch rebuilt, those are attributes a pickle may have set (scanner review 31's lead).
@Suite struct PickleInterpreterTensorTakerTests {
    @Test(arguments: ["_rebuild_parameter", "_rebuild_device_tensor_from_cpu_tensor"])
    func anEstimatorHandedToAParameterRebuildIsHigh(_ name: String) {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("torch._utils", name)
        p.global("sklearn.preprocessing._data", "StandardScaler")
        p.emptyTuple()
        p.newObj()
        p.newTrue()
        p.tuple2()
        p.reduce()
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("torch.rebuild-argument", "torch._utils.\(name)"), "\(report.findings)")
    }
}
