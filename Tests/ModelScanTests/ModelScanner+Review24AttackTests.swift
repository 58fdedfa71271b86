import Foundation
import Testing

@testable import ModelScan

/// The bypass of the twenty-fourth adversarial review of the scanner (2026-12-05): a state that is scikit-learn's
/// `Bunch` (a dict subclass made by a call and filled by SETITEMS, whose keys the scanner does not keep), applied with
/// setattr by torch's `_rebuild_from_type_v2` or as a BUILD slot state, set `__class__` to NumpyArrayWrapper unseen;
/// joblib then read array bytes that hid `os.system` from both readings (0 findings). The payloads run
/// `touch /nonexistent/review24-N`.
@Suite struct ModelScannerReview24AttackTests {
    /// (a) the Bunch as `_rebuild_from_type_v2`'s state.
    static let bunchStateOfARebuild = [UInt8](
        Data(
            base64Encoded:
                "gARjdG9yY2guX3RlbnNvcgpfcmVidWlsZF9mcm9tX3R5cGVfdjIKKGNza2xlYXJuLnV0aWxzLmRlcHJlY2F0aW9uCmRlcHJlY2F0"
                + "ZWQKY3NrbGVhcm4udXRpbHMuZGVwcmVjYXRpb24KZGVwcmVjYXRlZAopY3NrbGVhcm4udXRpbHMuX2J1bmNoCkJ1bmNoCilSKIwJ"
                + "X19jbGFzc19fY2pvYmxpYi5udW1weV9waWNrbGUKTnVtcHlBcnJheVdyYXBwZXIKjAhzdWJjbGFzc2NudW1weQpuZGFycmF5CowF"
                + "c2hhcGVLBYWMBW9yZGVyjAFDjAVkdHlwZWNudW1weQpkdHlwZQqMAnUxhVKMCmFsbG93X21tYXCJjBtudW1weV9hcnJheV9hbGln"
                + "bm1lbnRfYnl0ZXNOdXRSfWJCLQAAAGNvcwpzeXN0ZW0KjB10b3VjaCAvbm9uZXhpc3RlbnQvcmV2aWV3MjQtMYVSMC4=")!)

    /// (b) the Bunch as a BUILD slot state `(None, bunch)`.
    static let bunchSlotState = [UInt8](
        Data(
            base64Encoded:
                "gARjc2tsZWFybi51dGlscy5kZXByZWNhdGlvbgpkZXByZWNhdGVkCilSTmNza2xlYXJuLnV0aWxzLl9idW5jaApCdW5jaAopUiiM"
                + "CV9fY2xhc3NfX2Nqb2JsaWIubnVtcHlfcGlja2xlCk51bXB5QXJyYXlXcmFwcGVyCowIc3ViY2xhc3NjbnVtcHkKbmRhcnJheQqM"
                + "BXNoYXBlSwWFjAVvcmRlcowBQ4wFZHR5cGVjbnVtcHkKZHR5cGUKjAJ1MYVSjAphbGxvd19tbWFwiYwbbnVtcHlfYXJyYXlfYWxp"
                + "Z25tZW50X2J5dGVzTnWGYkItAAAAY29zCnN5c3RlbQqMHXRvdWNoIC9ub25leGlzdGVudC9yZXZpZXcyNC0yhVIwLg==")!)

    @Test(arguments: [("rebuild state", bunchStateOfARebuild), ("slot state", bunchSlotState)])
    func aStateMadeByACallIsNotReadAsHarmless(_ label: String, _ bytes: [UInt8]) {
        let report = ModelScanner().scan(bytes: bytes, name: "model.joblib")
        #expect(report.has("pickle.build-class"), "\(label): \(report.findings)")
        #expect(report.isRefusedByDefault, "\(label)")
    }
}
