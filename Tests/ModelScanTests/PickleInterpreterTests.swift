import Testing

@testable import ModelScan

/// The pickle corpus: every bypass class of the picklescan/modelscan advisories, written by the assembler.
@Suite struct PickleInterpreterTests {
    @Test func benignStateDictHasNoFinding() {
        let report = scan(torchStateDict())
        #expect(report.findings.isEmpty, "\(report.findings)")
        #expect(report.formats == ["pickle"])
    }

    @Test(arguments: [
        ("os", "system"), ("posix", "system"), ("nt", "system"), ("subprocess", "Popen"), ("builtins", "eval"),
        ("builtins", "exec"), ("builtins", "compile"), ("builtins", "getattr"), ("builtins", "__import__"),
        ("builtins", "open"), ("__builtin__", "eval"), ("importlib", "import_module"),
        ("importlib._bootstrap", "_load"), ("marshal", "loads"), ("pkgutil", "resolve_name"), ("runpy", "_run_code"),
        ("pip", "main"), ("pip._internal.cli.main", "main"), ("asyncio.unix_events", "_UnixSubprocessTransport"),
        ("asyncio.base_events", "BaseEventLoop.subprocess_exec"), ("ctypes", "CDLL"), ("socket", "create_connection"),
        ("webbrowser", "open"), ("code", "InteractiveInterpreter"), ("pydoc", "locate"), ("operator", "attrgetter"),
        ("mailcap", "findmatch"), ("numpy.testing._private.utils", "runstring"), ("torch.hub", "load"),
        ("commands", "getoutput"), ("pty", "spawn"), ("shutil", "rmtree"), ("timeit", "timeit"),
        ("cProfile", "run"), ("types", "FunctionType"), ("functools", "reduce"),
    ])
    func dangerousGlobalIsCritical(module: String, name: String) {
        for version: UInt8 in [0, 2, 4] {
            let report = scan(payload(module, name, protocol: max(version, 2)))
            // A Python 2 name is translated below protocol 3 only; from 3 on it names a module of its own, which is
            // judged as any module outside the allow-list (scanner review 32).
            if version >= 3, GlobalPolicy.python2Modules[module] != nil {
                #expect(report.isRefusedByDefault, "\(module).\(name)")
                continue
            }
            #expect(report.has("pickle.global.dangerous", module), "\(module).\(name)")
            #expect(report.refused(by: .default).contains { $0.severity == .critical })
        }
    }

    @Test func stackGlobalOperandsAreResolvedThroughTheMemo() {
        // picklescan looked back a few opcodes; here the strings are memoised far away and fetched with BINGET.
        var p = PickleAssembler(protocol: 4)
        p.shortUnicode("subprocess")
        p.binPut(7)
        p.op("0")
        p.shortUnicode("check_output")
        p.memoize()
        p.op("0")
        for _ in 0..<50 { p.none(); p.op("0") }
        p.binGet(7)
        p.binGet(1)
        p.stackGlobal()
        p.binUnicode("id")
        p.tuple1()
        p.reduce()
        p.stop()
        let report = scan(p.bytes)
        #expect(report.has("pickle.global.dangerous", "subprocess.check_output"), "\(report.findings)")
    }

    @Test func memoizeUsesTheMemoLengthNotTheLastKey() {
        // PUT 5 then MEMOIZE stores under len(memo) == 1, not 6: a scanner that guesses wrong resolves `os.getcwd`.
        var p = PickleAssembler(protocol: 4)
        p.shortUnicode("os")
        p.binPut(5)
        p.op("0")
        p.shortUnicode("system")
        p.memoize()
        p.op("0")
        p.shortUnicode("getcwd")
        p.binPut(6)
        p.op("0")
        p.binGet(5)
        p.binGet(1)
        p.stackGlobal()
        p.stop()
        #expect(scan(p.bytes).has("pickle.global.dangerous", "os.system"))
    }

