import Foundation
import Testing

@testable import ModelScan

/// Scanner review 68 found no way around review 67's record-dtype fix, and one crash the scanner passed: numpy keeps
/// the alignment of a flexible dtype's state (bytes, text, void, structured, record), and its copy loops divide by
/// it. Alignment 0, one byte changed in files real libraries wrote, was SIGFPE during `joblib.load` and at the first
/// copy or print after `pickle.load`. Only the alignments numpy writes pass (`numpy.dtype-state`).
@Suite struct ModelScannerReview68AttackTests {
    /// The reviewer's `s8_align0.joblib`: `joblib.dump({"x": np.array([b"abcdefgh"] * 4, dtype="S8")})`, alignment 0.
    static let bytesJoblib = base64Bytes(
        "gASV0QAAAAAAAAB9lIwBeJSME2pvYmxpYi5udW1weV9waWNrbGWUjBFOdW1weUFycmF5V3JhcHBlcpSTlCmBlH2UKIwIc3ViY2xhc3OUjAVu"
            + "dW1weZSMB25kYXJyYXmUk5SMBXNoYXBllEsEhZSMBW9yZGVylIwBQ5SMBWR0eXBllGgIjAVkdHlwZZSTlIwCUziUiYiHlFKUKEsDjAF8lE5O"
            + "TksISwBLAHSUYowKYWxsb3dfbW1hcJSIjBtudW1weV9hcnJheV9hbGlnbm1lbnRfYnl0ZXOUSxB1YgP///9hYmNkZWZnaGFiY2RlZmdoYWJj"
            + "ZGVmZ2hhYmNkZWZnaHMu")

    /// `struct8_align0.pkl`: `pickle.dumps` of a structured array with one `<f8` field, alignment 0.
    static let structuredPickle = base64Bytes(
        "gAJjbnVtcHkuX2NvcmUubXVsdGlhcnJheQpfcmVjb25zdHJ1Y3QKcQBjbnVtcHkKbmRhcnJheQpxAUsAhXECY19jb2RlY3MKZW5jb2RlCnED"
            + "WAEAAABicQRYBgAAAGxhdGluMXEFhnEGUnEHh3EIUnEJKEsBSwOFcQpjbnVtcHkKZHR5cGUKcQtYAgAAAFY4cQyJiIdxDVJxDihLA1gBAAAA"
            + "fHEPTlgBAAAAYXEQhXERfXESaBBoC1gCAAAAZjhxE4mIh3EUUnEVKEsDWAEAAAA8cRZOTk5K/////0r/////SwB0cRdiSwCGcRhzSwhLAEsQ"
            + "dHEZYoloA1gZAAAAAAAAAAAAw7A/AAAAAAAACEAAAAAAAAAUQHEaaAWGcRtScRx0cR1iLg==")

    /// `rec8_align0.pkl`: the same data as a record array, alignment 0.
    static let recordPickle = base64Bytes(
        "gAJjbnVtcHkuX2NvcmUubXVsdGlhcnJheQpfcmVjb25zdHJ1Y3QKcQBjbnVtcHkucmVjCnJlY2FycmF5CnEBSwCFcQJjX2NvZGVjcwplbmNv"
            + "ZGUKcQNYAQAAAGJxBFgGAAAAbGF0aW4xcQWGcQZScQeHcQhScQkoSwFLA4VxCmNudW1weQpkdHlwZQpxC2NudW1weQpyZWNvcmQKcQyJiIdx"
            + "DVJxDihLA1gBAAAAfHEPTlgBAAAAYXEQhXERfXESaBBoC1gCAAAAZjhxE4mIh3EUUnEVKEsDWAEAAAA8cRZOTk5K/////0r/////SwB0cRdi"
            + "SwCGcRhzSwhLAEsQdHEZYoloA1gZAAAAAAAAAAAAw7A/AAAAAAAACEAAAAAAAAAUQHEaaAWGcRtScRx0cR1iLg==")

    /// `pickle.dumps([aligned struct (c16, i4), text array, bytes array], protocol=4)`: alignments 8, 4 and 1.
    static let alignedDtypes = base64Bytes(
        "gASVoQEAAAAAAABdlCiMFm51bXB5Ll9jb3JlLm11bHRpYXJyYXmUjAxfcmVjb25zdHJ1Y3SUk5SMBW51bXB5lIwHbmRhcnJheZSTlEsAhZRD"
            + "AWKUh5RSlChLAUsChZRoBIwFZHR5cGWUk5SMA1YyNJSJiIeUUpQoSwOMAXyUTowBYZSMAWKUhpR9lChoEmgNjANjMTaUiYiHlFKUKEsDjAE8"
            + "lE5OTkr/////Sv////9LAHSUYksAhpRoE2gNjAJpNJSJiIeUUpQoSwNoGU5OTkr/////Sv////9LAHSUYksQhpR1SxhLCEuQdJRiiUMwAAAA"
            + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAlHSUYmgDaAZLAIWUaAiHlFKUKEsBSwKFlGgNjAJVMpSJiIeU"
            + "UpQoSwNoGU5OTksISwRLCHSUYolDEGEAAABiAAAAYwAAAAAAAACUdJRiaANoBksAhZRoCIeUUpQoSwFLAYWUaA2MAlMylImIh5RSlChLA2gR"
            + "Tk5OSwJLAUsAdJRiiUMCeHmUdJRiZS4=")

    @Test(arguments: [("S8 joblib", bytesJoblib), ("structured", structuredPickle), ("record", recordPickle)])
    func alignmentZeroIsRefused(_ label: String, _ file: [UInt8]) {
        let report = scan(file)
        #expect(report.has("numpy.dtype-state"), "\(label): \(report.findings)")
        #expect(report.isRefusedByDefault, "\(label)")
    }

    @Test func theAlignmentsNumpyWritesPass() {
        let report = scan(Self.alignedDtypes)
        #expect(report.findings.isEmpty, "\(report.findings)")
    }
}
