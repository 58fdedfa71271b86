import Foundation
import Testing

@testable import ModelScan

/// `STACK_GLOBAL` on operands that are certainly not `str`: CPython (and joblib's unpickler) raise there, so nothing
/// after it runs. `pickle.load` of a default `joblib.dump` of `KBinsDiscretizer` meets it: the object array's nested
/// pickle, read in the outer memo, names the estimator itself as a module. Calls whose result may be a `str` stay
/// unresolved (high).
@Suite struct PickleInterpreterStackGlobalTests {
    /// `joblib.dump(KBinsDiscretizer(n_bins=4, encode="ordinal").fit(X))`, scikit-learn 1.9.1, default protocol.
    static let binsDiscretizer = [UInt8](
        Data(
            base64Encoded:
                "gAWVtgEAAAAAAACMJXNrbGVhcm4ucHJlcHJvY2Vzc2luZy5fZGlzY3JldGl6YXRpb26UjBBLQmluc0Rpc2NyZXRpemVylJOUKYGU"
                + "fZQojAZuX2JpbnOUSwSMBmVuY29kZZSMB29yZGluYWyUjAhzdHJhdGVneZSMCHF1YW50aWxllIwPcXVhbnRpbGVfbWV0aG9klIwV"
                + "YXZlcmFnZWRfaW52ZXJ0ZWRfY2RmlIwFZHR5cGWUTowJc3Vic2FtcGxllEpADQMAjAxyYW5kb21fc3RhdGWUTowObl9mZWF0dXJl"
                + "c19pbl+USwOMCmJpbl9lZGdlc1+UjBNqb2JsaWIubnVtcHlfcGlja2xllIwRTnVtcHlBcnJheVdyYXBwZXKUk5QpgZR9lCiMCHN1"
                + "YmNsYXNzlIwFbnVtcHmUjAduZGFycmF5lJOUjAVzaGFwZZRLA4WUjAVvcmRlcpSMAUOUaAxoF4wFZHR5cGWUk5SMAk84lImIh5RS"
                + "lChLA4wBfJROTk5K/////0r/////Sz90lGKMCmFsbG93X21tYXCUiYwbbnVtcHlfYXJyYXlfYWxpZ25tZW50X2J5dGVzlEsQdWKA"
                + "BZWXAQAAAAAAAIwWbnVtcHkuX2NvcmUubXVsdGlhcnJheZSMDF9yZWNvbnN0cnVjdJSTlIwFbnVtcHmUjAduZGFycmF5lJOUSwCF"
                + "lEMBYpSHlFKUKEsBSwOFlGgDjAVkdHlwZZSTlIwCTziUiYiHlFKUKEsDjAF8lE5OTkr/////Sv////9LP3SUYoldlCiME251bXB5"
                + "Ll9jb3JlLm51bWVyaWOUjAtfZnJvbWJ1ZmZlcpSTlCiWKAAAAAAAAAAAavpKkDtzP3qgUPvtNdA/DXjqWr3Y4T+/qWWo/lLmP0UN"
                + "OXigQe8/lGgMjAJmOJSJiIeUUpQoSwOMATyUTk5OSv////9K/////0sAdJRiSwWFlIwBQ5R0lFKUaBUoligAAAAAAAAAwHN9KaI9"
                + "kz+QMdZfghnSP+sXCADe9t4/KK3KWUGG5j/M9tUrwqDvP5RoGUsFhZRoHXSUUpRoFSiWKAAAAAAAAAAI88tKay+yP/A2Cx/WWdQ/"
                + "T2X+0tzM4j8yLLdSGProP9ZTXf+N9u8/lGgZSwWFlGgddJRSlGV0lGIulVEAAAAAAAAAjAduX2JpbnNflGgTKYGUfZQoaBZoGWga"
                + "SwOFlGgcaB1oDGgfjAJpOJSJiIeUUpQoSwOMATyUTk5OSv////9K/////0sAdJRiaCWIaCZLEHViAv//BAAAAAAAAAAEAAAAAAAA"
                + "AAQAAAAAAAAAlR4AAAAAAAAAjBBfc2tsZWFybl92ZXJzaW9ulIwFMS45LjGUdWIu")!)

