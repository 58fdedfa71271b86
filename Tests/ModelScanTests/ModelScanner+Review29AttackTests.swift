import Foundation
import Testing

@testable import ModelScan

/// The gap the twenty-ninth adversarial review of the scanner found (2026-12-05; no code ran): an allowed exception's
/// `__setstate__` (BaseException's) sets every key with `setattr`, and a BUILD of a state the scanner held as unknown
/// (a joblib object array's nested result) on `ConvergenceWarning()` gave the instance its own `__setstate__`, which
/// the next BUILD called with the pickle's state (`int('PROBE')` under `joblib.load`; 0 findings before).
@Suite struct ModelScannerReview29AttackTests {
    static let exceptionGivenASetstate = [UInt8](
        Data(
            base64Encoded:
                "gAJjc2tsZWFybi5leGNlcHRpb25zCkNvbnZlcmdlbmNlV2FybmluZwopUmNqb2JsaWIubnVtcHlfcGlja2xlCk51bXB5QXJyYXlX"
                + "cmFwcGVyCimBfShYCAAAAHN1YmNsYXNzY251bXB5Cm5kYXJyYXkKWAUAAABzaGFwZUsBhVgFAAAAb3JkZXJYAQAAAENYBQAAAGR0"
                + "eXBlY251bXB5CmR0eXBlClgCAAAATziJiIdSKEsDWAEAAAB8Tk5OSv////9K/////0s/dGJYCgAAAGFsbG93X21tYXCJWBsAAABu"
                + "dW1weV9hcnJheV9hbGlnbm1lbnRfYnl0ZXNOdWKAAmNza2xlYXJuLnV0aWxzLl9idW5jaApCdW5jaAopUihYBQAAAGR0eXBlY3Nr"
                + "bGVhcm4udXRpbHMuX2J1bmNoCkJ1bmNoCilSKFgJAAAAYnl0ZW9yZGVyWAEAAAA9dVgMAAAAX19zZXRzdGF0ZV9fY2J1aWx0aW5z"
                + "CmludAp1LmJYBQAAAFBST0JFYi4="
        )!)

    @Test func anExceptionsStateIsReadAsSetattrOfEveryKey() {
        let report = ModelScanner().scan(bytes: Self.exceptionGivenASetstate, name: "model.joblib")
        #expect(report.has("pickle.build-class"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
        let warning = PickleValue.object(callable: "sklearn.exceptions.ConvergenceWarning", args: [])
        #expect(PickleInterpreter.setsEveryKey(warning))
        #expect(!PickleInterpreter.hasSetstate(warning))
    }
}
