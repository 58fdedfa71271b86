import Foundation
import Testing

@testable import ModelScan

/// Scanner review 43: scikit-learn's `BaseEstimator.__setstate__` compares `_sklearn_version` with its own and warns
/// with it; `warnings.warn` prints the warning, whose `__str__` formats its arguments. A `StandardScaler` whose
/// `_sklearn_version` was a `ConvergenceWarning` holding review 42's crafted `csr_matrix` in `args` (or an
/// `InconsistentVersionWarning` holding it as `original_sklearn_version`) had `str(m)` convert the matrix while
/// loading: a heap write under all four loaders, 0 findings (strict too). An estimator's `_sklearn_version` must be
/// text, and an exception's state and arguments literals (`pickle.formatted-state`).
@Suite struct ModelScannerReview43AttackTests {
    /// The reviewer's `b1.pkl` (`ConvergenceWarning`, protocol 4).
    static let warningInArgs = [UInt8](
        Data(
            base64Encoded:
                "gASVCQIAAAAAAACMG3NrbGVhcm4ucHJlcHJvY2Vzc2luZy5fZGF0YZSMDlN0YW5kYXJkU2NhbGVylJOUKYGUfZQojAl3aXRoX21l"
                + "YW6UiIwId2l0aF9zdGSUiIwEY29weZSIjBBfc2tsZWFybl92ZXJzaW9ulIwSc2tsZWFybi5leGNlcHRpb25zlIwSQ29udmVyZ2Vu"
                + "Y2VXYXJuaW5nlJOUKVKUfZSMBGFyZ3OUjBFzY2lweS5zcGFyc2UuX2NzcpSMCmNzcl9tYXRyaXiUk5QpgZR9lCiMBl9zaGFwZZRL"
                + "AksChpSMCG1heHByaW50lEsyjARkYXRhlIwWbnVtcHkuX2NvcmUubXVsdGlhcnJheZSMDF9yZWNvbnN0cnVjdJSTlIwFbnVtcHmU"
                + "jAduZGFycmF5lJOUSwCFlEMBYpSHlFKUKEsBSwGFlGgbjAVkdHlwZZSTlIwCZjiUiYiHlFKUKEsDjAE8lE5OTkr/////Sv////9L"
                + "AHSUYolDCAAAAAAAAPA/lHSUYowHaW5kaWNlc5RoGmgdSwCFlGgfh5RSlChLAUsBhZRoJIwCaTSUiYiHlFKUKEsDaChOTk5K////"
                + "/0r/////SwB0lGKJQwQAAAAAlHSUYowGaW5kcHRylGgaaB1LAIWUaB+HlFKUKEsBSwOFlGgziUMMAAAAAKCGAQABAAAAlHSUYnVi"
                + "hZRzYnViLg=="
        )!)
    /// The reviewer's `b3.pkl` (`InconsistentVersionWarning`, protocol 2).
    static let warningAttribute = [UInt8](
        Data(
            base64Encoded:
                "gAJjc2tsZWFybi5wcmVwcm9jZXNzaW5nLl9kYXRhClN0YW5kYXJkU2NhbGVyCnEAKYFxAX1xAihYCQAAAHdpdGhfbWVhbnEDiFgI"
                + "AAAAd2l0aF9zdGRxBIhYBAAAAGNvcHlxBYhYEAAAAF9za2xlYXJuX3ZlcnNpb25xBmNza2xlYXJuLmV4Y2VwdGlvbnMKSW5jb25z"
                + "aXN0ZW50VmVyc2lvbldhcm5pbmcKcQcpgXEIfXEJKFgOAAAAZXN0aW1hdG9yX25hbWVxClgBAAAAYXELWBcAAABjdXJyZW50X3Nr"
                + "bGVhcm5fdmVyc2lvbnEMWAEAAABicQ1YGAAAAG9yaWdpbmFsX3NrbGVhcm5fdmVyc2lvbnEOY3NjaXB5LnNwYXJzZS5fY3NyCmNz"
                + "cl9tYXRyaXgKcQ8pgXEQfXERKFgGAAAAX3NoYXBlcRJLAksChnETWAgAAABtYXhwcmludHEUSzJYBAAAAGRhdGFxFWNudW1weS5f"
                + "Y29yZS5tdWx0aWFycmF5Cl9yZWNvbnN0cnVjdApxFmNudW1weQpuZGFycmF5CnEXSwCFcRhjX2NvZGVjcwplbmNvZGUKcRlYAQAA"
                + "AGJxGlgGAAAAbGF0aW4xcRuGcRxScR2HcR5ScR8oSwFLAYVxIGNudW1weQpkdHlwZQpxIVgCAAAAZjhxIomIh3EjUnEkKEsDWAEA"
                + "AAA8cSVOTk5K/////0r/////SwB0cSZiiWgZWAkAAAAAAAAAAADDsD9xJ2gbhnEoUnEpdHEqYlgHAAAAaW5kaWNlc3EraBZoF0sA"
                + "hXEsaB2HcS1ScS4oSwFLAYVxL2ghWAIAAABpNHEwiYiHcTFScTIoSwNoJU5OTkr/////Sv////9LAHRxM2KJaBlYBAAAAAAAAABx"
                + "NGgbhnE1UnE2dHE3YlgGAAAAaW5kcHRycThoFmgXSwCFcTloHYdxOlJxOyhLAUsDhXE8aDKJaBlYDgAAAAAAAADCoMKGAQABAAAA"
                + "cT1oG4ZxPlJxP3RxQGJ1YnVidWIu"
        )!)

    @Test(arguments: [warningInArgs, warningAttribute])
    func theReviewersFilesAreRefused(_ bytes: [UInt8]) {
        let report = ModelScanner().scan(bytes: bytes, name: "model.pkl")
        #expect(report.has("pickle.formatted-state"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// A version that is no text is high on any estimator; text passes.
    @Test(arguments: [true, false])
    func anEstimatorsVersionMustBeText(_ text: Bool) {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("sklearn.preprocessing._data", "StandardScaler")
        p.emptyTuple()
        p.newObj()
        p.emptyDict()
        p.shortUnicode("_sklearn_version")
        if text { p.shortUnicode("1.9.1") } else { p.binInt1(1) }
        p.setItem()
        p.build()
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("pickle.formatted-state") == !text, "\(report.findings)")
    }

    /// An exception made from an object (here an estimator, whose printing reaches its attributes) is high; from text
    /// it passes.
    @Test(arguments: [true, false])
    func anExceptionIsMadeFromLiteralsOnly(_ text: Bool) {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("sklearn.exceptions", "ConvergenceWarning")
        if text {
            p.shortUnicode("did not converge")
        } else {
            p.global("sklearn.preprocessing._data", "StandardScaler")
            p.emptyTuple()
            p.newObj()
        }
        p.tuple1()
        p.reduce()
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("pickle.formatted-state") == !text, "\(report.findings)")
    }
}
