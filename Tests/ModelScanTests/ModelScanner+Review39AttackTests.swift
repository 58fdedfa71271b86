import Foundation
import Testing

@testable import ModelScan

/// Scanner review 39, on review 38's fix: review 38's memory forgery placed as a joblib array's bytes, which joblib
/// reads as data and `pickle.load` runs, passed (0 findings): of the `pickle.load` reading only imports were kept.
/// Now every high finding of that reading before the point where `pickle.load` stops is kept (joblib's own rules
/// aside), and calling numpy's reductions or `asarray`, allowed as values, is high: called, they read their
/// argument's `__array_interface__`.
@Suite struct ModelScannerReview39AttackTests {
    /// The reviewer's `leak.pkl`: a NumpyArrayWrapper whose "array" is review 38's memory read.
    static let forgeryInArrayBytes = [UInt8](
        Data(
            base64Encoded:
                "gAJjam9ibGliLm51bXB5X3BpY2tsZQpOdW1weUFycmF5V3JhcHBlcgopgX0oWAgAAABzdWJjbGFzc2NudW1weQpuZGFycmF5ClgF"
                + "AAAAc2hhcGVKqgEAAIVYBQAAAG9yZGVyWAEAAABDWAUAAABkdHlwZWNudW1weQpkdHlwZQpYAgAAAHUxiYiHUlgKAAAAYWxsb3df"
                + "bW1hcIlYGwAAAG51bXB5X2FycmF5X2FsaWdubWVudF9ieXRlc051YihYHQAAAFB5Qnl0ZXNfVHlwZV9yZWFkX2Zyb21fbWVtb3J5"
                + "Y2J1aWx0aW5zCmludAooY3NjaXB5Ll9saWIuYXJyYXlfYXBpX2NvbXBhdC5udW1weS5fYWxpYXNlcwphc2FycmF5Cihjc2tsZWFy"
                + "bi5wcmVwcm9jZXNzaW5nLl9kYXRhClN0YW5kYXJkU2NhbGVyCih0UihjYnVpbHRpbnMKc3RyCihYEwAAAF9fYXJyYXlfaW50ZXJm"
                + "YWNlX190UihYBQAAAHNoYXBlKHRYBwAAAHR5cGVzdHJYAwAAADxpOFgEAAAAZGF0YUJAAAAAQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
                + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQVgGAAAAb2Zmc2V0igHoWAcAAAB2ZXJzaW9uigEDZGRi"
                + "dFJyAAAAAHRSWA4AAABsaWJweXRob25fYmFzZWNidWlsdGlucwppbnQKKGNudW1weQphdmVyYWdlCigoagAAAACKA8B5u4oAbE4o"
                + "igEBigEBigH/bHRSdFJkLi4=")!)

    @Test func theReviewersFileIsRefused() {
        let report = ModelScanner().scan(bytes: Self.forgeryInArrayBytes, name: "model.joblib")
        #expect(report.isRefusedByDefault, "\(report.findings)")
        #expect(report.has("pickle.build-class"), "\(report.findings)")
    }

    @Test(arguments: ["mean", "average", "median", "matrix"])
    func callingAReductionIsHigh(_ name: String) {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("numpy", name)
        p.raw([0x4B, 0x01, 0x85, 0x52])  // BININT1 1, TUPLE1, REDUCE
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("pickle.call-array-coercion", "numpy.\(name)"), "\(report.findings)")
    }
}
