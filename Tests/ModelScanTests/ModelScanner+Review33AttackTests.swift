import Foundation
import Testing

@testable import ModelScan

/// The bypass of the thirty-third adversarial review of the scanner (2026-12-05), passed with exit 0: joblib reads an
/// object array's nested pickle with the outer unpickler's `find_class`, so the outer pickle's protocol decides
/// whether Python 2 names are translated there, while the scanner read the nested pickle at its own protocol (0, no
/// `PROTO`). Outer `PROTO 4`, nested `copy_reg._reconstructor` or `__builtin__.set` (reached through a `MEMOIZE` slot
/// that ends the `pickle.load` reading at a `STACK_GLOBAL` of the wrapper class first): the scanner translated the
/// names and passed; `joblib.load` imported a planted `copy_reg.py` or `__builtin__.py` from the working directory.
@Suite struct ModelScannerReview33AttackTests {
    /// The reviewer's `f2.pkl`: nested `copy_reg._reconstructor` under an outer protocol 4.
    static let copyRegInTheNestedPickle = base64Bytes(
        "gASME2pvYmxpYi5udW1weV9waWNrbGWMEU51bXB5QXJyYXlXcmFwcGVyk3EAKYF9KIwIc3ViY2xhc3OMBW51bXB5jAduZGFycmF5k4wFc2hhcGVLAoWMBW9yZGVyjAFDjAVkdHlwZYwFbnVtcHmMBWR0eXBlk4wCTziJiIdSKEsDjAF8Tk5OSv////9K/////0s/dGKMCmFsbG93X21tYXCJjBtudW1weV9hcnJheV9hbGlnbm1lbnRfYnl0ZXNLEHVijAhjb3B5X3JlZ5QwaACMDl9yZWNvbnN0cnVjdG9ykzBdlC4u"
    )
    /// The reviewer's `f3.pkl`: nested `__builtin__.set()` under an outer protocol 4.
    static let builtinInTheNestedPickle = base64Bytes(
        "gASME2pvYmxpYi5udW1weV9waWNrbGWMEU51bXB5QXJyYXlXcmFwcGVyk3EAKYF9KIwIc3ViY2xhc3OMBW51bXB5jAduZGFycmF5k4wFc2hhcGVLAoWMBW9yZGVyjAFDjAVkdHlwZYwFbnVtcHmMBWR0eXBlk4wCTziJiIdSKEsDjAF8Tk5OSv////9K/////0s/dGKMCmFsbG93X21tYXCJjBtudW1weV9hcnJheV9hbGlnbm1lbnRfYnl0ZXNLEHVijAtfX2J1aWx0aW5fX5QwaACMA3NldJMpUpQuLg=="
    )

    @Test func namesInAnObjectArraysNestedPickleAreJudgedUnderTheOuterProtocolToo() {
        for (label, file) in [
            ("copy_reg", Self.copyRegInTheNestedPickle), ("__builtin__", Self.builtinInTheNestedPickle),
        ] {
            let report = ModelScanner().scan(bytes: file, name: "model.joblib")
            #expect(report.isRefusedByDefault, "\(label): \(report.findings)")
            #expect(
                report.findings.contains { $0.rule == "pickle.global.unknown" && $0.subject.hasPrefix(label) },
                "\(label): \(report.findings)")
        }
    }
}
