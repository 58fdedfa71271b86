import Foundation
import Testing

@testable import ModelScan

/// A default-protocol `joblib.dump` of a numpy array of Python objects, alone or in a list. joblib writes the array
/// as a nested pickle after its wrapper's `BUILD`; `pickle.load` (and `numpy.load`, `torch.load`, which read such a
/// file the same way) reads that nested pickle in the outer pickle's memo, where its `BINGET 3` (meant for `'numpy'`)
/// reads the NumpyArrayWrapper instance (alone) or class (in a list), and CPython raises "STACK_GLOBAL requires str".
/// The scanner knows neither is a `str`, so that reading ends there as CPython's does, and the joblib reading, which
/// reads the nested pickle with a fresh unpickler, goes on. In a dict the same `BINGET 3` reads the text
/// `'NumpyArrayWrapper'`, so `pickle.load` imports a module of that name, which no ordinary machine has: medium (see
/// ``anObjectArrayInADictPassesWithAMediumFindingForWhatPickleLoadImports()``).
@Suite struct ModelScannerObjectArrayTests {
    /// `joblib.dump(np.array(['a', 1, None], dtype=object))`, joblib 1.6.0, numpy 2.4.6.
    static let objectArray = [UInt8](
        Data(
            base64Encoded:
                "gASV0QAAAAAAAACME2pvYmxpYi5udW1weV9waWNrbGWUjBFOdW1weUFycmF5V3JhcHBlcpSTlCmBlH2UKIwIc3ViY2xhc3OUjAVu"
                + "dW1weZSMB25kYXJyYXmUk5SMBXNoYXBllEsDhZSMBW9yZGVylIwBQ5SMBWR0eXBllGgGjAVkdHlwZZSTlIwCTziUiYiHlFKUKEsD"
                + "jAF8lE5OTkr/////Sv////9LP3SUYowKYWxsb3dfbW1hcJSJjBtudW1weV9hcnJheV9hbGlnbm1lbnRfYnl0ZXOUSxB1YoAFlZEA"
                + "AAAAAAAAjBZudW1weS5fY29yZS5tdWx0aWFycmF5lIwMX3JlY29uc3RydWN0lJOUjAVudW1weZSMB25kYXJyYXmUk5RLAIWUQwFi"
                + "lIeUUpQoSwFLA4WUaAOMBWR0eXBllJOUjAJPOJSJiIeUUpQoSwOMAXyUTk5OSv////9K/////0s/dJRiiV2UKIwBYZRLAU5ldJRi"
                + "Li4=")!)

    /// `joblib.dump([np.array(['a', 1, None], dtype=object)])`.
    static let objectArrayInAList = [UInt8](
        Data(
            base64Encoded:
                "gASV0wAAAAAAAABdlIwTam9ibGliLm51bXB5X3BpY2tsZZSMEU51bXB5QXJyYXlXcmFwcGVylJOUKYGUfZQojAhzdWJjbGFzc5SM"
                + "BW51bXB5lIwHbmRhcnJheZSTlIwFc2hhcGWUSwOFlIwFb3JkZXKUjAFDlIwFZHR5cGWUaAeMBWR0eXBllJOUjAJPOJSJiIeUUpQo"
                + "SwOMAXyUTk5OSv////9K/////0s/dJRijAphbGxvd19tbWFwlImMG251bXB5X2FycmF5X2FsaWdubWVudF9ieXRlc5RLEHVigAWV"
                + "kQAAAAAAAACMFm51bXB5Ll9jb3JlLm11bHRpYXJyYXmUjAxfcmVjb25zdHJ1Y3SUk5SMBW51bXB5lIwHbmRhcnJheZSTlEsAhZRD"
                + "AWKUh5RSlChLAUsDhZRoA4wFZHR5cGWUk5SMAk84lImIh5RSlChLA4wBfJROTk5K/////0r/////Sz90lGKJXZQojAFhlEsBTmV0"
                + "lGIuYS4=")!)

