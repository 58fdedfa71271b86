import Foundation
import Testing

@testable import ModelScan

/// Scanner review 56: numpy accepts a datetime unit with a multiplier of 0 from a string (`dtype('M8[0ns]')`, though
/// not from a pickled state) and divides by it when it casts: `MaskedArray.__setstate__` casting its fill value killed
/// all four loaders with SIGFPE. `numpy.dtype`, `datetime64` and `timedelta64` called with such a unit, or with an
/// argument the scanner cannot read, are high (`numpy.dtype-state`).
@Suite struct ModelScannerReview56AttackTests {
    /// The reviewer's `fpe_ma_p2.pkl` and `fpe_ma_p4.pkl`: `_mareconstruct` with dtype `M8[0ns]` and a fill value of
    /// dtype `M8[0s]`, each made by calling `numpy.dtype` with no `BUILD` after it.
    static let zeroMultiplier: [String] = [
        "gAJjbnVtcHkubWEuY29yZQpfbWFyZWNvbnN0cnVjdApxAChjbnVtcHkubWEKTWFza2VkQXJyYXkKcQFjbnVtcHkKbmRhcnJh"
            + "eQpxAksAhXEDWAEAAABicQR0cQVScQYoSwFLAoVxB2NudW1weQpkdHlwZQpxCFgHAAAATThbMG5zXXEJhXEKUnELiWNfY29k"
            + "ZWNzCmVuY29kZQpxDFgQAAAAAAAAAAAAAAAAAAAAAAAAAHENWAYAAABsYXRpbjFxDoZxD1JxEGgMWAIAAAAAAHERaA6GcRJS"
            + "cRNjbnVtcHkuX2NvcmUubXVsdGlhcnJheQpfcmVjb25zdHJ1Y3QKcRRoAmgDaAxYAQAAAGJxFWgOhnEWUnEXh3EYUnEZKEsB"
            + "KWgIWAYAAABNOFswc11xGoVxG1JxHIloDFgIAAAABQAAAAAAAABxHWgOhnEeUnEfdHEgYnRxIWIu",
        "gASV9QAAAAAAAACMDW51bXB5Lm1hLmNvcmWUjA5fbWFyZWNvbnN0cnVjdJSTlCiMCG51bXB5Lm1hlIwLTWFza2VkQXJyYXmU"
            + "k5SMBW51bXB5lIwHbmRhcnJheZSTlEsAhZSMAWKUdJRSlChLAUsChZRoBowFZHR5cGWUk5SMB004WzBuc12UhZRSlIlDEAAA"
            + "AAAAAAAAAAAAAAAAAACUQwIAAJSMFm51bXB5Ll9jb3JlLm11bHRpYXJyYXmUjAxfcmVjb25zdHJ1Y3SUk5RoCGgJQwFilIeU"
            + "UpQoSwEpaA+MBk04WzBzXZSFlFKUiUMIBQAAAAAAAACUdJRidJRiLg==",
    ]
    /// What `pickle.dumps` writes for real datetime arrays, scalars, dtypes and masked arrays at protocols 2 and 4.
    static let real: [(String, String)] = [
        (
            "array M8[ns] protocol 2",
            "gAJjbnVtcHkuX2NvcmUubXVsdGlhcnJheQpfcmVjb25zdHJ1Y3QKcQBjbnVtcHkKbmRhcnJheQpxAUsAhXECY19jb2RlY3MK"
                + "ZW5jb2RlCnEDWAEAAABicQRYBgAAAGxhdGluMXEFhnEGUnEHh3EIUnEJKEsBSwGFcQpjbnVtcHkKZHR5cGUKcQtYAgAAAE04"
                + "cQyJiIdxDVJxDihLBFgBAAAAPHEPTk5OSv////9K/////0sATihoA1gCAAAAbnNxEGgFhnERUnESSwFLAUsBdHEThnEUdHEV"
                + "YoloA1gMAAAAAADCisK5NcKaw6UVcRZoBYZxF1JxGHRxGWIu"
        ),
        (
            "array M8[ns] protocol 4",
            "gASVogAAAAAAAACMFm51bXB5Ll9jb3JlLm11bHRpYXJyYXmUjAxfcmVjb25zdHJ1Y3SUk5SMBW51bXB5lIwHbmRhcnJheZST"
                + "lEsAhZRDAWKUh5RSlChLAUsBhZRoA4wFZHR5cGWUk5SMAk04lImIh5RSlChLBIwBPJROTk5K/////0r/////SwBOKEMCbnOU"
                + "SwFLAUsBdJSGlHSUYolDCAAAirk1muUVlHSUYi4="
        ),
        (
            "scalar datetime64 10s protocol 2",
            "gAJjbnVtcHkuX2NvcmUubXVsdGlhcnJheQpzY2FsYXIKcQBjbnVtcHkKZHR5cGUKcQFYAgAAAE04cQKJiIdxA1JxBChLBFgB"
                + "AAAAPHEFTk5OSv////9K/////0sATihjX2NvZGVjcwplbmNvZGUKcQZYAQAAAHNxB1gGAAAAbGF0aW4xcQiGcQlScQpLCksB"
                + "SwF0cQuGcQx0cQ1iaAZYCgAAAMKAwpZnCQAAAABxDmgIhnEPUnEQhnERUnESLg=="
        ),
        (
            "scalar datetime64 10s protocol 4",
            "gASVegAAAAAAAACMFm51bXB5Ll9jb3JlLm11bHRpYXJyYXmUjAZzY2FsYXKUk5SMBW51bXB5lIwFZHR5cGWUk5SMAk04lImI"
                + "h5RSlChLBIwBPJROTk5K/////0r/////SwBOKEMBc5RLCksBSwF0lIaUdJRiQwiAlmcJAAAAAJSGlFKULg=="
        ),
        (
            "dtype m8[5us] protocol 2",
            "gAJjbnVtcHkKZHR5cGUKcQBYAgAAAG04cQGJiIdxAlJxAyhLBFgBAAAAPHEETk5OSv////9K/////0sATihjX2NvZGVjcwpl"
                + "bmNvZGUKcQVYAgAAAHVzcQZYBgAAAGxhdGluMXEHhnEIUnEJSwVLAUsBdHEKhnELdHEMYi4="
        ),
        (
            "dtype m8[5us] protocol 4",
            "gASVSAAAAAAAAACMBW51bXB5lIwFZHR5cGWUk5SMAm04lImIh5RSlChLBIwBPJROTk5K/////0r/////SwBOKEMCdXOUSwVL"
                + "AUsBdJSGlHSUYi4="
        ),
        (
            "masked M8[s] protocol 2",
            "gAJjbnVtcHkubWEuY29yZQpfbWFyZWNvbnN0cnVjdApxAChjbnVtcHkubWEKTWFza2VkQXJyYXkKcQFjbnVtcHkKbmRhcnJh"
                + "eQpxAksAhXEDWAEAAABicQR0cQVScQYoSwFLAYVxB2NudW1weQpkdHlwZQpxCFgCAAAATThxCYmIh3EKUnELKEsEWAEAAAA8"
                + "cQxOTk5K/////0r/////SwBOKGNfY29kZWNzCmVuY29kZQpxDVgBAAAAc3EOWAYAAABsYXRpbjFxD4ZxEFJxEUsBSwFLAXRx"
                + "EoZxE3RxFGKJaA1YCQAAAADDoQteAAAAAHEVaA+GcRZScRdoDVgBAAAAAHEYaA+GcRlScRpOdHEbYi4="
        ),
        (
            "masked M8[s] protocol 4",
            "gASVuwAAAAAAAACMDW51bXB5Lm1hLmNvcmWUjA5fbWFyZWNvbnN0cnVjdJSTlCiMCG51bXB5Lm1hlIwLTWFza2VkQXJyYXmU"
                + "k5SMBW51bXB5lIwHbmRhcnJheZSTlEsAhZSMAWKUdJRSlChLAUsBhZRoBowFZHR5cGWUk5SMAk04lImIh5RSlChLBIwBPJRO"
                + "Tk5K/////0r/////SwBOKEMBc5RLAUsBSwF0lIaUdJRiiUMIAOELXgAAAACUQwEAlE50lGIu"
        ),
    ]

