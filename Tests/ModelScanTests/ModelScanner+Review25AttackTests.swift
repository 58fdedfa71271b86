import Foundation
import Testing

@testable import ModelScan

/// The bypass of the twenty-fifth adversarial review of the scanner (2026-12-05): a BUILD on an object without
/// `__setstate__` (`sklearn.utils.deprecation.deprecated()`) whose state the scanner could not read as a literal (a
/// `tuple(...)` call, a namedtuple, a dict subclass other than `Bunch`) applied a slot state with `setattr` that set
/// `__class__` to NumpyArrayWrapper; joblib then read array bytes that hid `os.system` (0 findings before). The
/// payloads run `touch /nonexistent/review25-N` under `joblib.load`.
@Suite struct ModelScannerReview25AttackTests {
    /// (a) `builtins.tuple([None, {'__class__': NumpyArrayWrapper, …}])` as the BUILD state.
    static let tupleCallSlotState = [UInt8](
        Data(
            base64Encoded:
                "gAJjc2tsZWFybi51dGlscy5kZXByZWNhdGlvbgpkZXByZWNhdGVkCilSY2J1aWx0aW5zCnR1cGxlCl0oTn0ojAlfX2NsYXNzX19j"
                + "am9ibGliLm51bXB5X3BpY2tsZQpOdW1weUFycmF5V3JhcHBlcgqMCHN1YmNsYXNzY251bXB5Cm5kYXJyYXkKjAVzaGFwZUsFhYwF"
                + "b3JkZXKMAUOMBWR0eXBlY251bXB5CmR0eXBlCowCdTGFUowKYWxsb3dfbW1hcImMG251bXB5X2FycmF5X2FsaWdubWVudF9ieXRl"
                + "c051ZYVSYkIsAAAAY29zCnN5c3RlbQqMHXRvdWNoIC9ub25leGlzdGVudC9yZXZpZXcyNS0xhVIwLg=="
        )!)

    /// (b) `(None, sklearn.utils._encode._nandict({}))`, the dict subclass filled by SETITEMS.
    static let dictSubclassSlotState = [UInt8](
        Data(
            base64Encoded:
                "gAJjc2tsZWFybi51dGlscy5kZXByZWNhdGlvbgpkZXByZWNhdGVkCilSTmNza2xlYXJuLnV0aWxzLl9lbmNvZGUKX25hbmRpY3QK"
                + "fYVSKIwJX19jbGFzc19fY2pvYmxpYi5udW1weV9waWNrbGUKTnVtcHlBcnJheVdyYXBwZXIKjAhzdWJjbGFzc2NudW1weQpuZGFy"
                + "cmF5CowFc2hhcGVLBYWMBW9yZGVyjAFDjAVkdHlwZWNudW1weQpkdHlwZQqMAnUxhVKMCmFsbG93X21tYXCJjBtudW1weV9hcnJh"
                + "eV9hbGlnbm1lbnRfYnl0ZXNOdYZiQiwAAABjb3MKc3lzdGVtCowddG91Y2ggL25vbmV4aXN0ZW50L3JldmlldzI1LTKFUjAu"
        )!)

    /// (c) the namedtuple `MethodPair(None, d)`, `d` memoised and filled through GET + SETITEMS after the call.
    static let namedTupleWithAMemoisedSlotState = [UInt8](
        Data(
            base64Encoded:
                "gAJjc2tsZWFybi51dGlscy5kZXByZWNhdGlvbgpkZXByZWNhdGVkCilSY3NrbGVhcm4udXRpbHMuX21ldGFkYXRhX3JlcXVlc3Rz"
                + "Ck1ldGhvZFBhaXIKTn1xAYZSaAEojAlfX2NsYXNzX19jam9ibGliLm51bXB5X3BpY2tsZQpOdW1weUFycmF5V3JhcHBlcgqMCHN1"
                + "YmNsYXNzY251bXB5Cm5kYXJyYXkKjAVzaGFwZUsFhYwFb3JkZXKMAUOMBWR0eXBlY251bXB5CmR0eXBlCowCdTGFUowKYWxsb3df"
                + "bW1hcImMG251bXB5X2FycmF5X2FsaWdubWVudF9ieXRlc051MGJCLAAAAGNvcwpzeXN0ZW0KjB10b3VjaCAvbm9uZXhpc3RlbnQv"
                + "cmV2aWV3MjUtM4VSMC4="
        )!)

