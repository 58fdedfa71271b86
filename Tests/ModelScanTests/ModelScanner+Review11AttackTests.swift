import Foundation
import Testing

@testable import ModelScan

/// The bypasses of the eleventh adversarial review of the scanner (2026-12-04), each run under `joblib.load` while
/// the scanner passed it: a value too deep or too large for the scanner was erased whole, so a NumpyArrayWrapper
/// given large arguments, or a slot state naming `__class__` beside a deep value, read as unknown. The top levels of
/// such a value are kept now and only what lies below them is unknown.
@Suite struct ModelScannerReview11AttackTests {
    /// F1: `OBJ(NumpyArrayWrapper, four 64-item tuples)`, then its BUILD: the array bytes joblib reads hid `os.system`.
    static let wrapperWithLargeArguments = [UInt8](
        Data(
            base64Encoded:
                "gAIoY2pvYmxpYi5udW1weV9waWNrbGUKTnVtcHlBcnJheVdyYXBwZXIKKEsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFL"
                + "AUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFL"
                + "AUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBdChLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFL"
                + "AUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFL"
                + "AUsBSwFLAUsBSwFLAXQoSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFL"
                + "AUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwF0"
                + "KEsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFL"
                + "AUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBSwFLAUsBdG99KFgIAAAAc3ViY2xh"
                + "c3NjbnVtcHkKbmRhcnJheQpYBQAAAHNoYXBlSwWFWAUAAABvcmRlclgBAAAAQ1gFAAAAZHR5cGVjbnVtcHkKZHR5cGUKWAIA"
                + "AAB1MYmIh1JYCgAAAGFsbG93X21tYXCJWBsAAABudW1weV9hcnJheV9hbGlnbm1lbnRfYnl0ZXNOdWJCMgAAAGNvcwpzeXN0"
                + "ZW0KWB8AAAB0b3VjaCAvdG1wL3NjYW5yZXZpZXcxMS9wd25lZF8xhVIwLg==")!)

    /// F2: a `(None, {'__class__': NumpyArrayWrapper, ..., 'pad': a tuple 31 deep})` slot state on an allowed class.
    static let classStateBesideADeepValue = [UInt8](
        Data(
            base64Encoded:
                "gAJjc2tsZWFybi5fbG9zcwpIYWxmU3F1YXJlZEVycm9yCimBTn0oWAkAAABfX2NsYXNzX19jam9ibGliLm51bXB5X3BpY2ts"
                + "ZQpOdW1weUFycmF5V3JhcHBlcgpYCAAAAHN1YmNsYXNzY251bXB5Cm5kYXJyYXkKWAUAAABzaGFwZUsFhVgFAAAAb3JkZXJY"
                + "AQAAAENYBQAAAGR0eXBlY251bXB5CmR0eXBlClgCAAAAdTGJiIdSWAoAAABhbGxvd19tbWFwiVgbAAAAbnVtcHlfYXJyYXlf"
                + "YWxpZ25tZW50X2J5dGVzTlgDAAAAcGFkKYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYV1hmJCMgAAAGNvcwpzeXN0"
                + "ZW0KWB8AAAB0b3VjaCAvdG1wL3NjYW5yZXZpZXcxMS9wd25lZF8zhVIwLg==")!)

    @Test func aWrapperGivenLargeArgumentsIsStillAWrapper() {
        let report = ModelScanner().scan(bytes: Self.wrapperWithLargeArguments, name: "model.joblib")
        #expect(report.isRefusedByDefault, "\(report.findings)")
        #expect(report.has("pickle.global.dangerous", "os.system"), "\(report.findings)")
    }

