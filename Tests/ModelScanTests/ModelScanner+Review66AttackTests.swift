import Foundation
import Testing

@testable import ModelScan

/// Scanner review 66 found no bypass, and false positives: numpy lists a structured field's title as a key of its
/// own in the dtype's fields, so an ordinary array whose field has a title (`np.dtype([(("Temperature in C", "temp"),
/// "<f8"), ("id", "<i4")])`), dumped by joblib or pickle, was refused (`numpy.dtype-state`). A title key now passes
/// when its entry repeats its field's dtype, offset and title; any other extra key is still refused.
@Suite struct ModelScannerReview66AttackTests {
    /// The reviewer's `titles_fp.joblib`: `joblib.dump` of three zeros of that dtype.
    static let titledJoblib = base64Bytes(
        "gASVSQEAAAAAAACME2pvYmxpYi5udW1weV9waWNrbGWUjBFOdW1weUFycmF5V3JhcHBlcpSTlCmBlH2UKIwIc3ViY2xhc3OUjAVudW1weZSM"
            + "B25kYXJyYXmUk5SMBXNoYXBllEsDhZSMBW9yZGVylIwBQ5SMBWR0eXBllGgGjAVkdHlwZZSTlIwDVjEylImIh5RSlChLA4wBfJROjAR0ZW1w"
            + "lIwCaWSUhpR9lChoFGgPjAJmOJSJiIeUUpQoSwOMATyUTk5OSv////9K/////0sAdJRiSwCMEFRlbXBlcmF0dXJlIGluIEOUh5RoHWgeaBVo"
            + "D4wCaTSUiYiHlFKUKEsDaBtOTk5K/////0r/////SwB0lGJLCIaUdUsMSwFLEHSUYowKYWxsb3dfbW1hcJSIjBtudW1weV9hcnJheV9hbGln"
            + "bm1lbnRfYnl0ZXOUSxB1Ygv//////////////wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAC4=")

    /// The reviewer's `titles_fp.p5.pkl`: the same array through `pickle.dumps(protocol=5)`.
    static let titledPickle = base64Bytes(
        "gAWVEAEAAAAAAACME251bXB5Ll9jb3JlLm51bWVyaWOUjAtfZnJvbWJ1ZmZlcpSTlCiWJAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
            + "AAAAAAAAAAAAAAAAAACUjAVudW1weZSMBWR0eXBllJOUjANWMTKUiYiHlFKUKEsDjAF8lE6MBHRlbXCUjAJpZJSGlH2UKGgLaAaMAmY4lImI"
            + "h5RSlChLA4wBPJROTk5K/////0r/////SwB0lGJLAIwQVGVtcGVyYXR1cmUgaW4gQ5SHlGgUaBVoDGgGjAJpNJSJiIeUUpQoSwNoEk5OTkr/"
            + "////Sv////9LAHSUYksIhpR1SwxLAUsQdJRiSwOFlIwBQ5R0lFKULg==")

    /// A dtype state written by a reducer: fields `temp` (title `T`) and `id`, with the title key `T`.
    static let titledState = base64Bytes(
        "gASVpgAAAAAAAACMBW51bXB5lIwFZHR5cGWUk5SMA1YxMpSJiIeUUpQoSwOMAXyUTowEdGVtcJSMAmlklIaUfZQoaAdoAowCZjiUiYiHlFKU"
            + "KEsDjAE8lE5OTkr/////Sv////9LAHSUYksAjAFUlIeUaBBoDUsAaBCHlGgIaAKMAmk0lImIh5RSlChLA2gOTk5OSv////9K/////0sAdJRi"
            + "SwiGlHVLDEsBSxB0lGIu")

    /// The same with the title key's offset 4, not its field's 0.
    static let movedTitle = base64Bytes(
        "gASVpgAAAAAAAACMBW51bXB5lIwFZHR5cGWUk5SMA1YxMpSJiIeUUpQoSwOMAXyUTowEdGVtcJSMAmlklIaUfZQoaAdoAowCZjiUiYiHlFKU"
            + "KEsDjAE8lE5OTkr/////Sv////9LAHSUYksAjAFUlIeUaBBoDUsEaBCHlGgIaAKMAmk0lImIh5RSlChLA2gOTk5OSv////9K/////0sAdJRi"
            + "SwiGlHVLDEsBSxB0lGIu")

