import Foundation
import Testing

@testable import ModelScan

/// The bypasses of the eleventh adversarial review of the scanner (2026-12-04), each run under `joblib.load` while
/// the scanner passed it: a value too deep or too large for the scanner was erased whole, so a NumpyArrayWrapper
/// given large arguments, or a slot state naming `__class__` beside a deep value, read as unknown. The top levels of
/// such a value are kept now and only what lies below them is unknown.
@Suite struct ModelScannerReview11AttackTests {
    /// F1: `OBJ(NumpyArrayWrapper, four 64-item tuples)`, then its BUILD: the array bytes joblib reads hid `os.system`.
    static let wrapperWithLargeArguments = [UInt8](
        Data(
            base64Encoded:
                "gAIoY2pvYmxpYi5udW1weV9waWNrbGUKTnVtcHlBcnJheVdyYXBwZXIKKEsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFL"
                + "AUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFL"
                + "AUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBdChLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFL"
                + "AUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFL"
                + "AUsBSwFLAUsBSwFLAXQoSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFL"
                + "AUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwF0"
                + "KEsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFL"
                + "AUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBdG99KFgIAAAAc3ViY2xh"
                + "c3NjbnVtcHkKbmRhcnJheQpYBQAAAHNoYXBlSwWFWAUAAABvcmRlclgBAAAAQ1gFAAAAZHR5cGVjbnVtcHkKZHR5cGUKWAIA"
                + "AAB1MYmIh1JYCgAAAGFsbG93X21tYXCJWBsAAABudW1weV9hcnJheV9hbGlnbm1lbnRfYnl0ZXNOdWJCMgAAAGNvcwpzeXN0"
                + "ZW0KWB8AAAB0b3VjaCAvdG1wL3NjYW5yZXZpZXcxMS9wd25lZF8xhVIwLg==")!)

    /// F2: a `(None, {'__class__': NumpyArrayWrapper, ..., 'pad': a tuple 31 deep})` slot state on an allowed class.
    static let classStateBesideADeepValue = [UInt8](
        Data(
            base64Encoded:
                "gAJjc2tsZWFybi5fbG9zcwpIYWxmU3F1YXJlZEVycm9yCimBTn0oWAkAAABfX2NsYXNzX19jam9ibGliLm51bXB5X3BpY2ts"
                + "ZQpOdW1weUFycmF5V3JhcHBlcgpYCAAAAHN1YmNsYXNzY251bXB5Cm5kYXJyYXkKWAUAAABzaGFwZUsFhVgFAAAAb3JkZXJY"
                + "AQAAAENYBQAAAGR0eXBlY251bXB5CmR0eXBlClgCAAAAdTGJiIdSWAoAAABhbGxvd19tbWFwiVgbAAAAbnVtcHlfYXJyYXlf"
                + "YWxpZ25tZW50X2J5dGVzTlgDAAAAcGFkKYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYV1hmJCMgAAAGNvcwpzeXN0"
                + "ZW0KWB8AAAB0b3VjaCAvdG1wL3NjYW5yZXZpZXcxMS9wd25lZF8zhVIwLg==")!)

    @Test func aWrapperGivenLargeArgumentsIsStillAWrapper() {
        let report = ModelScanner().scan(bytes: Self.wrapperWithLargeArguments, name: "model.joblib")
        #expect(report.isRefusedByDefault, "\(report.findings)")
        #expect(report.has("pickle.global.dangerous", "os.system"), "\(report.findings)")
    }

    @Test func aClassStateBesideADeepValueIsSeen() {
        let report = ModelScanner().scan(bytes: Self.classStateBesideADeepValue, name: "model.joblib")
        #expect(report.has("pickle.build-class"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// What is kept of a value past the bounds: its top levels, within the node budget, with the rest unknown.
    @Test func aValuePastTheBoundsKeepsItsTopLevels() {
        var deep = PickleValue.none
        for _ in 0..<40 { deep = .tuple([deep]) }
        let value = PickleValue.tuple([.string("head"), deep])
        var visited = 0
        guard case .tuple(let items) = value.bounded(visited: &visited) else {
            Issue.record("the top level was not kept")
            return
        }
        #expect(items.count == 2)
        if case .string("head") = items[0] {} else { Issue.record("the first item was not kept: \(items[0])") }
        #expect(visited < 2_000)
    }
}
