import Foundation
import Testing

@testable import ModelScan

/// The bypasses of the twenty-seventh adversarial review of the scanner (2026-12-05), each 0 findings before and
/// running `touch /nonexistent/review27-N` under `joblib.load`. The fix is structural: joblib's NumpyArrayWrapper class
/// may only be called where it stands (any other use is high), a BUILD or a SETITEM(S)/APPEND(S) may only change an
/// object the scanner knows is fresh, and a key made by a call counts as any name.
@Suite struct ModelScannerReview27AttackTests {
    /// (1) `_rebuild_from_type_v2(numpy.object_, MethodMapping, (obj,), ({builtins.str('__class__'): NumpyArrayWrapper}, None))`: torch's `_set_obj_state` sets the first half's keys too, on the memoised `obj` itself.
    static let appliedStateWithAComputedKey = [UInt8](
        Data(
            base64Encoded:
                "gAJjc2tsZWFybi51dGlscy5fbWV0YWRhdGFfcmVxdWVzdHMKTWV0aG9kTWFwcGluZwopUnEAMGN0b3JjaC5fdGVuc29yCl9yZWJ1"
                + "aWxkX2Zyb21fdHlwZV92MgooY251bXB5Cm9iamVjdF8KY3NrbGVhcm4udXRpbHMuX21ldGFkYXRhX3JlcXVlc3RzCk1ldGhvZE1h"
                + "cHBpbmcKaACFfWNidWlsdGlucwpzdHIKWAkAAABfX2NsYXNzX1+FUmNqb2JsaWIubnVtcHlfcGlja2xlCk51bXB5QXJyYXlXcmFw"
                + "cGVyCnNOhnRSMGgAfShYCAAAAHN1YmNsYXNzY251bXB5Cm5kYXJyYXkKWAUAAABzaGFwZUsFhVgFAAAAb3JkZXJYAQAAAENYBQAA"
                + "AGR0eXBlY251bXB5CmR0eXBlClgCAAAAdTGFUlgKAAAAYWxsb3dfbW1hcIlYGwAAAG51bXB5X2FycmF5X2FsaWdubWVudF9ieXRl"
                + "c051YkIyAAAAY3Bvc2l4CnN5c3RlbQpYHQAAAHRvdWNoIC9ub25leGlzdGVudC9yZXZpZXcyNy0xhVIwME4u"
        )!)

    /// (2) `copyreg._reconstructor(numpy.object_, numpy.object_, D)` is the memoised dtype `D`, which a BUILD resized from 1 to 6 bytes.
    static let dtypeThroughReconstructor = [UInt8](
        Data(
            base64Encoded:
                "gAJjbnVtcHkKZHR5cGUKWAIAAABWMYVScQAwY2NvcHlyZWcKX3JlY29uc3RydWN0b3IKY251bXB5Cm9iamVjdF8KY251bXB5Cm9i"
                + "amVjdF8KaACHUihLA1gBAAAAfE5OTksGSwFLAHRiMGNqb2JsaWIubnVtcHlfcGlja2xlCk51bXB5QXJyYXlXcmFwcGVyCimBfShY"
                + "CAAAAHN1YmNsYXNzY251bXB5Cm5kYXJyYXkKWAUAAABzaGFwZUsBhVgFAAAAb3JkZXJYAQAAAENYBQAAAGR0eXBlaABYCgAAAGFs"
                + "bG93X21tYXCJWBsAAABudW1weV9hcnJheV9hbGlnbm1lbnRfYnl0ZXNOdWJOQjIAAABjcG9zaXgKc3lzdGVtClgdAAAAdG91Y2gg"
                + "L25vbmV4aXN0ZW50L3JldmlldzI3LTKFUjAwTi4="
        )!)

