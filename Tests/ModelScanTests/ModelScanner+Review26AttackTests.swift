import Foundation
import Testing

@testable import ModelScan

/// The bypasses of the twenty-sixth adversarial review of the scanner (2026-12-05), each 0 findings before. Both made
/// joblib read a different number of array bytes than the scanner skipped, so the `os.system` call joblib ran was a
/// `BINBYTES` payload to the scanner. The payloads run `touch /nonexistent/review26-N` under `joblib.load`.
@Suite struct ModelScannerReview26AttackTests {
    /// (1) `numpy.random._pickle.__bit_generator_ctor(sklearn.base.ClassifierMixin)` is `ClassifierMixin()`, an object
    /// without `__setstate__` that the scanner took for a bit generator; a `(state, _nandict)` BUILD set its class.
    static let bitGeneratorMakerOfAnotherClass = [UInt8](
        Data(
            base64Encoded:
                "gASMFG51bXB5LnJhbmRvbS5fcGlja2xljBRfX2JpdF9nZW5lcmF0b3JfY3RvcpOMDHNrbGVhcm4uYmFzZYwPQ2xhc3NpZmllck1p"
                + "eGluk4VSfSiMCHN1YmNsYXNzjAVudW1weYwHbmRhcnJheZOMBXNoYXBlSwWFjAVvcmRlcowBQ4wFZHR5cGWMBW51bXB5jAVkdHlw"
                + "ZZOMAnUxiYiHUowKYWxsb3dfbW1hcImMG251bXB5X2FycmF5X2FsaWdubWVudF9ieXRlc051jBVza2xlYXJuLnV0aWxzLl9lbmNv"
                + "ZGWMCF9uYW5kaWN0k32FUiiMCV9fY2xhc3NfX4wTam9ibGliLm51bXB5X3BpY2tsZYwRTnVtcHlBcnJheVdyYXBwZXKTdYZiQi0A"
                + "AABjb3MKc3lzdGVtCihWdG91Y2ggL25vbmV4aXN0ZW50L3JldmlldzI2LTEKdFIwLg=="
        )!)

    /// (2) a BUILD on `numpy.object_(D)`, which is the memoised dtype `D` itself, resized it from 8 to 16 bytes after
    /// the scanner had sized a later array by it.
    static let dtypeResizedThroughObjectCall = [UInt8](
        Data(
            base64Encoded:
                "gASMBW51bXB5jAVkdHlwZZOMAlY4iYiHUnEBMIwFbnVtcHmMB29iamVjdF+TaAGFUihLA4wBfE5OTkoQAAAASwFLAHRiMIwTam9i"
                + "bGliLm51bXB5X3BpY2tsZYwRTnVtcHlBcnJheVdyYXBwZXKTKYF9KIwIc3ViY2xhc3OMBW51bXB5jAduZGFycmF5k4wFc2hhcGVL"
                + "AYWMBW9yZGVyjAFDjAVkdHlwZWgBjAphbGxvd19tbWFwiYwbbnVtcHlfYXJyYXlfYWxpZ25tZW50X2J5dGVzTnViTk5OTk5OTk5C"
                + "MAAAAKq7zGNvcwpzeXN0ZW0KKFZ0b3VjaCAvbm9uZXhpc3RlbnQvcmV2aWV3MjYtMgp0UjAu"
        )!)

    /// The lead: a BUILD on `numpy.object_(C)` sets an attribute of the allowed class `C` itself.
    static let classAttributeThroughObjectCall = [UInt8](
        Data(
            base64Encoded:
                "gASMBW51bXB5jAdvYmplY3Rfk4wMc2tsZWFybi5iYXNljA9DbGFzc2lmaWVyTWl4aW6ThVJOfSiMD3JldmlldzI2X21hcmtlcksB"
                + "dYZiLg=="
        )!)

    @Test func aBitGeneratorMakerHandedAnotherClassMakesAnObjectWithoutSetstate() {
        let report = ModelScanner().scan(bytes: Self.bitGeneratorMakerOfAnotherClass, name: "model.joblib")
        #expect(report.has("pickle.build-opaque-state"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
        let maker = PickleValue.object(
            callable: "numpy.random._pickle.__bit_generator_ctor",
            args: [.global(module: "sklearn.base", name: "ClassifierMixin")])
        #expect(!PickleInterpreter.hasSetstate(maker))
        #expect(
            PickleInterpreter.hasSetstate(
                .object(callable: "numpy.random._pickle.__bit_generator_ctor", args: [.string("MT19937")])))
    }

    @Test(arguments: [
        ("dtype", dtypeResizedThroughObjectCall), ("class attribute", classAttributeThroughObjectCall),
    ])
    func aBuildOnWhatACallMayHaveReturnedAsIsIsRefused(_ label: String, _ bytes: [UInt8]) {
        let report = ModelScanner().scan(bytes: bytes, name: "model.joblib")
        #expect(report.has("pickle.build-on-passthrough"), "\(label): \(report.findings)")
        #expect(report.isRefusedByDefault, "\(label)")
    }

    /// `APPENDS` on a dict subclass calls whatever its `extend` key holds (`Bunch.__getattr__` answers with it).
    @Test func appendsOnAnObjectThatIsNotAListIsRefused() {
        var pickle: [UInt8] = [0x80, 0x02]
        pickle += Array("csklearn.utils._bunch\nBunch\n)R".utf8)  // Bunch()
        pickle += [0x28, 0x4B, 0x01, 0x65]  // MARK, 1, APPENDS
        pickle += [0x2E]
        let report = ModelScanner().scan(bytes: pickle, name: "model.pkl")
        #expect(report.has("pickle.append-to-object"), "\(report.findings)")
        var list: [UInt8] = [0x80, 0x02, 0x5D, 0x28, 0x4B, 0x01, 0x4B, 0x02, 0x65, 0x2E]  // [1, 2]
        #expect(!ModelScanner().scan(bytes: list, name: "list.pkl").has("pickle.append-to-object"))
        list = [0x80, 0x02] + Array("cbuiltins\nlist\n)R".utf8) + [0x28, 0x4B, 0x01, 0x65, 0x2E]
        #expect(!ModelScanner().scan(bytes: list, name: "list.pkl").has("pickle.append-to-object"))
    }
}