    /// `joblib.dump({'x': np.array(['a', 1, None], dtype=object)})`.
    static let objectArrayInADict = [UInt8](
        Data(
            base64Encoded:
                "gASV1wAAAAAAAAB9lIwBeJSME2pvYmxpYi5udW1weV9waWNrbGWUjBFOdW1weUFycmF5V3JhcHBlcpSTlCmBlH2UKIwIc3ViY2xh"
                + "c3OUjAVudW1weZSMB25kYXJyYXmUk5SMBXNoYXBllEsDhZSMBW9yZGVylIwBQ5SMBWR0eXBllGgIjAVkdHlwZZSTlIwCTziUiYiH"
                + "lFKUKEsDjAF8lE5OTkr/////Sv////9LP3SUYowKYWxsb3dfbW1hcJSJjBtudW1weV9hcnJheV9hbGlnbm1lbnRfYnl0ZXOUSxB1"
                + "YoAFlZEAAAAAAAAAjBZudW1weS5fY29yZS5tdWx0aWFycmF5lIwMX3JlY29uc3RydWN0lJOUjAVudW1weZSMB25kYXJyYXmUk5RL"
                + "AIWUQwFilIeUUpQoSwFLA4WUaAOMBWR0eXBllJOUjAJPOJSJiIeUUpQoSwOMAXyUTk5OSv////9K/////0s/dJRiiV2UKIwBYZRL"
                + "AU5ldJRiLnMu")!)

    /// ``objectArray`` with `os.system('touch /nonexistent/fp-3')` called after the nested pickle, before the outer
    /// `STOP`: `pickle.load` stops at the nested pickle's `STACK_GLOBAL` on the wrapper, `joblib.load` runs the call.
    static let callAfterAnObjectArray = [UInt8](
        Data(
            base64Encoded:
                "gASV0QAAAAAAAACME2pvYmxpYi5udW1weV9waWNrbGWUjBFOdW1weUFycmF5V3JhcHBlcpSTlCmBlH2UKIwIc3ViY2xhc3OUjAVu"
                + "dW1weZSMB25kYXJyYXmUk5SMBXNoYXBllEsDhZSMBW9yZGVylIwBQ5SMBWR0eXBllGgGjAVkdHlwZZSTlIwCTziUiYiHlFKUKEsD"
                + "jAF8lE5OTkr/////Sv////9LP3SUYowKYWxsb3dfbW1hcJSJjBtudW1weV9hcnJheV9hbGlnbm1lbnRfYnl0ZXOUSxB1YoAFlZEA"
                + "AAAAAAAAjBZudW1weS5fY29yZS5tdWx0aWFycmF5lIwMX3JlY29uc3RydWN0lJOUjAVudW1weZSMB25kYXJyYXmUk5RLAIWUQwFi"
                + "lIeUUpQoSwFLA4WUaAOMBWR0eXBllJOUjAJPOJSJiIeUUpQoSwOMAXyUTk5OSv////9K/////0s/dJRiiV2UKIwBYZRLAU5ldJRi"
                + "LjCMBXBvc2l4jAZzeXN0ZW2TjBd0b3VjaCAvbm9uZXhpc3RlbnQvZnAtM4VSLg==")!)

    /// ``objectArrayInAList`` with `os.system('touch /nonexistent/fp-4')` called after the nested pickle, before the
    /// outer `APPEND`'s `STOP`: `joblib.load` runs it.
    static let callAfterAnObjectArrayInAList = [UInt8](
        Data(
            base64Encoded:
                "gASV0wAAAAAAAABdlIwTam9ibGliLm51bXB5X3BpY2tsZZSMEU51bXB5QXJyYXlXcmFwcGVylJOUKYGUfZQojAhzdWJjbGFzc5SM"
                + "BW51bXB5lIwHbmRhcnJheZSTlIwFc2hhcGWUSwOFlIwFb3JkZXKUjAFDlIwFZHR5cGWUaAeMBWR0eXBllJOUjAJPOJSJiIeUUpQo"
                + "SwOMAXyUTk5OSv////9K/////0s/dJRijAphbGxvd19tbWFwlImMG251bXB5X2FycmF5X2FsaWdubWVudF9ieXRlc5RLEHVigAWV"
                + "kQAAAAAAAACMFm51bXB5Ll9jb3JlLm11bHRpYXJyYXmUjAxfcmVjb25zdHJ1Y3SUk5SMBW51bXB5lIwHbmRhcnJheZSTlEsAhZRD"
                + "AWKUh5RSlChLAUsDhZRoA4wFZHR5cGWUk5SMAk84lImIh5RSlChLA4wBfJROTk5K/////0r/////Sz90lGKJXZQojAFhlEsBTmV0"
                + "lGIuYTCMBXBvc2l4jAZzeXN0ZW2TjBd0b3VjaCAvbm9uZXhpc3RlbnQvZnAtNIVSLg==")!)

