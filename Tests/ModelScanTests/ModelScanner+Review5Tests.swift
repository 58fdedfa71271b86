import Foundation
import Testing

@testable import ModelScan

/// The bypass classes of the fifth adversarial review (F1–F9): each file below ran `os.system` (or wrote files)
/// under the real Python loader while the scanner admitted it under the default policy.
@Suite struct ModelScannerReview5Tests {
    static let evil = Array("'\ncos\nsystem\n(S'touch pwned'\ntR.".utf8)

    /// F8: `S'` + six NULs is a plausible safetensors header length (10067) and byte 8 is `{`; as a pickle the
    /// same bytes open a STRING that runs over the JSON header to the GLOBAL/REDUCE after it.
    @Test func safetensorsPicklePolyglotIsScannedAsAPickle() {
        let head: [UInt8] = [0x53, 0x27, 0, 0, 0, 0, 0, 0]
        let length = Int(head.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let meta = Array(#"{"__metadata__":{"format":"pt"}}"#.utf8)
        let bytes = head + meta + [UInt8](repeating: 0x20, count: length - meta.count) + Self.evil
        for name in ["model.safetensors", "model.pt", "model.pkl"] {
            let report = ModelScanner().scan(bytes: bytes, name: name)
            #expect(report.has("pickle.global.dangerous", "system"), "\(name): \(report.findings)")
            #expect(report.isRefusedByDefault, "\(name)")
        }
    }

    /// F9: `G` (BINFLOAT) eats "GUF" and the version; the tensor count holds `S'`, whose STRING runs to the payload.
    @Test func ggufPicklePolyglotIsScannedAsAPickle() {
        let bytes =
            Array("GGUF".utf8) + le(3, 4) + [0x00, 0x53, 0x27, 0, 0, 0, 0, 0] + le(0, 8) + Self.evil
        for name in ["model.gguf", "model.pkl"] {
            let report = ModelScanner().scan(bytes: bytes, name: name)
            #expect(report.has("pickle.global.dangerous", "system"), "\(name): \(report.findings)")
            #expect(report.isRefusedByDefault, "\(name)")
        }
    }
}

/// F1: any capitalised name in a sklearn module was accepted, re-exports included; only classes sklearn defines
/// are now (a generated list).
@Suite struct ModelScannerReview5SklearnTests {
    @Test func sklearnReExportsAreRefused() {
        let reExports = [
            ("sklearn.datasets._covtype", "GzipFile"), ("sklearn.callback._transport", "Client"),
            ("sklearn.callback._progressbar", "Thread"), ("sklearn.utils._available_if", "MethodType"),
            ("sklearn.datasets._base", "NamedTemporaryFile"), ("sklearn.datasets._lfw", "Memory"),
            ("sklearn.externals.array_api_compat.torch", "PyTorchFileWriter"),
            ("sklearn.cluster._bicluster", "ABCMeta"), ("sklearn.utils.gzip", "GzipFile"),
        ]
        for (module, name) in reExports {
            let report = ModelScanner().scan(bytes: payload(module, name), name: "model.joblib")
            #expect(report.isRefusedByDefault, "\(module).\(name): \(report.findings)")
        }
    }

    @Test func classesSklearnDefinesAreStillAccepted() {
        for (module, name) in [
            ("sklearn.linear_model._logistic", "LogisticRegression"), ("sklearn.tree._tree", "Tree"),
            ("sklearn.preprocessing._data", "StandardScaler"),
        ] {
            #expect(GlobalPolicy.isTrustedEstimatorClass(module: module, name: name), "\(module).\(name)")
        }
    }
}
