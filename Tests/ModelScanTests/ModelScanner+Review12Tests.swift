import Foundation
import Testing

@testable import ModelScan

/// The twelfth adversarial review of the scanner (2026-12-04) found no bypass, hang or crash, and false positives on
/// files real libraries write: joblib dumps of fitted scikit-learn models (gradient boosting's object arrays, seed
/// sequences, k-d trees, masked arrays, numpy scalar types, scipy splines) and one `torch.save(...,
/// pickle_protocol=4)` checkpoint in a hundred. The models themselves are in `ModelScannerInteropTests`.
@Suite struct ModelScannerReview12Tests {
    /// `joblib.dump({"a": np.array([1, "x", None], dtype=object), "b": np.arange(3)})`.
    static let objectArray = [UInt8](
        Data(
            base64Encoded:
                "gASV2AAAAAAAAAB9lCiMAWGUjBNqb2JsaWIubnVtcHlfcGlja2xllIwRTnVtcHlBcnJheVdyYXBwZXKUk5QpgZR9lCiMCHN1YmNs"
                + "YXNzlIwFbnVtcHmUjAduZGFycmF5lJOUjAVzaGFwZZRLA4WUjAVvcmRlcpSMAUOUjAVkdHlwZZRoCIwFZHR5cGWUk5SMAk84lImI"
                + "h5RSlChLA4wBfJROTk5K/////0r/////Sz90lGKMCmFsbG93X21tYXCUiYwbbnVtcHlfYXJyYXlfYWxpZ25tZW50X2J5dGVzlEsQ"
                + "dWKABZWRAAAAAAAAAIwWbnVtcHkuX2NvcmUubXVsdGlhcnJheZSMDF9yZWNvbnN0cnVjdJSTlIwFbnVtcHmUjAduZGFycmF5lJOU"
                + "SwCFlEMBYpSHlFKUKEsBSwOFlGgDjAVkdHlwZZSTlIwCTziUiYiHlFKUKEsDjAF8lE5OTkr/////Sv////9LP3SUYoldlChLAYwB"
                + "eJROZXSUYi6VSwAAAAAAAACMAWKUaAQpgZR9lChoB2gKaAtLA4WUaA1oDmgPaBGMAmk4lImIh5RSlChLA4wBPJROTk5K/////0r/"
                + "////SwB0lGJoF4hoGEsQdWIM////////////////AAAAAAAAAAABAAAAAAAAAAIAAAAAAAAAdS4=")!)

    /// `joblib.dump({"a": np.array([1, Evil()], dtype=object)})`, `Evil` reducing to `os.system`.
    static let callInsideTheObjectArray = [UInt8](
        Data(
            base64Encoded:
                "gASV1wAAAAAAAAB9lIwBYZSME2pvYmxpYi5udW1weV9waWNrbGWUjBFOdW1weUFycmF5V3JhcHBlcpSTlCmBlH2UKIwIc3ViY2xh"
                + "c3OUjAVudW1weZSMB25kYXJyYXmUk5SMBXNoYXBllEsChZSMBW9yZGVylIwBQ5SMBWR0eXBllGgIjAVkdHlwZZSTlIwCTziUiYiH"
                + "lFKUKEsDjAF8lE5OTkr/////Sv////9LP3SUYowKYWxsb3dfbW1hcJSJjBtudW1weV9hcnJheV9hbGlnbm1lbnRfYnl0ZXOUSxB1"
                + "YoAFlboAAAAAAAAAjBZudW1weS5fY29yZS5tdWx0aWFycmF5lIwMX3JlY29uc3RydWN0lJOUjAVudW1weZSMB25kYXJyYXmUk5RL"
                + "AIWUQwFilIeUUpQoSwFLAoWUaAOMBWR0eXBllJOUjAJPOJSJiIeUUpQoSwOMAXyUTk5OSv////9K/////0s/dJRiiV2UKEsBjAVw"
                + "b3NpeJSMBnN5c3RlbZSTlIwUdG91Y2ggL3RtcC9yMTIvcHduZWSUhZRSlGV0lGIucy4=")!)

