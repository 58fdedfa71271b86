import Foundation
import Testing

@testable import ModelScan

/// The malicious corpus by bypass class, one file each. `Scripts/scan-compare` writes it to disk (through
/// `corpusIsWrittenWhenAsked`) and runs picklescan and fickling on the same files.
enum Corpus {
    static var malicious: [(name: String, bytes: [UInt8])] {
        var files: [(String, [UInt8])] = []
        for (module, name) in [
            ("os", "system"), ("posix", "system"), ("subprocess", "check_output"), ("builtins", "eval"),
            ("builtins", "getattr"), ("importlib", "import_module"), ("marshal", "loads"), ("pkgutil", "resolve_name"),
            ("runpy", "run_path"), ("pip", "main"), ("asyncio.unix_events", "_UnixSubprocessTransport"),
            ("ctypes", "CDLL"), ("socket", "create_connection"), ("webbrowser", "open"), ("mailcap", "findmatch"),
            ("pydoc", "pipepager"), ("code", "interact"), ("operator", "methodcaller"),
            ("numpy.testing._private.utils", "runstring"), ("torch.hub", "load"), ("cProfile", "run"),
        ] {
            files.append(("global-\(module)-\(name).pkl", payload(module, name, protocol: 4)))
        }
        var memo = PickleAssembler(protocol: 4)
        memo.shortUnicode("builtins")
        memo.binPut(9)
        memo.op("0")
        memo.shortUnicode("exec")
        memo.memoize()
        memo.op("0")
        memo.binGet(9)
        memo.binGet(1)
        memo.stackGlobal()
        memo.binUnicode("import os")
        memo.tuple1()
        memo.reduce()
        memo.stop()
        files.append(("memo-indirection.pkl", memo.bytes))

        var escaped = PickleAssembler(protocol: 4)
        escaped.string(#"'\x6fs'"#)
        escaped.unicodeLine(#"\u0073ystem"#)
        escaped.stackGlobal()
        escaped.binUnicode("id")
        escaped.tuple1()
        escaped.reduce()
        escaped.stop()
        files.append(("escaped-strings.pkl", escaped.bytes))

        var dunder = PickleAssembler(protocol: 4)
        dunder.shortUnicode("torch._utils")
        dunder.shortUnicode("_rebuild_tensor.__globals__")
        dunder.stackGlobal()
        dunder.stop()
        files.append(("dunder-path.pkl", dunder.bytes))

        var frame = PickleAssembler(protocol: 4)
        frame.frame(2)
        frame.call("os", "system", "id")
        frame.stop()
        files.append(("frame-mismatch.pkl", frame.bytes))

        files.append(("benign-then-malicious.pkl", torchStateDict() + payload("os", "system")))

        var ext = PickleAssembler(protocol: 2)
        ext.ext1(1)
        ext.emptyTuple()
        ext.reduce()
        ext.stop()
        files.append(("extension-code.pkl", ext.bytes))

        var legacy = PickleAssembler(protocol: 2)
        legacy.long1([0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19])
        legacy.stop()
        var version = PickleAssembler(protocol: 2)
        version.binInt(1001)
        version.stop()
        var info = PickleAssembler(protocol: 2)
        info.emptyDict()
        info.stop()
        files.append(("pytorch-magic-number.pt", legacy.bytes + version.bytes + info.bytes + payload("os", "system")))

        func torchZip(_ pickle: [UInt8], tweak: (inout ZipWriter.Member) -> Void = { _ in }) -> [UInt8] {
            var zip = ZipWriter()
            var member = ZipWriter.Member(name: "model/data.pkl", data: pickle)
            tweak(&member)
            zip.members.append(member)
            zip.add("model/version", Array("3\n".utf8))
            return zip.bytes
        }
        files.append(("zip-any-directory.pt", torchZip(payload("os", "system"))))
        files.append(("zip-encrypted-flag.pt", torchZip(payload("os", "system")) { $0.flags = 1 }))
        files.append(("zip-crc-mismatch.pt", torchZip(payload("os", "system")) { $0.crc = 0x1234_5678 }))
        files.append(("zip-local-name.pt", torchZip(payload("os", "system")) { $0.localName = "model/other.pkl" }))
        var deflated = ZipWriter.Member(name: "model/data.pkl", data: payload("os", "system"))
        deflated.method = 8
        deflated.payload = deflateStored(deflated.data)
        var deflatedZip = ZipWriter()
        deflatedZip.members.append(deflated)
        files.append(("zip-deflated.pt", deflatedZip.bytes))
        var duplicate = ZipWriter()
        duplicate.add("model/data.pkl", torchStateDict())
        duplicate.add("model/data.pkl", payload("os", "system"))
        files.append(("zip-duplicate-name.pt", duplicate.bytes))

        var header = Array("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }".utf8)
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0A)
        let npy = [0x93] + Array("NUMPY".utf8) + [1, 0] + le(UInt64(header.count), 2) + header
        files.append(("npy-object.npy", npy + payload("os", "system")))
        files += review4
        return files
    }

    /// Review 4's bypass classes (ModelScannerReview4ClassesTests), for the side-by-side comparison.
    static var review4: [(name: String, bytes: [UInt8])] {
        typealias R = ModelScannerReview4ClassesTests
        var polyglot = R.tar([("AAAAAAAA", []), ("pickle", payload("os", "system"))])
        polyglot.replaceSubrange(0..<7, with: [0x80, 0x02, 0x42] + le(UInt64(polyglot.count - 7), 4))
        R.setTarChecksum(&polyglot, at: 0)
        let evil = R.fragment()
        var wrapper = R.wrapper(count: UInt8(evil.count)) {
            $0.binUnicode("numpy_array_alignment_bytes")
            $0.none()
        }
        wrapper.raw(evil)
        wrapper.stop()
        return [
            ("rv4-pickle-tar-polyglot.pt", polyglot + [0x2E]),
            ("rv4-hex-int.sav", Array("I0x0\n0cos\nsystem\n(S'id'\ntR.".utf8)),
            ("rv4-joblib.pkl.gz", R.gzip(payload("os", "system"))),
            ("rv4-wrapper-plain.pkl", wrapper.bytes),
            ("rv4-osx-support.pkl", payload("_osx_support", "_read_output")),
            ("rv4-logging-dictconfig.pkl", payload("logging.config", "dictConfig")),
            (
                "rv4-npy-descr-object.npy",
                R.npy("{'descr': 'object', 'fortran_order': False, 'shape': (1,), }", payload("os", "system"))
            ),
            ("rv4-anydbm.pkl", payload("anydbm", "open")),
        ]
    }
}

@Suite struct CorpusTests {
    @Test func everyMaliciousFileIsRefusedByDefault() {
        for (name, bytes) in Corpus.malicious {
            let report = scan(bytes)
            #expect(report.isRefusedByDefault, "\(name): \(report.findings)")
        }
    }

    /// Writes the corpus to `MODELSCAN_CORPUS_DIR` for `Scripts/scan-compare`, else to a temporary directory
    /// (so the writer itself is exercised in every run).
    @Test func corpusIsWrittenWhenAsked() throws {
        let asked = ProcessInfo.processInfo.environment["MODELSCAN_CORPUS_DIR"]
        let directory =
            asked.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("modelscan-corpus-\(UUID().uuidString)")
        defer { if asked == nil { try? FileManager.default.removeItem(at: directory) } }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, bytes) in Corpus.malicious {
            try Data(bytes).write(to: directory.appendingPathComponent(name))
        }
        try Data(torchStateDict()).write(to: directory.appendingPathComponent("benign-state-dict.pkl"))
        let written = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(written.count >= Corpus.malicious.count + 1)
    }
}