    /// The same with one more key, `zzz`, that is no field's title.
    static let extraKey = base64Bytes(
        "gASVtAAAAAAAAACMBW51bXB5lIwFZHR5cGWUk5SMA1YxMpSJiIeUUpQoSwOMAXyUTowEdGVtcJSMAmlklIaUfZQoaAdoAowCZjiUiYiHlFKU"
            + "KEsDjAE8lE5OTkr/////Sv////9LAHSUYksAjAFUlIeUaBBoDUsAaBCHlIwDenp6lGgNSwBoEIeUaAhoAowCaTSUiYiHlFKUKEsDaA5OTk5K"
            + "/////0r/////SwB0lGJLCIaUdUsMSwFLEHSUYi4=")

    /// A field titled with another field's name (`temp` titled `id`), which numpy refuses to build.
    static let titleIsAName = base64Bytes(
        "gASVmgAAAAAAAACMBW51bXB5lIwFZHR5cGWUk5SMA1YxMpSJiIeUUpQoSwOMAXyUTowEdGVtcJSMAmlklIaUfZQoaAdoAowCZjiUiYiHlFKU"
            + "KEsDjAE8lE5OTkr/////Sv////9LAHSUYksAaAiHlGgIaAKMAmk0lImIh5RSlChLA2gOTk5OSv////9K/////0sAdJRiSwiGlHVLDEsBSxB0"
            + "lGIu")

    @Test(arguments: [("joblib", titledJoblib), ("pickle 5", titledPickle), ("reducer", titledState)])
    func aTitledStructuredDtypePasses(_ label: String, _ file: [UInt8]) {
        let report = scan(file)
        #expect(!report.findings.contains { $0.rule == "numpy.dtype-state" }, "\(label): \(report.findings)")
        #expect(!report.isRefusedByDefault, "\(label)")
    }

    @Test(arguments: [("moved title", movedTitle), ("extra key", extraKey), ("title is a name", titleIsAName)])
    func aTitleKeyUnlikeItsFieldIsRefused(_ label: String, _ file: [UInt8]) {
        let report = scan(file)
        #expect(report.has("numpy.dtype-state"), "\(label): \(report.findings)")
        #expect(report.isRefusedByDefault, "\(label)")
    }

    // Record arrays: `joblib.dump`, `pickle.dumps` and `np.save` of `np.rec.array(...)` were refused (`numpy.rec.recarray`
    // and `numpy.record` were not allowed, and a dtype made from `numpy.record` was not modelled).

    /// `pickle.dumps(np.rec.array([(1, 2.0), (3, 4.5)], dtype=[("a", "<i4"), ("b", "<f8")]), protocol=4)`.
    static let recordArray = base64Bytes(
        "gASVEAEAAAAAAACMFm51bXB5Ll9jb3JlLm11bHRpYXJyYXmUjAxfcmVjb25zdHJ1Y3SUk5SMCW51bXB5LnJlY5SMCHJlY2FycmF5lJOUSwCF"
            + "lEMBYpSHlFKUKEsBSwKFlIwFbnVtcHmUjAVkdHlwZZSTlGgLjAZyZWNvcmSUk5SJiIeUUpQoSwOMAXyUTowBYZSMAWKUhpR9lChoE2gNjAJp"
            + "NJSJiIeUUpQoSwOMATyUTk5OSv////9K/////0sAdJRiSwCGlGgUaA2MAmY4lImIh5RSlChLA2gaTk5OSv////9K/////0sAdJRiSwSGlHVL"
            + "DEsBSxB0lGKJQxgBAAAAAAAAAAAAAEADAAAAAAAAAAAAEkCUdJRiLg==")

