import Foundation
import Testing

@testable import ModelScan

/// Scanner review 69: numpy sets `NPY_NEEDS_PYAPI` (flags 0x10) on every structured dtype, and trusts it. The flags
/// check allowed any subset of the bits numpy writes, so a structured array whose state said flags 0 passed; sorting
/// it (`np.sort`, `np.unique`, `searchsorted`, and `SelectFdr.transform`, which sorts its fitted `pvalues_`) released
/// the GIL and then compared items through the Python API: SIGSEGV under all four loaders. A structured dtype now needs
/// that flag (`numpy.dtype-state`).
@Suite struct ModelScannerReview69AttackTests {
    /// The reviewer's `sf_p5.pkl`: `pickle.dumps(np.zeros(1, dtype=[("a", "<f8")]), protocol=5)`, flags 16 set to 0.
    static let pickleFlagsZero = base64Bytes(
        "gAWVuQAAAAAAAACME251bXB5Ll9jb3JlLm51bWVyaWOUjAtfZnJvbWJ1ZmZlcpSTlCiWGAAAAAAAAAAAAAAAAAAIQAAAAAAAAPA/AAAAAAAA"
            + "AECUjAVudW1weZSMBWR0eXBllJOUjAJWOJSJiIeUUpQoSwOMAXyUTowBYZSFlH2UaAtoBowCZjiUiYiHlFKUKEsDjAE8lE5OTkr/////Sv//"
            + "//9LAHSUYksAhpRzSwhLAUsAdJRiSwOFlIwBQ5R0lFKULg==")

    /// `sf.joblib`: the same array through `joblib.dump`, flags 0.
    static let joblibFlagsZero = base64Bytes(
        "gASV/gAAAAAAAACME2pvYmxpYi5udW1weV9waWNrbGWUjBFOdW1weUFycmF5V3JhcHBlcpSTlCmBlH2UKIwIc3ViY2xhc3OUjAVudW1weZSM"
            + "B25kYXJyYXmUk5SMBXNoYXBllEsDhZSMBW9yZGVylIwBQ5SMBWR0eXBllGgGjAVkdHlwZZSTlIwCVjiUiYiHlFKUKEsDjAF8lE6MAWGUhZR9"
            + "lGgUaA+MAmY4lImIh5RSlChLA4wBPJROTk5K/////0r/////SwB0lGJLAIaUc0sISwFLAHSUYowKYWxsb3dfbW1hcJSIjBtudW1weV9hcnJh"
            + "eV9hbGlnbm1lbnRfYnl0ZXOUSxB1Ygb///////8AAAAAAAAIQAAAAAAAAPA/AAAAAAAAAEAu")

    /// `fdr_p5.pkl`: a fitted `SelectFdr` whose `pvalues_` is a one-field structured array with flags 0.
    static let selectFdr = base64Bytes(
        "gAWVswEAAAAAAACML3NrbGVhcm4uZmVhdHVyZV9zZWxlY3Rpb24uX3VuaXZhcmlhdGVfc2VsZWN0aW9ulIwJU2VsZWN0RmRylJOUKYGUfZQo"
            + "jApzY29yZV9mdW5jlGgAjAlmX2NsYXNzaWaUk5SMBWFscGhhlEc/4AAAAAAAAIwObl9mZWF0dXJlc19pbl+USwSMB3Njb3Jlc1+UjBNudW1w"
            + "eS5fY29yZS5udW1lcmljlIwLX2Zyb21idWZmZXKUk5QoliAAAAAAAAAAHplJtVigWkAOccBigIOhPw99kEkX1wJAMyy6kdebuz+UjAVudW1w"
            + "eZSMBWR0eXBllJOUjAJmOJSJiIeUUpQoSwOMATyUTk5OSv////9K/////0sAdJRiSwSFlIwBQ5R0lFKUjAhwdmFsdWVzX5RoDSiWIAAAAAAA"
            + "AAD1tLm/utV4PVgfE20IVus/vvu3QYsLwT/muRX0ONLnP5RoEYwCVjiUiYiHlFKUKEsDjAF8lE6MAXCUhZR9lGghaBRLAIaUc0sISwFLAHSU"
            + "YksEhZRoGHSUUpSMEF9za2xlYXJuX3ZlcnNpb26UjAUxLjkuMZR1Yi4=")

    /// `sf_p2_legit.pkl`: the unpatched array (flags 16).
    static let unpatched = base64Bytes(
        "gAJjbnVtcHkuX2NvcmUubXVsdGlhcnJheQpfcmVjb25zdHJ1Y3QKcQBjbnVtcHkKbmRhcnJheQpxAUsAhXECY19jb2RlY3MKZW5jb2RlCnED"
            + "WAEAAABicQRYBgAAAGxhdGluMXEFhnEGUnEHh3EIUnEJKEsBSwOFcQpjbnVtcHkKZHR5cGUKcQtYAgAAAFY4cQyJiIdxDVJxDihLA1gBAAAA"
            + "fHEPTlgBAAAAYXEQhXERfXESaBBoC1gCAAAAZjhxE4mIh3EUUnEVKEsDWAEAAAA8cRZOTk5K/////0r/////SwB0cRdiSwCGcRhzSwhLAUsQ"
            + "dHEZYoloA1gZAAAAAAAAAAAACEAAAAAAAADDsD8AAAAAAAAAQHEaaAWGcRtScRx0cR1iLg==")

    @Test(arguments: [("pickle", pickleFlagsZero), ("joblib", joblibFlagsZero), ("SelectFdr", selectFdr)])
    func aStructuredDtypeWithoutItsFlagIsRefused(_ label: String, _ file: [UInt8]) {
        let report = scan(file)
        #expect(report.has("numpy.dtype-state"), "\(label): \(report.findings)")
        #expect(report.isRefusedByDefault, "\(label)")
    }

    @Test func theStructuredArrayNumpyWrotePasses() {
        let report = scan(Self.unpatched)
        #expect(report.findings.isEmpty, "\(report.findings)")
    }
}