    @Test func aZeroMultiplierIsRefused() {
        for encoded in Self.zeroMultiplier {
            let report = scan([UInt8](Data(base64Encoded: encoded)!))
            #expect(report.has("numpy.dtype-state", "numpy.dtype"), "\(report.findings)")
            #expect(report.isRefusedByDefault)
        }
    }

    @Test func realDatetimeValuesPass() {
        for (name, encoded) in Self.real {
            let report = scan([UInt8](Data(base64Encoded: encoded)!))
            #expect(!report.isRefusedByDefault, "\(name): \(report.findings)")
        }
    }

    /// The unit in every spelling numpy takes: in brackets, as a whole argument, as a divisor, signed or spaced.
    @Test(arguments: [
        ("M8[0ns]", true), ("M8[00s]", true), ("M8[ns/0]", true), ("M8[+0ns]", true), ("M8[ 0ns]", true),
        ("M8[-0ns]", true), ("M8[ns/2]", true), ("M8[10s]", false), ("M8[ns]", false), ("M8", false),
        ("<m8[5us]", false), ("f8", false), ("M8[generic]", false),
    ])
    func aDtypeCodeMustSpellItsUnitAsNumpyWritesIt(_ text: String, _ refused: Bool) {
        #expect((PickleInterpreter.datetimeUnitProblem("numpy.dtype", [.string(text)]) != nil) == refused)
    }

    @Test(arguments: [("0s", true), ("+0s", true), ("s", false), ("10s", false), ("ns", false), ("2020", true)])
    func aUnitArgumentMustBeOneNumpyWrites(_ unit: String, _ refused: Bool) {
        let items: [PickleValue] = [.int(5), .string(unit)]
        #expect((PickleInterpreter.datetimeUnitProblem("numpy.datetime64", items) != nil) == refused)
    }
}
