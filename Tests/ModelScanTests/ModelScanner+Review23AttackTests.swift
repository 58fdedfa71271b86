import Foundation
import Testing

@testable import ModelScan

/// The bypass of the twenty-third adversarial review of the scanner (2026-12-05): `_rebuild_from_type(func, Tensor,
/// args, {})` is `func(*args)`, and nested two deep it made a NumpyArrayWrapper the argument check did not see, so
/// both readings took its five array bytes as a `BINBYTES` hiding `os.system` that `joblib.load` ran (0 findings).
/// The payload runs `touch /nonexistent/review23-1`.
@Suite struct ModelScannerReview23AttackTests {
    static let nestedRebuilds = [UInt8](
        Data(
            base64Encoded:
                "gAJjdG9yY2guX3RlbnNvcgpfcmVidWlsZF9mcm9tX3R5cGUKKGN0b3JjaC5fdGVuc29yCl9yZWJ1aWxkX2Zyb21fdHlwZQpjdG9y"
                + "Y2gKVGVuc29yCihjdG9yY2guX3RlbnNvcgpfcmVidWlsZF9mcm9tX3R5cGUKY3RvcmNoClRlbnNvcgooY2pvYmxpYi5udW1weV9w"
                + "aWNrbGUKTnVtcHlBcnJheVdyYXBwZXIKY3RvcmNoClRlbnNvcgooY251bXB5Cm5kYXJyYXkKKEsFdFgBAAAAQ2NudW1weQpkdHlw"
                + "ZQooWAIAAAB1MYmIdFJ0fXR9dH10Un1YGwAAAG51bXB5X2FycmF5X2FsaWdubWVudF9ieXRlc05zYkIxAAAAMGNvcwpzeXN0ZW0K"
                + "WB0AAAB0b3VjaCAvbm9uZXhpc3RlbnQvcmV2aWV3MjMtMYVSLi4=")!)

    @Test func aWrapperMadeThroughNestedRebuildsIsRefused() {
        let report = ModelScanner().scan(bytes: Self.nestedRebuilds, name: "model.joblib")
        #expect(report.has("joblib.wrapper-indirect", "_rebuild_from_type"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }
}
