import Foundation
import Testing

@testable import ModelScan

/// The last "not caught yet" items of the scanner's threat-model row: numpy dtype state and scikit-learn classes
/// with side effects.
@Suite struct ModelScannerDTypeStateTests {
    /// A joblib wrapper of `count` items of dtype `code`, the dtype given the BUILD state `state` (pushed by the
    /// closure as one value), with no alignment padding.
    static func wrapper(code: String, count: UInt8, state: (inout PickleAssembler) -> Void) -> PickleAssembler {
        var p = PickleAssembler(protocol: 2)
        p.global("joblib.numpy_pickle", "NumpyArrayWrapper")
        p.emptyTuple()
        p.newObj()
        p.emptyDict()
        p.mark()
        p.binUnicode("subclass")
        p.global("numpy", "ndarray")
        p.binUnicode("shape")
        p.binInt1(count)
        p.tuple1()
        p.binUnicode("order")
        p.binUnicode("C")
        p.binUnicode("dtype")
        p.global("numpy", "dtype")
        p.mark()
        p.binUnicode(code)
        p.raw([0x89, 0x88])
        p.tuple()
        p.reduce()
        state(&p)
        p.build()
        p.binUnicode("allow_mmap")
        p.raw([0x89])
        p.binUnicode("numpy_array_alignment_bytes")
        p.none()
        p.setItems()
        p.build()
        return p
    }

    /// numpy's `dtype.__setstate__` state `(version, endian, subarray, names, fields, elsize, alignment, flags)`
    /// with no subarray and no fields.
    static func plainState(_ p: inout PickleAssembler, elsize: Int32, alignment: Int32, flags: UInt8 = 0) {
        p.mark()
        p.binInt1(3)
        p.binUnicode("|")
        p.none()
        p.none()
        p.none()
        p.binInt(elsize)
        p.binInt(alignment)
        p.binInt1(flags)
        p.tuple()
    }

    /// numpy reads 64 one-byte items (the state shrank `V4` to one byte) and then runs the pickle after them; the
    /// scanner, sizing the items by the code, skipped 256 bytes over it. As `pickle.load` reads it, the array
    /// bytes open a BINBYTES that also covers the payload.
    @Test func dtypeStateThatChangesTheItemSizeIsHigh() {
        let evil = ModelScannerReview4ClassesTests.fragment()
        let count = 64
        var p = Self.wrapper(code: "V4", count: UInt8(count)) { Self.plainState(&$0, elsize: 1, alignment: 1) }
        let tail = 3 * count - evil.count
        p.raw([0x42] + le(UInt64(count - 5 + evil.count + tail), 4) + [UInt8](repeating: 0, count: count - 5))
        p.raw(evil + [UInt8](repeating: 0, count: tail))
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.joblib")
        #expect(report.has("numpy.dtype-state"), "\(report.findings)")
        #expect(report.isRefusedByDefault, "\(report.findings)")

        // What numpy writes itself (`V4` keeps its size, `f8` states say -1) passes.
        var same = Self.wrapper(code: "V4", count: 2) { Self.plainState(&$0, elsize: 4, alignment: 1) }
        same.raw([UInt8](repeating: 0, count: 8))
        same.stop()
        let sameReport = ModelScanner().scan(bytes: same.bytes, name: "model.joblib")
        #expect(!sameReport.isRefusedByDefault, "\(sameReport.findings)")
        var float = Self.wrapper(code: "f8", count: 1) { Self.plainState(&$0, elsize: -1, alignment: -1) }
        float.raw([UInt8](repeating: 0, count: 8))
        float.stop()
        let floatReport = ModelScanner().scan(bytes: float.bytes, name: "model.joblib")
        #expect(!floatReport.isRefusedByDefault, "\(floatReport.findings)")

        // States the scanner cannot model exactly fail closed: an unknown version, a subarray, a size given to a
        // fixed-size dtype, the object flag on a non-object dtype.
        let unmodelled: [(String, (inout PickleAssembler) -> Void)] = [
            (
                "V4",
                {
                    $0.mark(); $0.binInt1(9); $0.tuple()
                }
            ),
            ("V4", { Self.plainState(&$0, elsize: 4, alignment: 1, flags: 1) }),
            ("f8", { Self.plainState(&$0, elsize: 2, alignment: 1) }),
            ("f8", { $0.binInt1(3) }),
        ]
        for (code, state) in unmodelled {
            var q = Self.wrapper(code: code, count: 1, state: state)
            q.raw([UInt8](repeating: 0, count: 8))
            q.stop()
            let report = ModelScanner().scan(bytes: q.bytes, name: "model.joblib")
            #expect(report.has("numpy.dtype-state"), "\(code): \(report.findings)")
            #expect(report.isRefusedByDefault, "\(code)")
        }
    }
}