    /// `joblib.dump({'os': array})` whose nested pickle is `BINGET 1; 'system'; STACK_GLOBAL; 'touch
    /// /nonexistent/fp-2'; TUPLE1; REDUCE; STOP`: `pickle.load`, `numpy.load` and `torch.load` read `BINGET 1` in the
    /// outer memo, the key `'os'`, and run `os.system`; `joblib.load` fails (memo 1 undefined in the nested pickle).
    static let nestedPickleReadingAnOuterString = [UInt8](
        Data(
            base64Encoded:
                "gASV2AAAAAAAAAB9lIwCb3OUjBNqb2JsaWIubnVtcHlfcGlja2xllIwRTnVtcHlBcnJheVdyYXBwZXKUk5QpgZR9lCiMCHN1YmNs"
                + "YXNzlIwFbnVtcHmUjAduZGFycmF5lJOUjAVzaGFwZZRLA4WUjAVvcmRlcpSMAUOUjAVkdHlwZZRoCIwFZHR5cGWUk5SMAk84lImI"
                + "h5RSlChLA4wBfJROTk5K/////0r/////Sz90lGKMCmFsbG93X21tYXCUiYwbbnVtcHlfYXJyYXlfYWxpZ25tZW50X2J5dGVzlEsQ"
                + "dWKABWgBjAZzeXN0ZW2TjBd0b3VjaCAvbm9uZXhpc3RlbnQvZnAtMoVSLg==")!)

    @Test func aDefaultDumpOfAnObjectArrayPasses() {
        for (name, bytes) in [("alone", Self.objectArray), ("in a list", Self.objectArrayInAList)] {
            let report = ModelScanner().scan(bytes: bytes, name: "model.joblib")
            #expect(report.refused(by: .default).isEmpty, "\(name): \(report.findings)")
        }
    }

    /// The reading that ends at the wrapper is `pickle.load`'s: a call after the nested pickle, which `joblib.load`
    /// runs, is still found in the joblib reading.
    @Test func aCallAfterTheObjectArrayIsStillCritical() {
        for (name, bytes) in [
            ("alone", Self.callAfterAnObjectArray), ("in a list", Self.callAfterAnObjectArrayInAList),
        ] {
            let report = ModelScanner().scan(bytes: bytes, name: "model.joblib")
            #expect(report.has("pickle.global.dangerous", "posix.system"), "\(name): \(report.findings)")
            #expect(report.isRefusedByDefault)
        }
    }

    /// A nested pickle that reads a string of the outer memo as its module still imports it in the `pickle.load`
    /// reading.
    @Test func aNestedPickleReadingAnOuterStringIsCritical() {
        let report = ModelScanner().scan(bytes: Self.nestedPickleReadingAnOuterString, name: "model.joblib")
        #expect(report.has("pickle.global.dangerous", "os.system"), "\(report.findings)")
    }

    /// In a dict, `pickle.load` imports module `NumpyArrayWrapper` (a string of the file's own): no ordinary machine
    /// has such a module, so the import fails before anything runs unless one was put on the loader's path. Medium:
    /// reported, refused by the strict policy; `joblib.load` never makes the import.
    @Test func anObjectArrayInADictPassesWithAMediumFindingForWhatPickleLoadImports() {
        let report = ModelScanner().scan(bytes: Self.objectArrayInADict, name: "model.joblib")
        #expect(report.refused(by: .default).isEmpty, "\(report.findings)")
        let strict = report.refused(by: .strict)
        #expect(strict.map(\.subject) == ["NumpyArrayWrapper.dtype"], "\(report.findings)")
        #expect(strict.allSatisfy { $0.rule == "pickle.global.uncommon-module" && $0.severity == .medium })
    }

    /// The wrapper as a `STACK_GLOBAL` operand in the main reading is high (the unpickler fails there).
    @Test func theWrapperAsAModuleNameIsHighInTheMainReading() {
        var p = PickleAssembler()
        p.raw([0x80, 4])
        p.global("joblib.numpy_pickle", "NumpyArrayWrapper")
        p.emptyTuple()
        p.newObj()
        p.shortUnicode("system")
        p.stackGlobal()
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("pickle.stack-global-not-text"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// After a `BUILD` on a global (here numpy's `ndarray` class), an imported class may be anything the pickle set:
    /// the wrapper class is no longer known not to be text.
    @Test func theWrapperClassAfterABuildOnAGlobalStaysUnresolved() {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("numpy", "ndarray")
        p.none()
        p.emptyDict()
        p.binUnicode("x")
        p.none()
        p.setItem()
        p.tuple2()
        p.build()
        p.global("joblib.numpy_pickle", "NumpyArrayWrapper")
        p.shortUnicode("system")
        p.stackGlobal()
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("pickle.global.unresolved"), "\(report.findings)")
        #expect(!report.has("pickle.stack-global-not-text"), "\(report.findings)")
    }
}