    /// The same at protocol 2.
    static let recordArray2 = base64Bytes(
        "gAJjbnVtcHkuX2NvcmUubXVsdGlhcnJheQpfcmVjb25zdHJ1Y3QKcQBjbnVtcHkucmVjCnJlY2FycmF5CnEBSwCFcQJjX2NvZGVjcwplbmNv"
            + "ZGUKcQNYAQAAAGJxBFgGAAAAbGF0aW4xcQWGcQZScQeHcQhScQkoSwFLAoVxCmNudW1weQpkdHlwZQpxC2NudW1weQpyZWNvcmQKcQyJiIdx"
            + "DVJxDihLA1gBAAAAfHEPTlgBAAAAYXEQWAEAAABicRGGcRJ9cRMoaBBoC1gCAAAAaTRxFImIh3EVUnEWKEsDWAEAAAA8cRdOTk5K/////0r/"
            + "////SwB0cRhiSwCGcRloEWgLWAIAAABmOHEaiYiHcRtScRwoSwNoF05OTkr/////Sv////9LAHRxHWJLBIZxHnVLDEsBSxB0cR9iiWgDWBgA"
            + "AAABAAAAAAAAAAAAAEADAAAAAAAAAAAAEkBxIGgFhnEhUnEidHEjYi4=")

    /// `numpy.rec.recarray((2,), [("a", "<i4")])` called: it makes an array over a buffer of the caller's.
    static let recarrayCall = base64Bytes(
        "gASVMQAAAAAAAACMCW51bXB5LnJlY5SMCHJlY2FycmF5lJOUSwKFlF2UjAFhlIwDPGk0lIaUYYaUUpQu")

    /// `numpy.record(b"ab")` called.
    static let recordCall = base64Bytes(
        "gASVHQAAAAAAAACMBW51bXB5lIwGcmVjb3JklJOUQwJhYpSFlFKULg==")

    /// `dtype(numpy.record, False, True)` with an 8-byte field at offset 8 of a 12-byte item: outside it.
    static let recordFieldOutside = base64Bytes(
        "gASVbAAAAAAAAACMBW51bXB5lIwFZHR5cGWUk5RoAIwGcmVjb3JklJOUiYiHlFKUKEsDjAF8lE6MAWGUhZR9lGgIaAKMAmY4lImIh5RSlChL"
            + "A4wBPJROTk5K/////0r/////SwB0lGJLCIaUc0sMSwFLEHSUYi4=")

    /// `dtype(numpy.record, False, True)` with no fields.
    static let recordWithoutFields = base64Bytes(
        "gASVOQAAAAAAAACMBW51bXB5lIwFZHR5cGWUk5RoAIwGcmVjb3JklJOUiYiHlFKUKEsDjAF8lE5OTksMSwFLEHSUYi4=")

    @Test(arguments: [("protocol 4", recordArray), ("protocol 2", recordArray2)])
    func aRecordArrayPasses(_ label: String, _ file: [UInt8]) {
        let report = scan(file)
        #expect(report.findings.isEmpty, "\(label): \(report.findings)")
    }

    @Test(arguments: [("recarray", recarrayCall), ("record", recordCall)])
    func callingARecordClassIsRefused(_ label: String, _ file: [UInt8]) {
        let report = scan(file)
        #expect(report.has("pickle.call-array-coercion"), "\(label): \(report.findings)")
        #expect(report.isRefusedByDefault, "\(label)")
    }

    /// `recarray.__new__(recarray, shape, dtype, buf)` through `NEWOBJ` is the same call.
    @Test func makingARecordArrayThroughNewobjIsRefused() {
        var pickle = PickleAssembler(protocol: 4)
        pickle.shortUnicode("numpy.rec")
        pickle.shortUnicode("recarray")
        pickle.stackGlobal()
        pickle.binInt1(2)
        pickle.tuple1()
        pickle.shortUnicode("<i4")
        pickle.tuple2()
        pickle.newObj()
        pickle.stop()
        let report = scan(pickle.bytes)
        #expect(report.has("pickle.call-array-coercion", "numpy.rec.recarray"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    @Test(arguments: [("field outside", recordFieldOutside), ("no fields", recordWithoutFields)])
    func aRecordDtypeNumpyDoesNotWriteIsRefused(_ label: String, _ file: [UInt8]) {
        let report = scan(file)
        #expect(report.has("numpy.dtype-state"), "\(label): \(report.findings)")
        #expect(report.isRefusedByDefault, "\(label)")
    }
}