    /// (d) `_rebuild_from_type_v2(deprecated, deprecated, (), _nandict(…))`: torch's `_set_obj_state` sets each key.
    static let dictSubclassStateOfARebuild = [UInt8](
        Data(
            base64Encoded:
                "gAJjdG9yY2guX3RlbnNvcgpfcmVidWlsZF9mcm9tX3R5cGVfdjIKKGNza2xlYXJuLnV0aWxzLmRlcHJlY2F0aW9uCmRlcHJlY2F0"
                + "ZWQKY3NrbGVhcm4udXRpbHMuZGVwcmVjYXRpb24KZGVwcmVjYXRlZAopY3NrbGVhcm4udXRpbHMuX2VuY29kZQpfbmFuZGljdAp9"
                + "hVIojAlfX2NsYXNzX19jam9ibGliLm51bXB5X3BpY2tsZQpOdW1weUFycmF5V3JhcHBlcgqMCHN1YmNsYXNzY251bXB5Cm5kYXJy"
                + "YXkKjAVzaGFwZUsFhYwFb3JkZXKMAUOMBWR0eXBlY251bXB5CmR0eXBlCowCdTGFUowKYWxsb3dfbW1hcImMG251bXB5X2FycmF5"
                + "X2FsaWdubWVudF9ieXRlc051dFJ9YkIsAAAAY29zCnN5c3RlbQqMHXRvdWNoIC9ub25leGlzdGVudC9yZXZpZXcyNS00hVIwLg=="
        )!)

    @Test(arguments: [
        ("tuple call", tupleCallSlotState), ("dict subclass", dictSubclassSlotState),
        ("namedtuple", namedTupleWithAMemoisedSlotState), ("rebuild state", dictSubclassStateOfARebuild),
    ])
    func aStateTheScannerCannotReadIsRefusedOnAnObjectWithoutSetstate(_ label: String, _ bytes: [UInt8]) {
        let report = ModelScanner().scan(bytes: bytes, name: "model.joblib")
        #expect(report.has("pickle.build-opaque-state"), "\(label): \(report.findings)")
        #expect(report.isRefusedByDefault, "\(label)")
    }

    /// Objects whose class defines `__setstate__` take any state: real scikit-learn dumps give RandomState a pair of
    /// call results, and the scanner must not refuse them (the interop suite scans 167 estimators six ways).
    @Test func whichTargetsHaveSetstate() {
        let randomState = PickleValue.object(callable: "numpy.random._pickle.__randomstate_ctor", args: [])
        #expect(PickleInterpreter.hasSetstate(randomState))
        let estimator = PickleValue.object(callable: "sklearn.linear_model._logistic.LogisticRegression", args: [])
        #expect(PickleInterpreter.hasSetstate(estimator))
        let array = PickleValue.object(
            callable: "numpy.core.multiarray._reconstruct", args: [.global(module: "numpy", name: "ndarray")])
        #expect(PickleInterpreter.hasSetstate(array))
        let wrapper = PickleValue.object(callable: "joblib.numpy_pickle.NumpyArrayWrapper", args: [])
        #expect(!PickleInterpreter.hasSetstate(wrapper))
        let deprecated = PickleValue.object(callable: "sklearn.utils.deprecation.deprecated", args: [])
        #expect(!PickleInterpreter.hasSetstate(deprecated))
        // `numpy.object_(x)` returns `x`, and a class handed to `_reconstruct` must be a plain global.
        #expect(!PickleInterpreter.hasSetstate(.object(callable: "numpy.object_", args: [])))
        #expect(
            !PickleInterpreter.hasSetstate(.object(callable: "numpy.core.multiarray._reconstruct", args: [.unknown])))
        #expect(!PickleInterpreter.hasSetstate(.unknown))
    }
}