    @Test func escapedProtocol0StringsAreDecodedLikeCPython() {
        var p = PickleAssembler(protocol: 4)
        p.string(#"'\x6fs'"#)
        p.unicodeLine(#"\u0073ystem"#)
        p.stackGlobal()
        p.stop()
        #expect(scan(p.bytes).has("pickle.global.dangerous", "os.system"))
    }

    @Test func dunderAndDottedPathsAreCritical() {
        var p = PickleAssembler(protocol: 4)
        p.shortUnicode("torch._utils")
        p.shortUnicode("_rebuild_tensor.__globals__")
        p.stackGlobal()
        p.op("0")
        p.shortUnicode("torch.serialization")
        p.shortUnicode("os.system")
        p.stackGlobal()
        p.stop()
        let report = scan(p.bytes)
        #expect(report.has("pickle.global.dangerous", "__globals__"))
        #expect(report.has("pickle.global.dangerous", "serialization.os.system"))
    }

    @Test func unresolvableStackGlobalIsHigh() {
        var p = PickleAssembler(protocol: 4)
        p.global("builtins", "str")
        p.binUnicode("os")
        p.tuple1()
        p.reduce()
        p.shortUnicode("system")
        p.stackGlobal()
        p.stop()
        let report = scan(p.bytes)
        #expect(report.has("pickle.global.unresolved"))
        #expect(report.isRefusedByDefault)
    }

    /// Review 4, finding 6: a deny-list cannot be complete, so a global outside the allow-list is high.
    @Test func unknownGlobalIsHighAndRefused() {
        let report = scan(payload("mylib.layers", "Custom"))
        #expect(report.has("pickle.global.unknown", "mylib.layers.Custom"))
        #expect(report.isRefusedByDefault)
        let estimator = scan(payload("sklearn.linear_model", "LogisticRegression"))
        #expect(estimator.findings.isEmpty, "\(estimator.findings)")
    }

    @Test func instAndObjOpcodesAreJudged() {
        var p = PickleAssembler()
        p.mark()
        p.binUnicode("id")
        p.inst("os", "system")
        p.stop()
        #expect(scan(p.bytes).has("pickle.global.dangerous", "os.system"))
    }

    @Test func maliciousPickleAfterABenignOneIsFlagged() {
        let report = scan(torchStateDict() + payload("os", "system"))
        #expect(report.has("pickle.stacked"))
        #expect(report.has("pickle.global.dangerous", "os.system"))
        let protocol0 = scan(torchStateDict() + Array("cos\nsystem\n(S'id'\ntR.".utf8))
        #expect(protocol0.has("pickle.global.dangerous", "os.system"))
    }

    @Test func frameLengthMismatchIsFlaggedAndIgnoredForParsing() {
        // The frame claims 2 bytes but the payload runs on: a scanner that trusts frames skips the payload.
        var p = PickleAssembler(protocol: 4)
        p.frame(2)
        p.call("os", "system", "id")
        p.stop()
        let report = scan(p.bytes)
        #expect(report.has("pickle.frame-mismatch"))
        #expect(report.has("pickle.global.dangerous", "os.system"))
        var long = PickleAssembler(protocol: 4)
        long.frame(1 << 40)
        long.none()
        long.stop()
        #expect(scan(long.bytes).has("pickle.frame-mismatch"))
    }

    @Test func structuralAnomaliesAreFindings() {
        var misplaced = PickleAssembler()
        misplaced.none()
        misplaced.raw([0x80, 0x02])
        misplaced.stop()
        #expect(scan(misplaced.bytes).has("pickle.proto-misplaced"))

        var invalid = PickleAssembler(protocol: 2)
        invalid.raw([0xFF])
        invalid.stop()
        let invalidReport = scan(invalid.bytes)
        #expect(invalidReport.has("pickle.invalid-opcode"))
        #expect(invalidReport.isRefusedByDefault)

        #expect(scan(torchStateDict() + [0xFF, 0xFE]).has("pickle.trailing-bytes"))

        var undefined = PickleAssembler(protocol: 2)
        undefined.binGet(9)
        undefined.stop()
        #expect(scan(undefined.bytes).has("pickle.memo-undefined"))

        var overwrite = PickleAssembler(protocol: 2)
        overwrite.none()
        overwrite.binPut(1)
        overwrite.binPut(1)
        overwrite.stop()
        #expect(scan(overwrite.bytes).has("pickle.memo-overwrite"))

        var truncated = PickleAssembler(protocol: 2)
        truncated.binBytes(count: 10)
        #expect(scan(Array(truncated.bytes.dropLast(3))).has("pickle.truncated"))
    }

    @Test func extensionCodesAndForeignPersistentIdsAreFlagged() {
        var ext = PickleAssembler(protocol: 2)
        ext.ext1(42)
        ext.emptyTuple()
        ext.reduce()
        ext.stop()
        let extReport = scan(ext.bytes)
        #expect(extReport.has("pickle.extension-code"))
        #expect(extReport.isRefusedByDefault)

        var persid = PickleAssembler(protocol: 2)
        persid.binUnicode("anything")
        persid.binPersID()
        persid.stop()
        #expect(scan(persid.bytes).has("pickle.persistent-id"))
    }

    @Test func buildOnAGlobalIsHigh() {
        var p = PickleAssembler(protocol: 2)
        p.global("collections", "OrderedDict")
        p.emptyDict()
        p.binUnicode("x")
        p.none()
        p.setItem()
        p.build()
        p.stop()
        #expect(scan(p.bytes).has("pickle.build-on-global"))
    }

    @Test func legacyTorchMagicNumberFileIsScannedPastTheMagic() {
        // The magic-number bypass: a scanner that stops at the magic pickle misses the payload in pickle 4.
        var magic = PickleAssembler(protocol: 2)
        magic.long1([0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19])
        magic.stop()
        var version = PickleAssembler(protocol: 2)
        version.binInt(1001)
        version.stop()
        var sysInfo = PickleAssembler(protocol: 2)
        sysInfo.emptyDict()
        sysInfo.stop()
        var keys = PickleAssembler(protocol: 2)
        keys.op("]")
        keys.stop()
        let file = magic.bytes + version.bytes + sysInfo.bytes + payload("os", "system") + keys.bytes + [0xFF, 0, 1]
        let report = scan(file)
        #expect(report.formats.contains("pytorch-legacy"))
        #expect(report.has("pickle.global.dangerous", "os.system"))
        #expect(!report.has("pickle.trailing-bytes"), "storage bytes after the fifth pickle are data")
        let benign = scan(magic.bytes + version.bytes + sysInfo.bytes + torchStateDict() + keys.bytes + [0xFF, 0, 1])
        #expect(benign.findings.isEmpty, "\(benign.findings)")
    }

    @Test func joblibArrayBytesAreSkippedAndTheRestScanned() {
        var p = PickleAssembler(protocol: 4)
        p.global("joblib.numpy_pickle", "NumpyArrayWrapper")
        p.emptyTuple()
        p.newObj()
        p.emptyDict()
        p.mark()
        p.shortUnicode("shape")
        p.binInt1(3)
        p.tuple1()
        p.shortUnicode("dtype")
        p.global("numpy", "dtype")
        p.shortUnicode("f8")
        p.raw([0x89])
        p.newTrue()
        p.tuple3()
        p.reduce()
        p.shortUnicode("allow_mmap")
        p.newTrue()
        p.shortUnicode("numpy_array_alignment_bytes")
        p.binInt1(16)
        p.setItems()
        p.build()
        p.raw([3, 0xFF, 0xFF, 0xFF])  // joblib's alignment padding
        p.raw([UInt8](repeating: 0xFF, count: 24))  // three doubles of raw data
        p.op("0")
        p.call("os", "system", "id")
        p.stop()
        let report = scan(p.bytes)
        #expect(!report.has("pickle.invalid-opcode"), "\(report.findings)")
        #expect(report.has("pickle.global.dangerous", "os.system"))
    }

    @Test func findingIDsAreStableAcrossRuns() {
        let first = scan(payload("os", "system")).findings.map(\.id)
        let second = scan(payload("os", "system")).findings.map(\.id)
        #expect(first == second)
        #expect(first.first == "pickle.global.dangerous@2")
    }
}
