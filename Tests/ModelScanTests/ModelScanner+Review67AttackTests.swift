import Foundation
import Testing

@testable import ModelScan

/// Scanner review 67: a dtype made from `numpy.record` is sized by its state alone, and numpy's `dtype.__setstate__`
/// changes the dtype in place. A second `BUILD` through a memo read, or one after an array took the still unbuilt
/// dtype (item size 0), grew the item size to 2^24 under a 32-byte buffer: SIGSEGV under `pickle.load`, `joblib.load`
/// and `numpy.load`, heap bytes read under `torch.load`. Only the one `BUILD` numpy writes, on the dtype just made,
/// passes; reading a record dtype again while one waits for its state, or never giving one its state, is high.
@Suite struct ModelScannerReview67AttackTests {
    /// The reviewer's `f1_crash.pkl`: the record dtype built with item size 8, an array of four items made with it,
    /// then a memo read of the dtype and a second `BUILD` with item size 2^24.
    static let secondBuild = base64Bytes(
        "gAJjbnVtcHkKZHR5cGUKY251bXB5CnJlY29yZAqJiIdScQEoSwNYAQAAAHxOKFgBAAAAeHR9KFgBAAAAeGNudW1weQpkdHlwZQpYAwAAADxm"
            + "OImIh1JLAIZ1SwhLAUsQdGIwY251bXB5Ll9jb3JlLm11bHRpYXJyYXkKX3JlY29uc3RydWN0CmNudW1weQpuZGFycmF5CihLAHRDAWKHUihL"
            + "AShLBHRoAYlDIEFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBdGJoAShLA1gBAAAAfE4oWAEAAAB4dH0oWAEAAAB4Y251bXB5CmR0"
            + "eXBlClgDAAAAPGY4iYiHUkr4//8AhnVKAAAAAUsBSxB0YjAu")

    /// The reviewer's `f1b.pkl`: an array made with the record dtype before its only `BUILD` (item size 2^24).
    static let readBeforeItsState = base64Bytes(
        "gAJjbnVtcHkKZHR5cGUKY251bXB5CnJlY29yZAqJiIdScQEwY251bXB5Ll9jb3JlLm11bHRpYXJyYXkKX3JlY29uc3RydWN0CmNudW1weQpu"
            + "ZGFycmF5CihLAHRDAWKHUihLAShLBHRoAYlDAHRiaAEoSwNYAQAAAHxOKFgBAAAAeHR9KFgBAAAAeGNudW1weQpkdHlwZQpYAwAAADxmOImI"
            + "h1JK+P//AIZ1SgAAAAFLAUsQdGIwLg==")

    /// `pickle.dumps([dtype(numpy.record, False, True)])` without a state.
    static let neverBuilt = base64Bytes(
        "gASVKQAAAAAAAABdlIwFbnVtcHmUjAVkdHlwZZSTlGgBjAZyZWNvcmSUk5SJiIeUUpRhLg==")

    /// `pickle.dumps([a, b, c, a.dtype, a[0]], protocol=4)`: two record arrays sharing one dtype (the second reads it
    /// from the memo after its `BUILD`), a third with its own, the dtype, and a record scalar.
    static let sharedDtype = base64Bytes(
        "gASV6QEAAAAAAABdlCiMFm51bXB5Ll9jb3JlLm11bHRpYXJyYXmUjAxfcmVjb25zdHJ1Y3SUk5SMCW51bXB5LnJlY5SMCHJlY2FycmF5lJOU"
            + "SwCFlEMBYpSHlFKUKEsBSwGFlIwFbnVtcHmUjAVkdHlwZZSTlGgMjAZyZWNvcmSUk5SJiIeUUpQoSwOMAXyUTowBYZSMAWKUhpR9lChoFGgO"
            + "jAJpNJSJiIeUUpQoSwOMATyUTk5OSv////9K/////0sAdJRiSwCGlGgVaA6MAmY4lImIh5RSlChLA2gbTk5OSv////9K/////0sAdJRiSwSG"
            + "lHVLDEsBSxB0lGKJQwwBAAAAAAAAAAAAAECUdJRiaANoBksAhZRoCIeUUpQoSwFLAoWUaA5oEImIh5RSlChLA2gTTmgWaBdLDEsBSxB0lGKJ"
            + "QxgDAAAAAAAAAAAAEEAFAAAAAAAAAAAAGECUdJRiaANoBksAhZRoCIeUUpQoSwFLAYWUaA5oEImIh5RSlChLA2gTTowBepSFlH2UaDVoDowC"
            + "ZjSUiYiHlFKUKEsDaBtOTk5K/////0r/////SwB0lGJLAIaUc0sESwFLEHSUYolDBAAAwD+UdJRiaBJoAYwGc2NhbGFylJOUaBJDDAEAAAAA"
            + "AAAAAAAAQJSGlFKUZS4=")

    @Test(arguments: [("second build", secondBuild), ("read before its state", readBeforeItsState)])
    func aRecordDtypeChangedUnderAnArrayIsRefused(_ label: String, _ file: [UInt8]) {
        let report = scan(file)
        #expect(report.has("numpy.dtype-state", "numpy.record"), "\(label): \(report.findings)")
        #expect(report.isRefusedByDefault, "\(label)")
    }

    @Test func aRecordDtypeNeverGivenItsStateIsRefused() {
        let report = scan(Self.neverBuilt)
        #expect(report.has("numpy.dtype-state", "numpy.record"), "\(report.findings)")
    }

    @Test func recordArraysSharingADtypePass() {
        let report = scan(Self.sharedDtype)
        #expect(report.findings.isEmpty, "\(report.findings)")
    }
}
