import Foundation
import Testing

@testable import ModelScan

/// Scanner review 52: three ways numpy and torch kept a value the scanner had checked, or never checked it.
/// - numpy keeps the very dict a dtype state gives as its `fields`: a `SETITEM` on it afterwards (read back by `GET`)
///   moved field `a` to offset 2^30, and `MaskedArray((x, 7), False, D)` wrote 8 bytes of the file there, under all
///   four loaders.
/// - A structured dtype whose `names` are not its `fields` keys: numpy dereferenced the missing field (NULL) while
///   loading.
/// - A nested tensor: torch.load checks none of its size tables; an empty one was a NULL read when printed.
@Suite struct ModelScannerReview52AttackTests {
    /// The reviewer's `fields_write.pkl`: a valid `V12` dtype `D` with fields `a` (f8 at 0) and `b` (i4 at 8), checked
    /// at its BUILD; then `fields['a'] = (f8, 2**30)` through the memoised dict; then `MaskedArray((x, 7), False, D)`.
    static let fieldsMovedAfterTheCheck = [UInt8](
        Data(
            base64Encoded:
                "gAJjbnVtcHkubWEuY29yZQpNYXNrZWRBcnJheQpxADBjbnVtcHkKZHR5cGUKcQEwaAFYAwAAAFYxMomIh1JxCjBoCihLA1gBAAAA"
                + "fE5YAQAAAGFYAQAAAGKGfXEUKFgBAAAAYWgBWAIAAABmOImIh1IoSwNYAQAAADxOTk5K/////0r/////SwB0YksAhlgBAAAAYmgB"
                + "WAIAAABpNImIh1IoSwNYAQAAADxOTk5K/////0r/////SwB0YksIhnVLDEsBSxB0YjBoFFgBAAAAYWgBWAIAAABmOImIh1IoSwNY"
                + "AQAAADxOTk5K/////0r/////SwB0YkoAAABAhnMwaABHQUFBQUFBQUFLB4aJaAqHUi4="
        )!)
    /// The same pickle without the `SETITEM` after the BUILD: numpy loads it as a masked record.
    static let fieldsLeftAlone = [UInt8](
        Data(
            base64Encoded:
                "gAJjbnVtcHkubWEuY29yZQpNYXNrZWRBcnJheQpxADBjbnVtcHkKZHR5cGUKcQEwaAFYAwAAAFYxMomIh1JxCjBoCihLA1gBAAAA"
                + "fE5YAQAAAGFYAQAAAGKGfXEUKFgBAAAAYWgBWAIAAABmOImIh1IoSwNYAQAAADxOTk5K/////0r/////SwB0YksAhlgBAAAAYmgB"
                + "WAIAAABpNImIh1IoSwNYAQAAADxOTk5K/////0r/////SwB0YksIhnVLDEsBSxB0YjBoAEdBQUFBQUFBQUsHholoCodSLg=="
        )!)
    /// The reviewer's `names.pkl`: `_reconstruct(ndarray, (2,), D)` with names `('a', 'b')` and fields `a` and `c`.
    static let namesThatAreNotTheFields = [UInt8](
        Data(
            base64Encoded:
                "gAJ9cQBYBwAAAHdlaWdodHNxAWNudW1weS5fY29yZS5tdWx0aWFycmF5Cl9yZWNvbnN0cnVjdApxAmNudW1weQpuZGFycmF5CnED"
                + "SwKFcQRjbnVtcHkKZHR5cGUKcQVYAwAAAFYxMnEGiYiHcQdScQgoSwNYAQAAAHxxCU5YAQAAAGFxClgBAAAAYnELhnEMfXENKGgK"
                + "aAVYAgAAAGY4cQ6JiIdxD1JxEChLA1gBAAAAPHERTk5OSv////9K/////0sAdHESYksAhnETWAEAAABjcRRoBVgCAAAAaTRxFYmI"
                + "h3EWUnEXKEsDaBFOTk5K/////0r/////SwB0cRhiSwiGcRl1SwxLAUsQdHEaYodxG1JxHHMu"
        )!)
    /// The same array with names `('a', 'b')` and fields `a` and `b`, as `pickle.dumps` writes it.
    static let namesThatAreTheFields = [UInt8](
        Data(
            base64Encoded:
                "gAJ9cQBYBwAAAHdlaWdodHNxAWNudW1weS5fY29yZS5tdWx0aWFycmF5Cl9yZWNvbnN0cnVjdApxAmNudW1weQpuZGFycmF5CnED"
                + "SwKFcQRjbnVtcHkKZHR5cGUKcQVYAwAAAFYxMnEGiYiHcQdScQgoSwNYAQAAAHxxCU5YAQAAAGFxClgBAAAAYnELhnEMfXENKGgK"
                + "aAVYAgAAAGY4cQ6JiIdxD1JxEChLA1gBAAAAPHERTk5OSv////9K/////0sAdHESYksAhnETaAtoBVgCAAAAaTRxFImIh3EVUnEW"
                + "KEsDaBFOTk5K/////0r/////SwB0cRdiSwiGcRh1SwxLAUsQdHEZYodxGlJxG3Mu"
        )!)

    /// Each attack is refused as a dtype state, and the same pickle without the attack's step is not: a dtype's
    /// fields changed after its BUILD, and structured names that are not exactly the field keys.
    @Test(arguments: [
        (Self.fieldsMovedAfterTheCheck, Self.fieldsLeftAlone),
        (Self.namesThatAreNotTheFields, Self.namesThatAreTheFields),
    ])
    func theAttackIsRefusedAndItsControlPasses(_ attack: [UInt8], _ control: [UInt8]) {
        let report = scan(attack)
        #expect(report.has("numpy.dtype-state", "numpy.dtype"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
        // The fields control calls `MaskedArray` with arguments, high since review 57 (`pickle.call-array-coercion`):
        // only the dtype rule must stay quiet.
        let passed = scan(control)
        #expect(!passed.has("numpy.dtype-state"), "\(passed.findings)")
    }

    @Test func aTorchNestedTensorIsHigh() {
        var p = PickleAssembler(protocol: 2)
        p.global("torch._utils", "_rebuild_nested_tensor")
        p.mark()
        p.none()
        p.none()
        p.none()
        p.none()
        p.tuple()
        p.reduce()
        p.stop()
        #expect(scan(p.bytes).has("torch.nested-tensor"), "\(scan(p.bytes).findings)")
    }
}