    /// `joblib.dump({"a": np.array([1, "x"], dtype=object), "b": Evil()})`: the call follows the nested pickle.
    static let callAfterTheObjectArray = [UInt8](
        Data(
            base64Encoded:
                "gASV2AAAAAAAAAB9lCiMAWGUjBNqb2JsaWIubnVtcHlfcGlja2xllIwRTnVtcHlBcnJheVdyYXBwZXKUk5QpgZR9lCiMCHN1YmNs"
                + "YXNzlIwFbnVtcHmUjAduZGFycmF5lJOUjAVzaGFwZZRLAoWUjAVvcmRlcpSMAUOUjAVkdHlwZZRoCIwFZHR5cGWUk5SMAk84lImI"
                + "h5RSlChLA4wBfJROTk5K/////0r/////Sz90lGKMCmFsbG93X21tYXCUiYwbbnVtcHlfYXJyYXlfYWxpZ25tZW50X2J5dGVzlEsQ"
                + "dWKABZWQAAAAAAAAAIwWbnVtcHkuX2NvcmUubXVsdGlhcnJheZSMDF9yZWNvbnN0cnVjdJSTlIwFbnVtcHmUjAduZGFycmF5lJOU"
                + "SwCFlEMBYpSHlFKUKEsBSwKFlGgDjAVkdHlwZZSTlIwCTziUiYiHlFKUKEsDjAF8lE5OTkr/////Sv////9LP3SUYoldlChLAYwB"
                + "eJRldJRiLpU0AAAAAAAAAIwBYpSMBXBvc2l4lIwGc3lzdGVtlJOUjBR0b3VjaCAvdG1wL3IxMi9wd25lZJSFlFKUdS4=")!)

    /// joblib's reading is clean now. `pickle.load` reads the nested pickle's opcodes in the outer pickle's memo,
    /// where its `BINGET`s name other strings: it imports a global made of them (`NumpyArrayWrapper.dtype`), from a
    /// module no ordinary machine has, which is medium: the default policy passes the file, the strict one refuses it.
    @Test func aJoblibObjectArrayIsReadAsTheNestedPickleJoblibReads() {
        let report = ModelScanner().scan(bytes: Self.objectArray, name: "model.joblib")
        #expect(!report.has("joblib.array-unknown"), "\(report.findings)")
        #expect(report.refused(by: .default).isEmpty, "\(report.findings)")
        let strict = report.refused(by: .strict)
        #expect(!strict.isEmpty && strict.allSatisfy { $0.message.hasSuffix("but pickle.load runs)") })
    }

    @Test func aCallInOrAfterAnObjectArrayIsCaught() {
        for bytes in [Self.callInsideTheObjectArray, Self.callAfterTheObjectArray] {
            let report = ModelScanner().scan(bytes: bytes, name: "model.joblib")
            #expect(
                report.findings.contains { $0.rule == "pickle.global.dangerous" && $0.subject.hasSuffix(".system") },
                "\(report.findings)")
            #expect(report.isRefusedByDefault)
        }
    }

    /// A zip starts with `PK`, PERSID and its line: whatever the line runs into, `pickle.load` (no persistent_load)
    /// raises there, so bytes after it that read as a dangerous call are not a polyglot.
    @Test func aPersistentIdAtTheStartOfAFileEndsItsPickleReading() {
        var archive = ZipWriter()
        archive.add("weights.bin", Array("\ncos\nsystem\n(S'id'\ntR.".utf8))
        let bytes = archive.bytes
        let firstNewline = bytes.firstIndex(of: 0x0A) ?? 0
        #expect(Array(bytes[firstNewline...].prefix(5)) == Array("\ncos\n".utf8), "the line ends where the call starts")
        let report = ModelScanner().scan(bytes: bytes, name: "model.pt")
        #expect(!report.has("format.polyglot-pickle"), "\(report.findings)")
        #expect(!report.isRefusedByDefault, "\(report.findings)")
        // Inside a container, where a loader may define persistent_load, the reading goes on.
        let plain = ModelScanner().scan(bytes: Array("P0\ncos\nsystem\n(S'id'\ntR.".utf8), name: "model.pkl")
        #expect(plain.has("pickle.global.dangerous", "os.system"), "\(plain.findings)")
    }

    /// Review 13: `newObj(obj)` is `obj.__new__(obj)`, and an instance's `__dict__` may hold `__new__`.
    @Test func aBuildStateSettingNewIsHigh() {
        let bytes: [UInt8] =
            [0x80, 0x02] + Array("ccollections\nOrderedDict\n)R}".utf8) + [0x58, 7, 0, 0, 0] + Array("__new__".utf8)
            + Array("cbuiltins\nlist\nsb.".utf8)
        let report = ModelScanner().scan(bytes: bytes, name: "model.pkl")
        #expect(report.has("pickle.build-class"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }
}
