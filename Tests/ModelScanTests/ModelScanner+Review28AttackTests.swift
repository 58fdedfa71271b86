import Foundation
import Testing

@testable import ModelScan

/// The bypass of the twenty-eighth adversarial review of the scanner (2026-12-05): joblib replaces a NumpyArrayWrapper
/// on the stack with what it read (for an array of objects, whatever its nested pickle returned, here a
/// `StandardScaler`), while the scanner kept the wrapper there, so a second BUILD on that slot was sized as another
/// array joblib never reads, and the `os.system` call joblib ran was array data to the scanner (0 findings, also
/// gzipped). The payload runs `touch /nonexistent/review28-1` under `joblib.load`.
@Suite struct ModelScannerReview28AttackTests {
    static let secondBuildAfterAnObjectArray = [UInt8](
        Data(
            base64Encoded:
                "gANjam9ibGliLm51bXB5X3BpY2tsZQpOdW1weUFycmF5V3JhcHBlcgopgX0oWAUAAABzaGFwZUsBhVgFAAAAb3JkZXJYAQAAAENY"
                + "BQAAAGR0eXBlY251bXB5CmR0eXBlClgCAAAAdTGJiIdSWAoAAABhbGxvd19tbWFwiVgbAAAAbnVtcHlfYXJyYXlfYWxpZ25tZW50"
                + "X2J5dGVzTnVi/zBjam9ibGliLm51bXB5X3BpY2tsZQpOdW1weUFycmF5V3JhcHBlcgopgX0oWAUAAABzaGFwZUsBhVgFAAAAb3Jk"
                + "ZXJYAQAAAENYBQAAAGR0eXBlY251bXB5CmR0eXBlClgBAAAAT4mIh1JYCgAAAGFsbG93X21tYXCJWBsAAABudW1weV9hcnJheV9h"
                + "bGlnbm1lbnRfYnl0ZXNOdWKAA2Nza2xlYXJuLnByZXByb2Nlc3NpbmcuX2RhdGEKU3RhbmRhcmRTY2FsZXIKKYF9WAUAAABkdHlw"
                + "ZWNudW1weQpkdHlwZQpYAgAAAGY4iYiHUnNiLn0oWAUAAABzaGFwZUsyhVgFAAAAb3JkZXJYAQAAAENYBQAAAGR0eXBlY251bXB5"
                + "CmR0eXBlClgCAAAAdTGJiIdSWAoAAABhbGxvd19tbWFwiVgbAAAAbnVtcHlfYXJyYXlfYWxpZ25tZW50X2J5dGVzTnViMGNvcwpz"
                + "eXN0ZW0KWB0AAAB0b3VjaCAvbm9uZXhpc3RlbnQvcmV2aWV3MjgtMYVSME4u"
        )!)

    @Test func aBuildOnWhatJoblibLeftForAnArrayIsNotSizedAsAnotherArray() {
        let report = ModelScanner().scan(bytes: Self.secondBuildAfterAnObjectArray, name: "model.joblib")
        #expect(report.has("pickle.build-on-passthrough"), "\(report.findings)")
        #expect(report.has("pickle.global.dangerous"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }
}
