import Foundation
import Testing

@testable import ModelScan

/// Attacks from the fourth adversarial review of the scanner (findings 10 and 7).
@Suite struct ModelScannerReview4Tests {
    /// Finding 10: `\x80\x02)` then 200,000 TUPLE1 nests a tuple 200,000 deep; releasing it recursed once per level
    /// and crashed the scanner (SIGSEGV). Values deeper than a small bound are now opaque.
    /// Since review 62 such a pickle is also refused: CPython crashes hashing or freeing some values that deep.
    @Test func deeplyNestedTuplesDoNotCrash() {
        let bytes: [UInt8] = [0x80, 0x02, 0x29] + [UInt8](repeating: 0x85, count: 200_000) + [0x2E]
        let report = ModelScanner().scan(bytes: bytes, name: "deep.pkl")
        #expect(report.findings.map(\.rule) == ["pickle.deep-nesting"], "\(report.findings)")
    }

    /// Finding 7: a GLOBAL module line longer than the read cap was cut and judged by its harmless head
    /// (`logging.handlers.` repeated), hiding the `os.system` tail. A cut import name is now high.
    @Test func truncatedGlobalNameIsHigh() {
        let module = "logging.handlers" + String(repeating: ".logging.handlers", count: 260) + ".os"
        var bytes: [UInt8] = [0x80, 0x04, 0x63] + Array("\(module)\nsystem\n".utf8)
        bytes += Array("(X\u{02}\u{00}\u{00}\u{00}idtR.".utf8)
        let report = ModelScanner().scan(bytes: bytes, name: "long.pkl")
        #expect(report.isRefusedByDefault, "\(report.findings)")
        #expect(report.findings.contains { $0.rule == "pickle.global.unresolved" }, "\(report.findings)")
    }
}
