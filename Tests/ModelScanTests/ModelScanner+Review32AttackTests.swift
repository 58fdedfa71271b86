import Foundation
import Testing

@testable import ModelScan

/// The bypasses of the thirty-second adversarial review of the scanner (2026-12-05), each passed with exit 0:
///
/// - A. Python 2 names were translated at every protocol, but CPython's `find_class` translates them only while the
///   protocol in effect is below 3, and for module `exceptions` only the Python 2 exception names. `exceptions.set`
///   (protocol 2), `copy_reg._reconstructor` (protocol 4) and `__builtin__.set` (protocol 3) import a module of that
///   name from `sys.path`: with the reviewer's `exceptions.py`, `copy_reg.py` or `__builtin__.py` planted there,
///   `pickle.load`, `joblib.load`, `torch.load(weights_only=False)` and `numpy.load(allow_pickle=True)` ran it.
/// - B. The `pickle.load` reading of joblib array bytes kept only imports whose name was made of ASCII identifier
///   characters: `évil.x` in a wrapper's array bytes was found, high, and dropped; `pickle.load` imported a planted
///   `évil.py`.
/// - C. Past the memo's value bound a memo read gave `.unknown`, and a SETITEM on it was ignored: a joblib wrapper
///   state also memoised earlier (still tracked at memo 0) had its `shape` changed from 55 to 1 through the untracked
///   key, so `joblib.load` read 1 array byte and ran the `posix.system` call the scanner skipped as array bytes (only a
///   medium `pickle.bound-exceeded`; 100 KB, also gzipped).
@Suite struct ModelScannerReview32AttackTests {
    static func bytes(_ base64: String) -> [UInt8] { [UInt8](Data(base64Encoded: base64)!) }

    /// `PROTO 2; GLOBAL exceptions set; ()R.`: imports module `exceptions` (not in `_compat_pickle`'s IMPORT_MAPPING).
    static let exceptionsSet = bytes("gAJjZXhjZXB0aW9ucwpzZXQKKVIu")
    /// `PROTO 4; GLOBAL copy_reg _reconstructor.`: at protocol 4 `copy_reg` is imported as written.
    static let copyRegAtProtocol4 = bytes("gARjY29weV9yZWcKX3JlY29uc3RydWN0b3IKLg==")
    /// `PROTO 3; GLOBAL __builtin__ set; ()R.`: at protocol 3 `__builtin__` is imported as written.
    static let builtinAtProtocol3 = bytes("gANjX19idWlsdGluX18Kc2V0CilSLg==")
    /// `pickle.dumps({1, 2, 3}, protocol=2)`: CPython writes `__builtin__.set` and translates it back.
    static let setAtProtocol2 = bytes("gAJjX19idWlsdGluX18Kc2V0CnEAXXEBKEsBSwJLA2WFcQJScQMu")

    @Test func python2NamesAreTranslatedOnlyBelowProtocol3() {
        for (label, file) in [
            ("exceptions.set", Self.exceptionsSet), ("copy_reg._reconstructor", Self.copyRegAtProtocol4),
            ("__builtin__.set", Self.builtinAtProtocol3),
        ] {
            let report = ModelScanner().scan(bytes: file, name: "model.pkl")
            #expect(report.has("pickle.global.unknown", label), "\(label): \(report.findings)")
            #expect(report.isRefusedByDefault, "\(label)")
        }
        #expect(GlobalPolicy.normalised(module: "copy_reg", name: "_reconstructor", protocol: 2).module == "copyreg")
        #expect(GlobalPolicy.normalised(module: "copy_reg", name: "_reconstructor", protocol: 3).module == "copy_reg")
        #expect(GlobalPolicy.normalised(module: "exceptions", name: "ValueError", protocol: 2).module == "builtins")
        #expect(GlobalPolicy.normalised(module: "exceptions", name: "set", protocol: 2).module == "exceptions")
        // What CPython really translates still passes: a set and a bare `copy_reg._reconstructor` at protocol 2, and
        // with no PROTO at all (protocol 0).
        var reconstructor = PickleAssembler(protocol: 2)
        reconstructor.global("copy_reg", "_reconstructor")
        reconstructor.stop()
        var protocol0 = PickleAssembler()
        protocol0.global("copy_reg", "_reconstructor")
        protocol0.stop()
        for file in [Self.setAtProtocol2, reconstructor.bytes, protocol0.bytes] {
            let report = ModelScanner().scan(bytes: file, name: "model.pkl")
            #expect(!report.isRefusedByDefault, "\(report.findings)")
        }
    }

    /// A protocol 2 joblib wrapper of 10 bytes `cévil\nx\n0.`: joblib reads them as array data, `pickle.load` imports
    /// `évil.x`, and a planted `évil.py` runs.
    static let unicodeModuleInArrayBytes = bytes(
        "gAJjam9ibGliLm51bXB5X3BpY2tsZQpOdW1weUFycmF5V3JhcHBlcgopgX0ojAhzdWJjbGFzc2NudW1weQpuZGFycmF5CowFc2hhcGVLCoWM"
            + "BW9yZGVyjAFDjAVkdHlwZWNudW1weQpkdHlwZQqMAnUxiYiHUihLA4wBfE5OTkr/////Sv////9LAHRijAphbGxvd19tbWFwiYwbbnVt"
            + "cHlfYXJyYXlfYWxpZ25tZW50X2J5dGVzTnViY8OpdmlsCngKMC4=")

    @Test func everyImportInArrayBytesIsKeptWhateverItsName() {
        let report = ModelScanner().scan(bytes: Self.unicodeModuleInArrayBytes, name: "model.joblib")
        #expect(report.has("pickle.global.unknown", "évil.x"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }
}
