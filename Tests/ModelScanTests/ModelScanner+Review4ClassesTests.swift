import Foundation
import Testing

@testable import ModelScan

/// The bypass classes of the fourth adversarial review (findings 1–6, 8, 9, 11): each file below ran
/// `os.system` (or created files) under the real Python loader while the scanner passed it.
@Suite struct ModelScannerReview4ClassesTests {
    /// A 512-byte tar header for `name` (ustar magic optional: tarfile also accepts v7 headers).
    static func tarHeader(_ name: String, size: Int, ustar: Bool = true) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 512)
        header.replaceSubrange(0..<name.utf8.count, with: Array(name.utf8))
        header.replaceSubrange(100..<108, with: Array("0000644\0".utf8))
        let sizeField = String(size, radix: 8)
        header.replaceSubrange(
            124..<136, with: Array((String(repeating: "0", count: 11 - sizeField.count) + sizeField + "\0").utf8))
        header[156] = 0x30
        if ustar { header.replaceSubrange(257..<265, with: Array("ustar\u{0}00".utf8)) }
        setTarChecksum(&header, at: 0)
        return header
    }

    static func setTarChecksum(_ bytes: inout [UInt8], at offset: Int) {
        bytes.replaceSubrange((offset + 148)..<(offset + 156), with: [UInt8](repeating: 0x20, count: 8))
        let sum = bytes[offset..<(offset + 512)].reduce(0) { $0 + Int($1) }
        let text = String(sum, radix: 8)
        let field = String(repeating: "0", count: 6 - text.count) + text + "\0 "
        bytes.replaceSubrange((offset + 148)..<(offset + 156), with: Array(field.utf8))
    }

    static func tar(_ members: [(String, [UInt8])], ustar: Bool = true) -> [UInt8] {
        var out = [UInt8]()
        for (name, data) in members {
            out += tarHeader(name, size: data.count, ustar: ustar) + data
            out += [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
        }
        return out + [UInt8](repeating: 0, count: 1024)
    }

    /// Finding 1: the first tar header's name field starts `\x80\x02B<len>`: as a pickle the file is one BINBYTES
    /// (harmless), as a tar (what `torch.load` tries first) its `pickle` member runs `os.system`.
    @Test func pickleTarPolyglotIsScannedAsATar() {
        for ustar in [true, false] {
            var bytes = Self.tar(
                [
                    ("AAAAAAAA", []), ("storages", [0x80, 0x02, 0x4B, 0x00, 0x2E]),
                    ("tensors", [0x80, 0x02, 0x4B, 0x00, 0x2E]),
                    ("pickle", payload("os", "system")),
                ], ustar: ustar)
            bytes.replaceSubrange(0..<7, with: [0x80, 0x02, 0x42] + le(UInt64(bytes.count - 7), 4))
            Self.setTarChecksum(&bytes, at: 0)
            bytes.append(0x2E)
            let report = ModelScanner().scan(bytes: bytes, name: "polyglot.pt")
            #expect(report.has("pickle.global.dangerous", "system"), "ustar \(ustar): \(report.findings)")
        }
    }

    /// Finding 1, the legacy tar's `storages` member: after the count, each storage is a pickle the loader reads
    /// with the full unpickler; a malicious one after a benign count was never read.
    @Test func everyPickleOfALegacyTarStoragesMemberIsScanned() {
        let storages: [UInt8] = [0x80, 0x02, 0x4B, 0x01, 0x2E] + payload("os", "system")
        let bytes = Self.tar([("sys_info", [0x80, 0x02, 0x7D, 0x2E]), ("storages", storages)])
        let report = ModelScanner().scan(bytes: bytes, name: "legacy.tar")
        #expect(report.isRefusedByDefault, "\(report.findings)")
    }

    /// Finding 2: CPython reads INT/LONG arguments with base 0 (hex, octal, underscores, whitespace, `L`); the
    /// scanner called `I0x0` invalid and dropped the file as unrecognised, so the `os.system` after it passed.
    @Test func protocol0IntegersParseAsCPythonDoes() {
        let evil = Array("cos\nsystem\n(S'touch x'\ntR.".utf8)
        for name in ["model.sav", "model.bin", "model.dat", "README"] {
            let report = ModelScanner().scan(bytes: Array("I0x0\n0".utf8) + evil, name: name)
            #expect(report.has("pickle.global.dangerous", "system"), "\(name): \(report.findings)")
        }
        // A legacy checkpoint whose magic number is a hex LONG (torch.load accepts it).
        let legacy =
            Array("L0x1950a86a20f9469cfc6cL\n.I1001\n.(d.".utf8) + evil + Array("(l.".utf8)
        let report = ModelScanner().scan(bytes: legacy, name: "pytorch_model.bin")
        #expect(report.has("pickle.global.dangerous", "system"), "\(report.findings)")
        for argument in ["0x1F", "1_000", " -7 ", "0o17", "0b101", "+12", "010", "123456789012345678901234567890L"] {
            let op = argument.hasSuffix("L") ? "L" : "I"
            let report = scan(Array("\(op)\(argument)\n.".utf8))
            #expect(!report.has("pickle.invalid-argument"), "\(argument): \(report.findings)")
            #expect(report.formats.contains("pickle"), "\(argument): \(report.formats)")
        }
        // What CPython refuses stays refused, and a broken numeric-looking argument is high, never skipped.
        #expect(scan(Array("I0x\n.".utf8)).isRefusedByDefault)
        #expect(scan(Array("I1__0\n.".utf8)).isRefusedByDefault)
    }

    static func gzip(_ data: [UInt8]) -> [UInt8] {
        [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xFF] + deflateStored(data) + le(UInt64(CRC32.checksum(data)), 4)
            + le(UInt64(data.count), 4)
    }

    /// Finding 3: `joblib.dump(obj, "model.pkl.gz")` (and .bz2, .xz, .lzma) was never decompressed. gzip is now
    /// inflated (every member, as Python's gzip reads on); the others, which the scanner cannot decompress, are high.
    @Test func compressedJoblibFilesAreInflatedOrRefused() {
        let gz = Self.gzip(payload("os", "system"))
        #expect(ModelScanner().scan(bytes: gz, name: "model.pkl.gz").has("pickle.global.dangerous", "system"))
        let twoMembers = Self.gzip([0x80, 0x02, 0x4E]) + Self.gzip([0x2E] + payload("os", "system"))
        let report = ModelScanner().scan(bytes: twoMembers, name: "model.pkl.gz")
        #expect(report.isRefusedByDefault, "\(report.findings)")
        for magic: [UInt8] in [
            Array("BZh9".utf8), [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], [0x5D, 0x00, 0x00], [0x04, 0x22, 0x4D, 0x18],
        ] {
            let report = ModelScanner().scan(bytes: magic + [UInt8](repeating: 7, count: 64), name: "model.pkl.x")
            #expect(report.isRefusedByDefault, "\(magic): \(report.findings)")
        }
    }

    /// A `joblib.numpy_pickle.NumpyArrayWrapper` state, with `extra` pairs appended inside the dict.
    static func wrapper(count: UInt8, extra: (inout PickleAssembler) -> Void) -> PickleAssembler {
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
        p.binUnicode("u1")
        p.raw([0x89, 0x88])
        p.tuple()
        p.reduce()
        p.binUnicode("allow_mmap")
        p.raw([0x89])
        extra(&p)
        p.setItems()
        p.build()
        return p
    }

    static func fragment() -> [UInt8] {
        var p = PickleAssembler()
        p.call("os", "system", "id")
        p.raw([0x30])
        return p.bytes
    }

    /// Findings 4 and 5: the array bytes after a NumpyArrayWrapper's BUILD were skipped in every pickle, though
    /// `pickle.load` executes them; and the padding was keyed on `allow_mmap`, where joblib reads it whenever
    /// `numpy_array_alignment_bytes` is set.
    @Test func joblibArraySkipCannotHideCode() {
        let evil = Self.fragment()
        var plain = Self.wrapper(count: UInt8(evil.count)) {
            $0.binUnicode("numpy_array_alignment_bytes"); $0.none()
        }
        plain.raw(evil)
        plain.stop()
        let plainReport = ModelScanner().scan(bytes: plain.bytes, name: "wrapper.pkl")
        #expect(plainReport.has("pickle.global.dangerous", "system"), "\(plainReport.findings)")

        var padded = Self.wrapper(count: 16) {
            $0.binUnicode("numpy_array_alignment_bytes"); $0.binInt1(16)
        }
        padded.raw([4] + [UInt8](repeating: 0, count: 15))
        padded.raw([0x42] + le(UInt64(evil.count), 4) + evil)
        padded.stop()
        let paddedReport = ModelScanner().scan(bytes: padded.bytes, name: "model.joblib")
        #expect(paddedReport.has("pickle.global.dangerous", "system"), "\(paddedReport.findings)")

        // A state that does not spell out the alignment leaves joblib's reading unknown: high.
        var vague = Self.wrapper(count: 4) { _ in }
        vague.raw([1, 2, 3, 4])
        vague.stop()
        #expect(ModelScanner().scan(bytes: vague.bytes, name: "model.joblib").isRefusedByDefault)
    }

    /// Finding 6: globals outside the allow-list were medium and passed the default policy, though
    /// `_osx_support._read_output` and `logging.config.dictConfig` run commands. scikit-learn classes still pass.
    @Test func unknownGlobalsFailTheDefaultPolicy() {
        for (module, name) in [
            ("_osx_support", "_read_output"), ("logging.config", "dictConfig"), ("torch.utils.collect_env", "run"),
            ("numpy.lib.format", "open_memmap"), ("gzip", "open"),
        ] {
            #expect(scan(payload(module, name)).isRefusedByDefault, "\(module).\(name)")
        }
        var p = PickleAssembler(protocol: 2)
        p.global("sklearn.linear_model._logistic", "LogisticRegression")
        p.emptyTuple()
        p.newObj()
        p.emptyDict()
        p.build()
        p.stop()
        let report = scan(p.bytes)
        #expect(!report.isRefusedByDefault, "\(report.findings)")
    }

    static func npy(_ header: String, _ body: [UInt8]) -> [UInt8] {
        var text = Array(header.utf8)
        text += [UInt8](repeating: 0x20, count: 63 - (10 + text.count) % 64) + [0x0A]
        return [0x93] + Array("NUMPY".utf8) + [1, 0] + le(UInt64(text.count), 2) + text + body
    }

    /// Finding 8: the object dtype was found by a regex, which missed `'object'`, structured fields and escaped
    /// keys; an unreadable header was medium.
    @Test func npyHeaderIsParsedAsAPythonLiteral() {
        let evil = payload("os", "system")
        for header in [
            "{'descr': 'object', 'fortran_order': False, 'shape': (1,), }",
            "{'d\\x65scr': '|O', 'fortran_order': False, 'shape': (1,), }",
            "{'descr': [('a', '<f8'), ('b', 'O')], 'fortran_order': False, 'shape': (1,), }",
            "{'descr': 'O' 'bject', \"fortran_order\": False, 'shape': (1,)}",
        ] {
            let report = ModelScanner().scan(bytes: Self.npy(header, evil), name: "a.npy")
            #expect(report.has("pickle.global.dangerous", "system"), "\(header): \(report.findings)")
        }
        let malformed = ModelScanner().scan(bytes: Self.npy("{'descr': '<f8', 'shape': (1,", evil), name: "a.npy")
        #expect(malformed.isRefusedByDefault, "\(malformed.findings)")
        let plain = ModelScanner().scan(
            bytes: Self.npy(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", [UInt8](repeating: 0, count: 8)),
            name: "a.npy")
        #expect(plain.findings.isEmpty, "\(plain.findings)")
    }

    /// Finding 9: Python 2 names that `_compat_pickle` maps onto dangerous modules or callables.
    @Test func python2NamesAreMappedLikeCompatPickle() {
        for (module, name) in [
            ("anydbm", "open"), ("__builtin__", "reduce"), ("__builtin__", "intern"), ("SimpleHTTPServer", "test"),
            ("xmlrpclib", "ServerProxy"), ("whichdb", "whichdb"), ("UserList", "UserList"),
        ] {
            let report = scan(payload(module, name))
            #expect(report.isRefusedByDefault, "\(module).\(name): \(report.findings)")
        }
        #expect(GlobalPolicy.normalised(module: "__builtin__", name: "reduce", protocol: 2) == ("functools", "reduce"))
        #expect(GlobalPolicy.normalised(module: "anydbm", name: "open", protocol: 0) == ("dbm", "open"))
    }

    /// Finding 11: a file over the protobuf bound that starts like a protobuf model (0x08) was medium. A sparse file
    /// keeps the test cheap.
    @Test func oversizedProtobufShapedFileIsHigh() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mv-pb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("model.onnx.data").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data([0x08, 0x07])))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: ContentScan.maxProtobufSize + 4096)
        try handle.close()
        let report = try ModelScanner().scan(path: path)
        #expect(report.isRefusedByDefault, "\(report.findings)")
    }
}
