import Foundation
import Testing

@testable import ModelScan

/// Scanner review 50: numpy keeps a dtype state's flags byte, and an object dtype whose flags lack `NPY_LIST_PICKLE`
/// takes raw bytes as object pointers: `scalar(dtype('O8') with flags 1, b'@AAAAAAA')` dereferenced
/// 0x4141414141414140 while loading (SIGSEGV under all four loaders), and an array rebuilt with it held pointers from
/// the file. Only the flags numpy writes pass (`numpy.dtype-state`).
@Suite struct ModelScannerReview50AttackTests {
    /// The reviewer's `f2_scalarptr.pkl`.
    static let objectScalarFromBytes = [UInt8](
        Data(
            base64Encoded:
                "gASVeQAAAAAAAAB9lIwJdGhyZXNob2xklIwWbnVtcHkuX2NvcmUubXVsdGlhcnJheZSMBnNjYWxhcpSTlIwFbnVtcHmUjAVkdHlw"
                + "ZZSTlIwCTziUiYiHlFKUKEsDjAF8lE5OTkr/////Sv////9LAXSUYkMIQEFBQUFBQUGUhpRSlHMu"
        )!)

    @Test func theReviewersFileIsRefused() {
        let report = scan(Self.objectScalarFromBytes)
        #expect(report.has("numpy.dtype-state", "numpy.dtype"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// The flags numpy writes pass; others are high, whatever the kind.
    @Test(arguments: [
        ("O8", Int32(63), false), ("O8", 1, true), ("O8", 61, true), ("f8", 0, false), ("f8", 4, true),
        ("f8", 0x20, true), ("U3", 8, false), ("U3", 2, true), ("V4", 0, false), ("V4", 4, true),
    ])
    func onlyTheFlagsNumpyWritesPass(_ code: String, _ flags: Int32, _ refused: Bool) {
        var p = PickleAssembler(protocol: 2)
        p.dtype(
            code, order: "|", itemSize: code.hasPrefix("U") ? 12 : code.hasPrefix("V") ? 4 : -1,
            alignment: code.hasPrefix("U") ? 4 : code.hasPrefix("V") ? 1 : -1, flags: flags)
        p.stop()
        let report = scan(p.bytes)
        #expect(report.has("numpy.dtype-state") == refused, "\(code) \(flags): \(report.findings)")
    }
}

/// Scanner review 51: numpy takes dtype names (`object`, `bytes`, `str`, `void`) as well as codes, and the state
/// check read their first letter as the kind: `object` (kind `o`) with flags 0 made numpy take raw bytes as object
/// pointers (SIGSEGV under all four loaders), and `bytes` with item size -1 corrupted the heap. A dtype given a state
/// must be built from a code numpy writes.
@Suite struct ModelScannerReview51AttackTests {
    @Test(arguments: [
        ("object", true), ("bytes", true), ("str", true), ("void", true), ("O", true), ("O8", false), ("|O8", false),
    ])
    func aDtypeStateNeedsACodeNumpyWrites(_ code: String, _ refused: Bool) {
        var p = PickleAssembler(protocol: 2)
        p.dtype(code, order: "|", itemSize: -1, alignment: -1, flags: code.contains("O") ? 63 : 0)
        p.stop()
        let report = scan(p.bytes)
        #expect(report.has("numpy.dtype-state") == refused, "\(code): \(report.findings)")
    }
}