/// scikit-learn modules that are not estimators or transformers (test helpers, mocks, joblib wrappers,
/// experimental re-exports) and classes whose construction or state hooks open files, spawn processes, import
/// modules or run code are left out of the generated allow-list.
@Suite struct ModelScannerSklearnSideEffectTests {
    @Test func sklearnClassesWithSideEffectsAreRefused() {
        for (module, name) in [
            ("sklearn.utils._testing", "TempMemmap"), ("sklearn.utils._mocking", "CheckingClassifier"),
            ("sklearn.utils._mocking", "MockDataFrame"), ("sklearn.utils.parallel", "Parallel"),
            ("sklearn.utils.parallel", "_FuncWrapper"), ("sklearn.utils._show_versions", "_get_sys_info"),
            ("sklearn.experimental.enable_iterative_imputer", "IterativeImputer"),
        ] {
            var p = PickleAssembler(protocol: 2)
            p.global(module, name)
            p.emptyTuple()
            p.newObj()
            p.emptyDict()
            p.build()
            p.stop()
            let report = scan(p.bytes)
            #expect(report.has("pickle.global.unknown", "\(module).\(name)"), "\(report.findings)")
            #expect(report.isRefusedByDefault, "\(module).\(name)")
        }
        // Estimators still pass (real joblib files: ModelScannerInteropTests).
        for (module, name) in [
            ("sklearn.linear_model._logistic", "LogisticRegression"), ("sklearn.pipeline", "Pipeline"),
            ("sklearn.preprocessing._data", "StandardScaler"), ("sklearn.ensemble._forest", "RandomForestClassifier"),
            ("sklearn.tree._classes", "DecisionTreeClassifier"), ("sklearn.tree._tree", "Tree"),
        ] {
            var p = PickleAssembler(protocol: 2)
            p.global(module, name)
            p.emptyTuple()
            p.newObj()
            p.stop()
            let report = scan(p.bytes)
            #expect(!report.isRefusedByDefault, "\(module).\(name): \(report.findings)")
        }
    }
}

/// The per-file time bound is also checked inside the pickle interpreter (every 65,536 opcodes), so one huge
/// pickle is bounded by time, not only archives by their members.
@Suite struct ModelScannerPickleTimeBoundTests {
    @Test func onePicklePastTheTimeBoundIsHigh() {
        // 80,000 opcodes (NONE, POP), with and without PROTO (the second is tried as a pickle first).
        var body = [UInt8]()
        for _ in 0..<40_000 { body += [0x4E, 0x30] }
        body += [0x4E, 0x2E]
        let inputs: [[UInt8]] = [[0x80, 0x02] + body, body]
        for bytes in inputs {
            var scanner = ModelScanner()
            scanner.maxScanTime = .zero
            let report = scanner.scan(bytes: bytes, name: "model.bin")
            #expect(report.has("scan.time-budget"), "\(report.findings)")
            #expect(report.isRefusedByDefault)
            let unbounded = ModelScanner().scan(bytes: bytes, name: "model.bin")
            #expect(!unbounded.isRefusedByDefault, "\(unbounded.findings)")
        }
        // A pickle under 65,536 opcodes is not interrupted.
        var scanner = ModelScanner()
        scanner.maxScanTime = .zero
        #expect(!scanner.scan(bytes: [0x80, 0x02, 0x4E, 0x2E], name: "model.bin").has("scan.time-budget"))
    }
}