    /// The same model dumped with `protocol=2`: `pickle.load` imports `n_bins.dtype` (module `n_bins`).
    static let binsDiscretizerProtocol2 = [UInt8](
        Data(
            base64Encoded:
                "gAJjc2tsZWFybi5wcmVwcm9jZXNzaW5nLl9kaXNjcmV0aXphdGlvbgpLQmluc0Rpc2NyZXRpemVyCnEAKYFxAX1xAihYBgAAAG5f"
                + "Ymluc3EDSwRYBgAAAGVuY29kZXEEWAcAAABvcmRpbmFscQVYCAAAAHN0cmF0ZWd5cQZYCAAAAHF1YW50aWxlcQdYDwAAAHF1YW50"
                + "aWxlX21ldGhvZHEIWBUAAABhdmVyYWdlZF9pbnZlcnRlZF9jZGZxCVgFAAAAZHR5cGVxCk5YCQAAAHN1YnNhbXBsZXELSkANAwBY"
                + "DAAAAHJhbmRvbV9zdGF0ZXEMTlgOAAAAbl9mZWF0dXJlc19pbl9xDUsDWAoAAABiaW5fZWRnZXNfcQ5jam9ibGliLm51bXB5X3Bp"
                + "Y2tsZQpOdW1weUFycmF5V3JhcHBlcgpxDymBcRB9cREoWAgAAABzdWJjbGFzc3ESY251bXB5Cm5kYXJyYXkKcRNYBQAAAHNoYXBl"
                + "cRRLA4VxFVgFAAAAb3JkZXJxFlgBAAAAQ3EXaApjbnVtcHkKZHR5cGUKcRhYAgAAAE84cRmJiIdxGlJxGyhLA1gBAAAAfHEcTk5O"
                + "Sv////9K/////0s/dHEdYlgKAAAAYWxsb3dfbW1hcHEeiVgbAAAAbnVtcHlfYXJyYXlfYWxpZ25tZW50X2J5dGVzcR9LEHVigAWV"
                + "lwEAAAAAAACMFm51bXB5Ll9jb3JlLm11bHRpYXJyYXmUjAxfcmVjb25zdHJ1Y3SUk5SMBW51bXB5lIwHbmRhcnJheZSTlEsAhZRD"
                + "AWKUh5RSlChLAUsDhZRoA4wFZHR5cGWUk5SMAk84lImIh5RSlChLA4wBfJROTk5K/////0r/////Sz90lGKJXZQojBNudW1weS5f"
                + "Y29yZS5udW1lcmljlIwLX2Zyb21idWZmZXKUk5QoligAAAAAAAAAAGr6SpA7cz96oFD77TXQPw146lq92OE/v6llqP5S5j9FDTl4"
                + "oEHvP5RoDIwCZjiUiYiHlFKUKEsDjAE8lE5OTkr/////Sv////9LAHSUYksFhZSMAUOUdJRSlGgVKJYoAAAAAAAAAMBzfSmiPZM/"
                + "kDHWX4IZ0j/rFwgA3vbePyityllBhuY/zPbVK8Kg7z+UaBlLBYWUaB10lFKUaBUoligAAAAAAAAACPPLSmsvsj/wNgsf1lnUP09l"
                + "/tLczOI/Miy3Uhj66D/WU13/jfbvP5RoGUsFhZRoHXSUUpRldJRiLlgHAAAAbl9iaW5zX3EgaA8pgXEhfXEiKGgSaBNoFEsDhXEj"
                + "aBZoF2gKaBhYAgAAAGk4cSSJiIdxJVJxJihLA1gBAAAAPHEnTk5OSv////9K/////0sAdHEoYmgeiGgfSxB1YhD/////////////"
                + "////////BAAAAAAAAAAEAAAAAAAAAAQAAAAAAAAAWBAAAABfc2tsZWFybl92ZXJzaW9ucSlYBQAAADEuOS4xcSp1Yi4=")!)