    /// (3) a memoised wrapper-state dict read back through `numpy.object_(d)` and changed there (`shape` 1 to 6) after the scanner had sized the array from it.
    static let wrapperStateChangedThroughAnAlias = [UInt8](
        Data(
            base64Encoded:
                "gAJ9KFgIAAAAc3ViY2xhc3NjbnVtcHkKbmRhcnJheQpYBQAAAHNoYXBlSwGFWAUAAABvcmRlclgBAAAAQ1gFAAAAZHR5cGVjbnVt"
                + "cHkKZHR5cGUKWAIAAAB1MYVSWAoAAABhbGxvd19tbWFwiVgbAAAAbnVtcHlfYXJyYXlfYWxpZ25tZW50X2J5dGVzTnVxADBjbnVt"
                + "cHkKb2JqZWN0XwpoAIVSWAUAAABzaGFwZUsGhXMwY2pvYmxpYi5udW1weV9waWNrbGUKTnVtcHlBcnJheVdyYXBwZXIKKYFoAGJO"
                + "QjIAAABjcG9zaXgKc3lzdGVtClgdAAAAdG91Y2ggL25vbmV4aXN0ZW50L3JldmlldzI3LTOFUjAwTi4="
        )!)

    /// (4) a plain BUILD slot state `{builtins.str('__class__'): NumpyArrayWrapper}` on `MethodMapping()`.
    static let slotStateWithAComputedKey = [UInt8](
        Data(
            base64Encoded:
                "gAJjc2tsZWFybi51dGlscy5fbWV0YWRhdGFfcmVxdWVzdHMKTWV0aG9kTWFwcGluZwopUn0oWAgAAABzdWJjbGFzc2NudW1weQpu"
                + "ZGFycmF5ClgFAAAAc2hhcGVLBYVYBQAAAG9yZGVyWAEAAABDWAUAAABkdHlwZWNudW1weQpkdHlwZQpYAgAAAHUxhVJYCgAAAGFs"
                + "bG93X21tYXCJWBsAAABudW1weV9hcnJheV9hbGlnbm1lbnRfYnl0ZXNOdX1jYnVpbHRpbnMKc3RyClgJAAAAX19jbGFzc19fhVJj"
                + "am9ibGliLm51bXB5X3BpY2tsZQpOdW1weUFycmF5V3JhcHBlcgpzhmJCMgAAAGNwb3NpeApzeXN0ZW0KWB0AAAB0b3VjaCAvbm9u"
                + "ZXhpc3RlbnQvcmV2aWV3MjctNIVSMDBOLg=="
        )!)

    @Test(arguments: [
        ("f1", appliedStateWithAComputedKey, ["joblib.wrapper-indirect"]),
        ("f2", dtypeThroughReconstructor, ["pickle.build-on-passthrough"]),
        ("f3", wrapperStateChangedThroughAnAlias, ["pickle.fill-earlier-object"]),
        ("f4", slotStateWithAComputedKey, ["joblib.wrapper-indirect", "pickle.build-class"]),
    ])
    func theBypassIsRefused(_ label: String, _ bytes: [UInt8], _ expected: [String]) {
        let report = ModelScanner().scan(bytes: bytes, name: "model.joblib")
        for id in expected { #expect(report.has(id), "\(label): \(report.findings)") }
        #expect(report.isRefusedByDefault, "\(label)")
    }

    /// The wrapper class stays callable where joblib writes it, and is high anywhere else.
    @Test func theWrapperClassMayOnlyBeCalled() {
        let global = Array("cjoblib.numpy_pickle\nNumpyArrayWrapper\n".utf8)
        // `(W,)` then discarded: a tuple holding the class.
        let inTuple = [0x80, 0x02] + global + [0x85, 0x30, 0x4E, 0x2E]
        #expect(ModelScanner().scan(bytes: inTuple, name: "m.pkl").has("joblib.wrapper-indirect"))
        // Pushed and popped unused: no finding.
        let discarded = [0x80, 0x02] + global + [0x30, 0x4E, 0x2E]
        #expect(!ModelScanner().scan(bytes: discarded, name: "m.pkl").has("joblib.wrapper-indirect"))
    }
}
