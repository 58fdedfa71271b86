import Foundation
import Testing

@testable import ModelScan

/// Scanner review 58: numpy reads a datetime dtype state's metadata `(unit, num, den, event)`, checks only that `num`
/// and `den` are positive, and folds the divisor into the multiplier in 32-bit arithmetic: `(b's', 2**29, 125, 1)`
/// became `datetime64[0ms]`, and a masked array's fill value cast killed all four loaders with SIGFPE. The same tuple
/// as `datetime64`'s unit argument made a scalar whose arithmetic did. A datetime state's metadata must now be
/// `(None or a dict, (unit, num, 1, 1))` with a unit numpy writes, and a unit argument must be text.
@Suite struct ModelScannerReview58AttackTests {
    /// The reviewer's files: `fpe_meta_p{2,4,5}` (the state) and `fpe_unit_tuple_p{2,4}` (the unit argument).
    static let attacks: [(String, String)] = [
        (
            "fpe_meta_p2.pkl",
            "gAJjbnVtcHkubWEuY29yZQpfbWFyZWNvbnN0cnVjdApxAChjbnVtcHkubWEKTWFza2VkQXJyYXkKcQFjbnVtcHkKbmRhcnJh"
                + "eQpxAksAhXEDY19jb2RlY3MKZW5jb2RlCnEEWAEAAABicQVYBgAAAGxhdGluMXEGhnEHUnEIdHEJUnEKKEsBSwKFcQtjbnVt"
                + "cHkKZHR5cGUKcQxYAgAAAE04cQ2JiIdxDlJxDyhLBFgBAAAAPHEQTk5OSv////9K/////0sATihoBFgBAAAAc3ERaAaGcRJS"
                + "cRNKAAAAIEt9SwF0cRSGcRV0cRZiiWgEWBAAAAAAAAAAAAAAAAAAAAAAAAAAcRdoBoZxGFJxGWgEWAIAAAAAAHEaaAaGcRtS"
                + "cRxjbnVtcHkuX2NvcmUubXVsdGlhcnJheQpfcmVjb25zdHJ1Y3QKcR1oAksAhXEeaAiHcR9ScSAoSwEpaAxYAgAAAE04cSGJ"
                + "iIdxIlJxIyhLBGgQTk5OSv////9K/////0sATihoE0sBSwFLAXRxJIZxJXRxJmKJaARYCAAAAAUAAAAAAAAAcSdoBoZxKFJx"
                + "KXRxKmJ0cStiLg=="
        ),
        (
            "fpe_meta_p4.pkl",
            "gASVQQEAAAAAAACMDW51bXB5Lm1hLmNvcmWUjA5fbWFyZWNvbnN0cnVjdJSTlCiMCG51bXB5Lm1hlIwLTWFza2VkQXJyYXmU"
                + "k5SMBW51bXB5lIwHbmRhcnJheZSTlEsAhZRDAWKUdJRSlChLAUsChZRoBowFZHR5cGWUk5SMAk04lImIh5RSlChLBIwBPJRO"
                + "Tk5K/////0r/////SwBOKEMBc5RKAAAAIEt9SwF0lIaUdJRiiUMQAAAAAAAAAAAAAAAAAAAAAJRDAgAAlIwWbnVtcHkuX2Nv"
                + "cmUubXVsdGlhcnJheZSMDF9yZWNvbnN0cnVjdJSTlGgISwCFlGgKh5RSlChLASloD4wCTTiUiYiHlFKUKEsEaBNOTk5K////"
                + "/0r/////SwBOKGgUSwFLAUsBdJSGlHSUYolDCAUAAAAAAAAAlHSUYnSUYi4="
        ),
        (
            "fpe_meta_p5.pkl",
            "gAWVQQEAAAAAAACMDW51bXB5Lm1hLmNvcmWUjA5fbWFyZWNvbnN0cnVjdJSTlCiMCG51bXB5Lm1hlIwLTWFza2VkQXJyYXmU"
                + "k5SMBW51bXB5lIwHbmRhcnJheZSTlEsAhZRDAWKUdJRSlChLAUsChZRoBowFZHR5cGWUk5SMAk04lImIh5RSlChLBIwBPJRO"
                + "Tk5K/////0r/////SwBOKEMBc5RKAAAAIEt9SwF0lIaUdJRiiUMQAAAAAAAAAAAAAAAAAAAAAJRDAgAAlIwWbnVtcHkuX2Nv"
                + "cmUubXVsdGlhcnJheZSMDF9yZWNvbnN0cnVjdJSTlGgISwCFlGgKh5RSlChLASloD4wCTTiUiYiHlFKUKEsEaBNOTk5K////"
                + "/0r/////SwBOKGgUSwFLAUsBdJSGlHSUYolDCAUAAAAAAAAAlHSUYnSUYi4="
        ),
        (
            "fpe_unit_tuple_p2.pkl",
            "gAJ9cQBYAgAAAHQwcQFjbnVtcHkKZGF0ZXRpbWU2NApxAksFKFgBAAAAc3EDSgAAACBLfU50cQSGcQVScQZzLg=="
        ),
        (
            "fpe_unit_tuple_p4.pkl",
            "gASVNQAAAAAAAAB9lIwCdDCUjAVudW1weZSMCmRhdGV0aW1lNjSUk5RLBSiMAXOUSgAAACBLfU50lIaUUpRzLg=="
        ),
    ]
    /// What `pickle.dumps` writes for real datetime dtypes, a dtype with metadata and a structured array with a
    /// datetime field, at protocols 2 and 4.
    static let real: [(String, String)] = [
        (
            "dtype M8[10s] protocol 2",
            "gAJjbnVtcHkKZHR5cGUKcQBYAgAAAE04cQGJiIdxAlJxAyhLBFgBAAAAPHEETk5OSv////9K/////0sATihjX2NvZGVjcwpl"
                + "bmNvZGUKcQVYAQAAAHNxBlgGAAAAbGF0aW4xcQeGcQhScQlLCksBSwF0cQqGcQt0cQxiLg=="
        ),
        (
            "dtype M8[10s] protocol 4",
            "gASVRwAAAAAAAACMBW51bXB5lIwFZHR5cGWUk5SMAk04lImIh5RSlChLBIwBPJROTk5K/////0r/////SwBOKEMBc5RLCksB"
                + "SwF0lIaUdJRiLg=="
        ),
        (
            "dtype M8 generic protocol 2",
            "gAJjbnVtcHkKZHR5cGUKcQBYAgAAAE04cQGJiIdxAlJxAyhLBFgBAAAAPHEETk5OSv////9K/////0sATihjX2NvZGVjcwpl"
                + "bmNvZGUKcQVYBwAAAGdlbmVyaWNxBlgGAAAAbGF0aW4xcQeGcQhScQlLAUsBSwF0cQqGcQt0cQxiLg=="
        ),
        (
            "dtype M8 generic protocol 4",
            "gASVTQAAAAAAAACMBW51bXB5lIwFZHR5cGWUk5SMAk04lImIh5RSlChLBIwBPJROTk5K/////0r/////SwBOKEMHZ2VuZXJp"
                + "Y5RLAUsBSwF0lIaUdJRiLg=="
        ),
        (
            "dtype f8 with metadata protocol 2",
            "gAJjbnVtcHkKZHR5cGUKcQBYAgAAAGY4cQGJiIdxAlJxAyhLBFgBAAAAPHEETk5OSv////9K/////0sAfXEFWAQAAAB1bml0"
                + "cQZYAgAAAGtncQdzdHEIYi4="
        ),
        (
            "dtype f8 with metadata protocol 4",
            "gASVRgAAAAAAAACMBW51bXB5lIwFZHR5cGWUk5SMAmY4lImIh5RSlChLBIwBPJROTk5K/////0r/////SwB9lIwEdW5pdJSM"
                + "AmtnlHN0lGIu"
        ),
        (
            "structured M8[us] field protocol 2",
            "gAJjbnVtcHkuX2NvcmUubXVsdGlhcnJheQpfcmVjb25zdHJ1Y3QKcQBjbnVtcHkKbmRhcnJheQpxAUsAhXECY19jb2RlY3MK"
                + "ZW5jb2RlCnEDWAEAAABicQRYBgAAAGxhdGluMXEFhnEGUnEHh3EIUnEJKEsBSwGFcQpjbnVtcHkKZHR5cGUKcQtYAwAAAFYx"
                + "NnEMiYiHcQ1ScQ4oSwNYAQAAAHxxD05YAQAAAHRxEFgBAAAAeHERhnESfXETKGgQaAtYAgAAAE04cRSJiIdxFVJxFihLBFgB"
                + "AAAAPHEXTk5OSv////9K/////0sATihoA1gCAAAAdXNxGGgFhnEZUnEaSwFLAUsBdHEbhnEcdHEdYksAhnEeaBFoC1gCAAAA"
                + "ZjhxH4mIh3EgUnEhKEsDaBdOTk5K/////0r/////SwB0cSJiSwiGcSN1SxBLAUsQdHEkYoloA1gQAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAHElaAWGcSZScSd0cShiLg=="
        ),
        (
            "structured M8[us] field protocol 4",
            "gASVBwEAAAAAAACMFm51bXB5Ll9jb3JlLm11bHRpYXJyYXmUjAxfcmVjb25zdHJ1Y3SUk5SMBW51bXB5lIwHbmRhcnJheZST"
                + "lEsAhZRDAWKUh5RSlChLAUsBhZRoA4wFZHR5cGWUk5SMA1YxNpSJiIeUUpQoSwOMAXyUTowBdJSMAXiUhpR9lChoEWgMjAJN"
                + "OJSJiIeUUpQoSwSMATyUTk5OSv////9K/////0sATihDAnVzlEsBSwFLAXSUhpR0lGJLAIaUaBJoDIwCZjiUiYiHlFKUKEsD"
                + "aBhOTk5K/////0r/////SwB0lGJLCIaUdUsQSwFLEHSUYolDEAAAAAAAAAAAAAAAAAAAAACUdJRiLg=="
        ),
    ]

    @Test func aDatetimeMetadataOrUnitTupleNumpyDoesNotWriteIsRefused() {
        for (name, encoded) in Self.attacks {
            let report = scan([UInt8](Data(base64Encoded: encoded)!))
            #expect(report.has("numpy.dtype-state"), "\(name): \(report.findings)")
            #expect(report.isRefusedByDefault, "\(name)")
        }
    }

    @Test func realDatetimeDtypesPass() {
        for (name, encoded) in Self.real {
            let report = scan([UInt8](Data(base64Encoded: encoded)!))
            #expect(!report.isRefusedByDefault, "\(name): \(report.findings)")
        }
    }
}