    @Test func aStackGlobalOnANumberIsHighAndEndsThePickle() {
        var p = PickleAssembler()
        p.raw([0x80, 4])
        p.binInt1(7)
        p.shortUnicode("system")
        p.stackGlobal()
        p.global("os", "system")
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("pickle.stack-global-not-text"), "\(report.findings)")
        #expect(!report.has("pickle.global.unresolved"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    @Test func anEstimatorInstanceIsNotText() {
        var p = PickleAssembler()
        p.raw([0x80, 4])
        p.global("sklearn.preprocessing._discretization", "KBinsDiscretizer")
        p.emptyTuple()
        p.newObj()
        p.shortUnicode("dtype")
        p.stackGlobal()
        p.stop()
        #expect(ModelScanner().scan(bytes: p.bytes, name: "model.pkl").has("pickle.stack-global-not-text"))
    }

    /// `str("os")` is a `str`: taken as "not text", the reading would stop before the import `pickle.load` makes.
    @Test func aCallThatMayReturnTextStaysUnresolved() {
        var p = PickleAssembler()
        p.raw([0x80, 4])
        p.global("builtins", "str")
        p.shortUnicode("os")
        p.tuple1()
        p.reduce()
        p.shortUnicode("system")
        p.stackGlobal()
        p.shortUnicode("id")
        p.tuple1()
        p.reduce()
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("pickle.global.unresolved"), "\(report.findings)")
        #expect(!report.has("pickle.stack-global-not-text"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// A global may be a `str` (`os.sep`); an allowed function's value is not known to the scanner either.
    @Test func aGlobalAsAnOperandStaysUnresolved() {
        var p = PickleAssembler()
        p.raw([0x80, 4])
        p.global("numpy", "mean")
        p.shortUnicode("system")
        p.stackGlobal()
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("pickle.global.unresolved"), "\(report.findings)")
    }

    /// A class scikit-learn defines, imported from its own module, is a class, never text: a `STACK_GLOBAL` on it
    /// ends the reading as CPython's "STACK_GLOBAL requires str" does (protocol 2 and 3 joblib dumps of
    /// MultiLabelBinarizer reach this in the `pickle.load` reading).
    @Test func anSklearnClassAsAnOperandIsNotText() {
        var p = PickleAssembler()
        p.raw([0x80, 4])
        p.global("sklearn.preprocessing._label", "MultiLabelBinarizer")
        p.shortUnicode("system")
        p.stackGlobal()
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("pickle.stack-global-not-text"), "\(report.findings)")
        #expect(!report.has("pickle.global.unresolved"), "\(report.findings)")
    }

    /// `FiniteStatus` with `_value2member_map_ = {0: 'os'}` set by a slot-state `BUILD`, then `FiniteStatus(0)`, an
    /// Enum lookup that returns `'os'`, as a module name (the payload of scanner review 14's proof).
    private static func enumTurnedIntoText(buildingOn target: (inout PickleAssembler) -> Void) -> [UInt8] {
        var p = PickleAssembler()
        target(&p)
        p.none()
        p.emptyDict()
        p.binUnicode("_value2member_map_")
        p.emptyDict()
        p.binInt1(0)
        p.binUnicode("os")
        p.setItem()
        p.setItem()
        p.tuple2()
        p.build()
        p.global("sklearn.utils._isfinite", "FiniteStatus")
        p.binInt1(0)
        p.tuple1()
        p.reduce()
        p.binUnicode("system")
        p.stackGlobal()
        p.binUnicode("touch /tmp/pwned")
        p.tuple1()
        p.reduce()
        p.stop()
        return p.bytes
    }

    /// A joblib file whose one array of bytes is `payload`: joblib reads it as data, `pickle.load` runs it.
    static func joblibArray(holding payload: [UInt8]) -> [UInt8] {
        var p = ModelScannerReview6AttackTests.wrapper(code: "u1", count: payload.count)
        p.raw(payload)
        p.stop()
        return p.bytes
    }

    /// Scanner review 14: the payload hidden in a joblib array of bytes, which `pickle.load` runs. The BUILD on the
    /// class is carried over from that reading now, and the Enum call's result is no longer taken as "not text".
    @Test func aClassChangedByBuildMakesItsCallsUnknownInTheArrayReading() {
        let payload = Self.enumTurnedIntoText { $0.global("sklearn.utils._isfinite", "FiniteStatus") }
        let report = ModelScanner().scan(bytes: Self.joblibArray(holding: payload), name: "model.joblib")
        #expect(report.has("pickle.build-on-global", "FiniteStatus"), "\(report.findings)")
        #expect(report.has("pickle.global.unresolved"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// Scanner review 15: CPython reads INT, LONG, GET and PUT lines as C strings, which end at the first NUL, and
    /// glibc's `strtol` leaves an INT line that starts with NUL at 0, accepted. Each line below ended the scanner's
    /// `pickle.load` reading of joblib array bytes, and the call after it went unseen; `pickle.loads` runs all four.
    @Test func numberLinesAreReadAsCStringsAsCPythonReadsThem() {
        let junk = [UInt8](repeating: 0x78, count: 5000)
        let lines: [[UInt8]] = [
            Array("I".utf8) + [0, 0x0A],
            Array("I5".utf8) + [0] + junk + [0x0A],
            Array("L7".utf8) + [0] + junk + [0x0A],
            Array("Np0".utf8) + [0] + junk.prefix(300) + [0x0A],
            // Scanner review 16: leading zeros do not make a memo key too long (70 zeros, then 1, is key 1).
            Array("Np".utf8) + Array(repeating: 0x30, count: 70) + Array("1\n".utf8),
            Array("Nq\u{01}g".utf8) + Array(repeating: 0x30, count: 70) + Array("1\n".utf8),
        ]
        for line in lines {
            var call = PickleAssembler()
            call.raw(line + Array("0".utf8))  // POP what the line pushed
            call.global("os", "system")
            call.string("'id'")
            call.tuple1()
            call.reduce()
            call.stop()
            let report = ModelScanner().scan(bytes: Self.joblibArray(holding: call.bytes), name: "model.joblib")
            #expect(report.has("pickle.global.dangerous", "os.system"), "\(line.prefix(4)): \(report.findings)")
        }
    }

    /// Scanner review 16: a file without PROTO is first tried as a pickle; a memo key it could not read ended the
    /// trial without a finding it keeps, so the file was only "unrecognised" and `os.system` after it went unseen.
    @Test func aPickleWithoutProtoIsScannedPastALongMemoKey() {
        var p = PickleAssembler()
        p.raw(Array("Np".utf8) + Array(repeating: 0x30, count: 70) + Array("0\n0".utf8))
        p.global("os", "system")
        p.string("'id'")
        p.tuple1()
        p.reduce()
        p.stop()
        for name in ["model.bin", "weights.data"] {
            let report = ModelScanner().scan(bytes: p.bytes, name: name)
            #expect(report.has("pickle.global.dangerous", "os.system"), "\(name): \(report.findings)")
        }
        // A numeric-looking key CPython refuses too (`1__2`) is high, not a quiet end of the reading.
        var bad = PickleAssembler()
        bad.raw(Array("Np1__2\n0".utf8))
        bad.stop()
        #expect(ModelScanner().scan(bytes: bad.bytes, name: "model.bin").has("pickle.invalid-number", "PUT"))
    }

    /// Scanner review 17: `newObj(cls)` (allowed for k-d trees) makes `cls.__new__(cls)`. Handed the wrapper class
    /// read back past the memo bound, or through `numpy.object_(C)` (which is `C`), it made a NumpyArrayWrapper the
    /// scanner did not see, so joblib read 64 array bytes that the scanner read as a BINBYTES hiding `os.system`.
    @Test func aWrapperMadeByNewObjFromAnUnseenClassIsHigh() {
        var hidden = PickleAssembler()
        hidden.global("os", "system")
        hidden.string("'id'")
        hidden.tuple1()
        hidden.reduce()
        var arrayBytes: [UInt8] = [0x42] + le(UInt64(59 + hidden.bytes.count), 4) + [UInt8](repeating: 0, count: 59)
        arrayBytes += hidden.bytes
        let classes: [(String, (inout PickleAssembler) -> Void)] = [
            (
                "past the memo bound",
                { p in
                    p.shortUnicode("a")
                    p.raw([UInt8](repeating: 0x94, count: PickleMemo.maxNameValues) + [0x30])
                    p.global("joblib.numpy_pickle", "NumpyArrayWrapper")
                    p.memoize()
                    p.raw([0x30, 0x6A] + le(UInt64(PickleMemo.maxNameValues), 4))  // POP, LONG_BINGET
                }
            ),
            (
                "numpy.object_",
                { p in
                    p.global("numpy", "object_")
                    p.global("joblib.numpy_pickle", "NumpyArrayWrapper")
                    p.tuple1()
                    p.reduce()
                }
            ),
        ]
        for (label, pushClass) in classes {
            var p = PickleAssembler()
            p.raw([0x80, 4])
            p.global("sklearn.neighbors._kd_tree", "newObj")
            pushClass(&p)
            p.tuple1()
            p.reduce()
            ModelScannerReview6AttackTests.buildWrapper(&p, code: "u1", count: 64)
            p.raw(arrayBytes)
            p.stop()
            let report = ModelScanner().scan(bytes: p.bytes, name: "model.joblib")
            #expect(report.has("joblib.wrapper-indirect", "newObj"), "\(label): \(report.findings)")
            #expect(report.isRefusedByDefault, "\(label)")
        }
    }

    /// Scanner review 18: joblib's pure-Python unpickler calls `func(*args)` with any iterable, so
    /// `newObj(*[NumpyArrayWrapper])` made a wrapper that no check saw; a call's arguments that are not a tuple are high.
    @Test func aCallWithArgumentsThatAreNotATupleIsHigh() {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("sklearn.neighbors._kd_tree", "newObj")
        p.mark()
        p.global("joblib.numpy_pickle", "NumpyArrayWrapper")
        p.op("l")  // LIST
        p.reduce()
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.joblib")
        #expect(report.has("pickle.call-arguments", "REDUCE"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// Scanner review 18: a slot state made by `builtins.dict([['__class__', W]])`, which `pickle` applies with
    /// `setattr`, turned an object into a NumpyArrayWrapper; a slot state the scanner cannot read names the class.
    @Test func aSlotStateBuiltByACallMayNameTheClass() {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("sklearn.model_selection._split", "KFold")
        p.emptyTuple()
        p.reduce()
        p.emptyDict()
        p.global("builtins", "dict")
        p.mark()
        p.mark()
        p.binUnicode("__class__")
        p.global("joblib.numpy_pickle", "NumpyArrayWrapper")
        p.op("l")
        p.op("l")
        p.tuple1()
        p.reduce()
        p.tuple2()
        p.build()
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.joblib")
        #expect(report.has("pickle.build-class", "__class__"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// Scanner review 19: the unpicklers look `__setstate__` up on the instance, so a first `BUILD` that set it made
    /// joblib ignore the second state, which the scanner sized the array from; joblib also calls `read` on the
    /// wrapper. A state that sets either is high.
    @Test func aStateThatSetsSetstateOrReadIsHigh() {
        for (key, rule) in [("__setstate__", "pickle.build-class"), ("read", "joblib.array-unknown")] {
            var p = ModelScannerReview6AttackTests.wrapper(code: "u1", count: 8) { p in
                p.binUnicode(key)
                p.global("builtins", "str")
            }
            p.raw([UInt8](repeating: 0x2E, count: 8))
            p.stop()
            let report = ModelScanner().scan(bytes: p.bytes, name: "model.joblib")
            #expect(report.has(rule), "\(key): \(report.findings)")
            #expect(report.isRefusedByDefault, "\(key)")
        }
    }

    /// `numpy.object_(C)` is `C`: a BUILD on that call's result changes the class as a BUILD on the global does.
    @Test func aClassChangedThroughACallResultMakesItsCallsUnknown() {
        let bytes = Self.enumTurnedIntoText { p in
            p.global("numpy", "object_")
            p.global("sklearn.utils._isfinite", "FiniteStatus")
            p.tuple1()
            p.reduce()
        }
        let report = ModelScanner().scan(bytes: bytes, name: "model.pkl")
        #expect(report.has("pickle.global.unresolved"), "\(report.findings)")
        #expect(!report.has("pickle.stack-global-not-text"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// Reductions that can return an element unchanged (`numpy.max([C])` is `C`) stay off the allow-list.
    @Test func reductionsThatReturnAnElementAreNotAllowed() {
        for name in ["sum", "max", "min", "amax", "amin", "nansum", "nanmax", "nanmin"] {
            #expect(GlobalPolicy.verdict(module: "numpy", name: name, protocol: 4) == .unknown, "numpy.\(name)")
        }
        #expect(GlobalPolicy.verdict(module: "numpy", name: "mean", protocol: 4) == .allowed)
    }

    @Test func aDefaultDumpOfBinsDiscretizerPasses() {
        let report = ModelScanner().scan(bytes: Self.binsDiscretizer, name: "model.joblib")
        #expect(!report.isRefusedByDefault, "\(report.findings)")
        #expect(report.findings.isEmpty, "\(report.findings)")
    }

    /// In protocol 2 and 3 dumps, `pickle.load` imports a name made of the model's attribute names (`n_bins`), a
    /// module no ordinary machine has: medium, refused by the strict policy only.
    @Test func aProtocol2DumpOfBinsDiscretizerPassesWithAMediumFindingForWhatPickleLoadImports() {
        let report = ModelScanner().scan(bytes: Self.binsDiscretizerProtocol2, name: "model.joblib")
        #expect(report.refused(by: .default).isEmpty, "\(report.findings)")
        let strict = report.refused(by: .strict)
        #expect(strict.map(\.subject) == ["n_bins.dtype"], "\(report.findings)")
        #expect(strict.allSatisfy { $0.rule == "pickle.global.uncommon-module" && $0.severity == .medium })
        #expect(strict.allSatisfy { $0.message.hasSuffix("but pickle.load runs)") })
    }
}
