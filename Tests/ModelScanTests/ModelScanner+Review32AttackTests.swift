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
    /// `PROTO 2; GLOBAL exceptions set; ()R.`: imports module `exceptions` (not in `_compat_pickle`'s IMPORT_MAPPING).
    static let exceptionsSet = base64Bytes("gAJjZXhjZXB0aW9ucwpzZXQKKVIu")
    /// `PROTO 4; GLOBAL copy_reg _reconstructor.`: at protocol 4 `copy_reg` is imported as written.
    static let copyRegAtProtocol4 = base64Bytes("gARjY29weV9yZWcKX3JlY29uc3RydWN0b3IKLg==")
    /// `PROTO 3; GLOBAL __builtin__ set; ()R.`: at protocol 3 `__builtin__` is imported as written.
    static let builtinAtProtocol3 = base64Bytes("gANjX19idWlsdGluX18Kc2V0CilSLg==")
    /// `pickle.dumps({1, 2, 3}, protocol=2)`: CPython writes `__builtin__.set` and translates it back.
    static let setAtProtocol2 = base64Bytes("gAJjX19idWlsdGluX18Kc2V0CnEAXXEBKEsBSwJLA2WFcQJScQMu")

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
    static let unicodeModuleInArrayBytes = base64Bytes(
        "gAJjam9ibGliLm51bXB5X3BpY2tsZQpOdW1weUFycmF5V3JhcHBlcgopgX0ojAhzdWJjbGFzc2NudW1weQpuZGFycmF5CowFc2hhcGVLCoWM"
            + "BW9yZGVyjAFDjAVkdHlwZWNudW1weQpkdHlwZQqMAnUxiYiHUihLA4wBfE5OTkr/////Sv////9LAHRijAphbGxvd19tbWFwiYwbbnVt"
            + "cHlfYXJyYXlfYWxpZ25tZW50X2J5dGVzTnViY8OpdmlsCngKMC4=")

    @Test func everyImportInArrayBytesIsKeptWhateverItsName() {
        let report = ModelScanner().scan(bytes: Self.unicodeModuleInArrayBytes, name: "model.joblib")
        #expect(report.has("pickle.global.unknown", "évil.x"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// The reviewer's `b6.joblib`: a wrapper whose state dict `D` (shape 47) is memoised at key 0, 100,100 MEMOIZEs of
    /// `0` (past the memo's value bound), `D` PUT again at key 101,100 (untracked), `D['shape'] = (1,)` through that
    /// key, then `BUILD(W, D)` and 47 bytes: `\xff` and `posix.system('touch /tmp/rev32/pwned-b6')`.
    static let memoOverflowShape: [UInt8] = {
        let head = base64Bytes(
            "gAJjam9ibGliLm51bXB5X3BpY2tsZQpOdW1weUFycmF5V3JhcHBlcgopgX1xACiMCHN1YmNsYXNzY251bXB5Cm5kYXJyYXkKjAVzaGFw"
                + "ZU0vAIWMBW9yZGVyjAFDjAVkdHlwZWNudW1weQpkdHlwZQqMAnUxiYiHUowKYWxsb3dfbW1hcImMG251bXB5X2FycmF5X2FsaWdu"
                + "bWVudF9ieXRlc051MEsA")
        let tail = base64Bytes(
            "MGgAcuyKAQAwauyKAQCMBXNoYXBlSwGFczBoAGL/jAVwb3NpeIwGc3lzdGVtk4wZdG91Y2ggL3RtcC9yZXYzMi9wd25lZC1iNoVSMC4=")
        return head + [UInt8](repeating: 0x94, count: 100_100) + tail
    }()
    /// The same, gzipped (`b6_memo_overflow_shape.joblib.gz`).
    static let memoOverflowShapeGzipped = base64Bytes(
        "H4sIADTHE2sC/+3Nu24TURAGYDvSIrRvgGgooSA2INEjyogUaSit3fURdtjLYS+ELZCgsCDodPCYvANgw1vwfcVoRvNr5tNZdd2V9b48b6cm"
            + "zpu4r97WIb88Di/6vphf90WMoc8fff74bvEw3R2msqqLYahO+bzdFsdUnrJhV8TwarU4pKzrt6FPy5cp245zDP+ipz5PZ9OT269frlJe1HV3"
            + "s2maIt6m+3+/n25tinr/pm1CO27KeQzD5bS+WPwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
            + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/mvr3aL/+W25WF8fa8qGXRHDxfIw/FmUv1IWu2H/Id0Z5mEM"
            + "zfd0b+ymavdgNTZx1Yf3z56u4k0bto/L54er9flve9Jp4/mHAQA=")

    @Test func aFillOfAValueDroppedPastTheMemoBoundIsHigh() {
        for (name, file) in [
            ("model.joblib", Self.memoOverflowShape), ("model.joblib.gz", Self.memoOverflowShapeGzipped),
        ] {
            let report = ModelScanner().scan(bytes: file, name: name)
            #expect(
                report.findings.contains { $0.rule == "pickle.bound-exceeded" && $0.severity >= .high },
                "\(name): \(report.findings)")
            #expect(report.isRefusedByDefault, "\(name)")
        }
        // A list of memoised tuples past the bound, filled as picklers fill (the fresh list on the stack), passes.
        var list = PickleAssembler(protocol: 4)
        list.raw([0x5D, 0x94, 0x28])  // EMPTY_LIST MEMOIZE MARK
        for index in 0..<150_000 {
            list.binInt(Int32(index))
            list.binInt1(1)
            list.tuple2()
            list.memoize()
        }
        list.raw([0x65])  // APPENDS
        list.stop()
        let report = ModelScanner().scan(bytes: list.bytes, name: "model.pkl")
        #expect(!report.findings.contains { $0.severity >= .high }, "\(report.findings)")
    }

    /// The reviewer's lead, `l2_hooks.pt` (legacy torch): `_rebuild_parameter_with_state(data, True, h, {'note': 'x'})`
    /// where `h = OrderedDict()` got `h[0] = builtins.str` by SETITEM first. torch assigns `h` as the parameter's
    /// backward hooks and calls each on backward; only an unchanged `OrderedDict()` is passed over there.
    static let filledBackwardHooks = base64Bytes(
        "gAKKCmz8nEb5IGqoUBkugAJN6QMugAJ9cQAoWBAAAABwcm90b2NvbF92ZXJzaW9ucQFN6QNYDQAAAGxpdHRsZV9lbmRpYW5xAohYCgAAAHR5"
            + "cGVfc2l6ZXNxA31xBChYBQAAAHNob3J0cQVLAlgDAAAAaW50cQZLBFgEAAAAbG9uZ3EHSwR1dS6AAn1xAFgBAAAAcHEBY3RvcmNoLl91dGls"
            + "cwpfcmVidWlsZF9wYXJhbWV0ZXJfd2l0aF9zdGF0ZQpxAihjdG9yY2guX3V0aWxzCl9yZWJ1aWxkX3RlbnNvcl92MgpxAygoWAcAAABzdG9y"
            + "YWdlcQRjdG9yY2gKRmxvYXRTdG9yYWdlCnEFWA4AAAA5NDI1OTc5MjAyNzc2MHEGWAMAAABjcHVxB0sDTnRxCFFLAEsDhXEJSwGFcQqJY2Nv"
            + "bGxlY3Rpb25zCk9yZGVyZWREaWN0CnELKVJxDHRxDVJxDohoCylScQ9LAGNidWlsdGlucwpzdHIKc31xEFgEAAAAbm90ZXERWAEAAAB4cRJz"
            + "dHETUnEUcy6AAl1xAFgOAAAAOTQyNTk3OTIwMjc3NjBxAWEuAwAAAAAAAAAAAIA/AACAPwAAgD8=")

    @Test func backwardHooksFilledBySetitemAreHigh() {
        let report = ModelScanner().scan(bytes: Self.filledBackwardHooks, name: "model.pt")
        #expect(report.has("pickle.build-class"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
        // Filled through another copy read back from the memo, before or after torch was handed it.
        for after in [false, true] {
            var p = PickleAssembler(protocol: 2)
            p.global("collections", "OrderedDict")
            p.emptyTuple()
            p.reduce()
            p.binPut(1)
            p.op("0")
            if !after {
                p.binGet(1)
                p.binInt1(0)
                p.global("builtins", "str")
                p.setItem()
                p.op("0")
            }
            p.global("torch._utils", "_rebuild_parameter_with_state")
            p.mark()
            p.binInt1(0)
            p.newTrue()
            p.binGet(1)
            p.emptyDict()
            p.tuple()
            p.reduce()
            p.op("0")
            if after {
                p.binGet(1)
                p.binInt1(0)
                p.global("builtins", "str")
                p.setItem()
                p.op("0")
            }
            p.none()
            p.stop()
            let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
            #expect(report.has("pickle.build-class"), "after: \(after): \(report.findings)")
        }
    }
}