    @Test func aClassStateBesideADeepValueIsSeen() {
        let report = ModelScanner().scan(bytes: Self.classStateBesideADeepValue, name: "model.joblib")
        #expect(report.has("pickle.build-class"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// What is kept of a value past the bounds: its top levels, within the node budget, with the rest unknown.
    @Test func aValuePastTheBoundsKeepsItsTopLevels() {
        var deep = PickleValue.none
        for _ in 0..<40 { deep = .tuple([deep]) }
        let value = PickleValue.tuple([.string("head"), deep])
        var visited = 0
        guard case .tuple(let items) = value.bounded(visited: &visited) else {
            Issue.record("the top level was not kept")
            return
        }
        #expect(items.count == 2)
        if case .string("head") = items[0] {} else { Issue.record("the first item was not kept: \(items[0])") }
        #expect(visited < 2_000)
    }
}

/// The limits review 11 left open (D1): a huge HDF5 file's byte search ran to the end of the file whatever the time
/// bound, and a small gzip stream that inflates to megabytes of cheap opcodes kept the scan busy up to it.
@Suite struct ModelScannerReview11LimitTests {
    /// `gzip.compress(b"\x80\x02" + b"N0" * 1_000_000 + b"N.", 9)`: 1,979 bytes that inflate to 2,000,004 (1,010:1).
    static let gzipBomb = [UInt8](
        Data(
            base64Encoded:
                "H4sIAAAAAAACA+3CAQkAAAgDMDCQmOSZjG4Qx7aVAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAAAA3ukD73fzKISEHgA=")!)

    /// A bomb ratio is medium and the stream is scanned under a short time bound (`maxBombScanTime`): running past
    /// it is high. A real compressed dump of a model that is mostly one value has that ratio too
    /// (`ModelScannerInteropTests`, `zeros.joblib`), and its arrays are skipped well within the bound.
    @Test func aGzipStreamWithABombRatioIsScannedUnderAShortTimeBound() {
        var hurried = ModelScanner()
        hurried.maxBombScanTime = .zero
        let report = hurried.scan(bytes: Self.gzipBomb, name: "model.joblib")
        #expect(report.has("gzip.compression-ratio"), "\(report.findings)")
        #expect(report.has("scan.time-budget"), "\(report.findings)")
        #expect(report.isRefusedByDefault, "\(report.findings)")
        // Within the bound the same stream is interpreted, and what it holds decides: here nothing but opcodes
        // that do nothing, so the ratio alone (medium) is reported.
        let scanned = ModelScanner().scan(bytes: Self.gzipBomb, name: "model.joblib")
        #expect(scanned.formats.contains("pickle"), "\(scanned.formats)")
        #expect(scanned.has("gzip.compression-ratio"), "\(scanned.findings)")
        #expect(!scanned.isRefusedByDefault, "\(scanned.findings)")
        // The same pickle stored (ratio about 1) is inflated and interpreted, and passes.
        var pickle: [UInt8] = [0x80, 0x02]
        for _ in 0..<1_000_000 { pickle += [0x4E, 0x30] }
        pickle += [0x4E, 0x2E]
        // Stored blocks of at most 65,535 bytes, the last one final.
        var blocks: [UInt8] = []
        for start in stride(from: 0, to: pickle.count, by: 65_535) {
            let block = pickle[start..<min(start + 65_535, pickle.count)]
            let length = UInt64(block.count)
            blocks += [start + 65_535 >= pickle.count ? 0x01 : 0x00] + le(length, 2) + le(~length & 0xFFFF, 2) + block
        }
        let gzip: [UInt8] =
            [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xFF] + blocks + le(UInt64(CRC32.checksum(pickle)), 4)
            + le(UInt64(pickle.count), 4)
        let stored = ModelScanner().scan(bytes: gzip, name: "model.joblib")
        #expect(!stored.has("gzip.compression-ratio"), "\(stored.findings)")
        #expect(!stored.isRefusedByDefault, "\(stored.findings)")
    }

    @Test func theHDF5ByteSearchStopsAtTheTimeBound() {
        // The HDF5 signature, then 3 MiB in which the walker finds nothing and the byte search reads every chunk.
        let bytes: [UInt8] =
            [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 0x20, count: 3 << 20)
        var scanner = ModelScanner()
        scanner.maxScanTime = .zero
        let report = scanner.scan(bytes: bytes, name: "model.h5")
        #expect(report.has("scan.time-budget"), "\(report.findings)")
        #expect(report.isRefusedByDefault, "\(report.findings)")
        #expect(!ModelScanner().scan(bytes: bytes, name: "model.h5").has("scan.time-budget"))
    }
}
