import Foundation
import Testing

@testable import ModelScan

/// Scanner review 62: CPython recurses in C, with no recursion check, once per level when it hashes a tuple (a dict
/// key or set member) and when it frees a `slice`; a pickle of one or two bytes per level nested a million deep passed
/// with no finding and killed `pickle.load`, `joblib.load`, `numpy.load` and `torch.load` with SIGSEGV, while loading
/// or when the loaded object was freed. The scanner had cut values deeper than 32 levels to unknown and kept no depth.
/// Nesting deeper than ``PickleInterpreter/maxNesting`` is high (`pickle.deep-nesting`).
@Suite struct ModelScannerReview62AttackTests {
    static let none: UInt8 = 0x4E, tuple1: UInt8 = 0x85, reduce: UInt8 = 0x52, stop: UInt8 = 0x2E

    /// `n` nested one-tuples around `None`.
    static func deepTuple(_ n: Int) -> [UInt8] { [none] + [UInt8](repeating: tuple1, count: n) }

    /// The reviewer's files, byte for byte (smaller: a million levels are no different from 2,000 here).
    static let files: [(String, [UInt8])] = {
        let slice: [UInt8] =
            [0x8C, 0x08] + Array("builtins".utf8) + [0x8C, 0x05] + Array("slice".utf8) + [0x93, 0x94]
        return [
            // deep1m.pkl: a dict whose key is the deep tuple (hashed by SETITEM).
            ("deep-dict-key.pkl", [0x80, 0x02, 0x7D] + deepTuple(2_000) + [none, 0x73, stop]),
            // deep_frozenset.pkl: FROZENSET hashes it.
            ("deep-frozenset.pkl", [0x80, 0x04, 0x28] + deepTuple(2_000) + [0x91, stop]),
            // deep_set.pkl: EMPTY_SET, MARK, ADDITEMS.
            ("deep-set.pkl", [0x80, 0x04, 0x8F, 0x28] + deepTuple(2_000) + [0x90, stop]),
            // deep_slice.pkl: slice(slice(...)), freed recursively.
            (
                "deep-slice.pkl",
                [0x80, 0x04] + slice + [UInt8](repeating: 0, count: 1_999).flatMap { _ in [0x68, 0x00] } + [none]
                    + [UInt8](repeating: 0, count: 2_000).flatMap { _ in [tuple1, reduce] } + [stop]
            ),
        ]
    }()

    @Test(arguments: files.map(\.0))
    func theReviewersFilesAreRefused(name: String) throws {
        let bytes = try #require(Self.files.first { $0.0 == name }?.1)
        let report = ModelScanner().scan(bytes: bytes, name: name)
        #expect(report.findings.contains { $0.rule == "pickle.deep-nesting" }, "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// The deep tuple as a PyTorch zip's `data.pkl` (the reviewer's `deep_zip.pt`).
    @Test func aDeepDataPickleInATorchZipIsRefused() {
        var zip = ZipWriter()
        zip.add("model/data.pkl", [0x80, 0x02, 0x7D] + Self.deepTuple(2_000) + [Self.none, 0x73, Self.stop])
        zip.add("model/version", Array("3\n".utf8))
        let report = ModelScanner().scan(bytes: zip.bytes, name: "deep.pt")
        #expect(report.findings.contains { $0.rule == "pickle.deep-nesting" }, "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// The depth goes through the memo: each level memoised, popped and read back (`LONG_BINGET`) before the next
    /// wraps it, so the stack never holds more than two values.
    @Test func nestingThroughTheMemoIsCounted() {
        var bytes: [UInt8] = [0x80, 0x04, Self.none, Self.tuple1, 0x94, 0x30]
        for key in 0..<1_500 {
            bytes += [0x6A] + withUnsafeBytes(of: UInt32(key).littleEndian) { Array($0) } + [Self.tuple1, 0x94, 0x30]
        }
        bytes += [0x6A] + withUnsafeBytes(of: UInt32(1_500).littleEndian) { Array($0) } + [Self.stop]
        let report = ModelScanner().scan(bytes: bytes, name: "memo.pkl")
        #expect(report.findings.map(\.rule) == ["pickle.deep-nesting"], "\(report.findings)")
    }

    /// Controls: nesting up to the bound passes, as does a wide value (a million tuples side by side in a list).
    @Test func nestingUpToTheBoundAndWideValuesPass() {
        let atBound: [UInt8] =
            [0x80, 0x04, 0x7D] + Self.deepTuple(PickleInterpreter.maxNesting - 1) + [
                Self.none, 0x73, Self.stop,
            ]
        #expect(ModelScanner().scan(bytes: atBound, name: "bound.pkl").findings.isEmpty)
        let over: [UInt8] =
            [0x80, 0x04, 0x7D] + Self.deepTuple(PickleInterpreter.maxNesting) + [
                Self.none, 0x73, Self.stop,
            ]
        #expect(ModelScanner().scan(bytes: over, name: "over.pkl").findings.map(\.rule) == ["pickle.deep-nesting"])
        var wide: [UInt8] = [0x80, 0x04, 0x5D, 0x28]
        for _ in 0..<100_000 { wide += [Self.none, Self.tuple1, Self.tuple1] }
        wide += [0x65, Self.stop]
        #expect(ModelScanner().scan(bytes: wide, name: "wide.pkl").findings.isEmpty)
    }
}
