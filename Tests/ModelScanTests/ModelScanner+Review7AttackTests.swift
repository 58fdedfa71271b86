import Foundation
import Testing

@testable import ModelScan

/// The bypasses of the seventh adversarial review: each file ran `os.system` (or TorchScript) under the real Python
/// loader (`torch.load`, `joblib.load`) while the scanner passed it. The generators were `mk1.py` … `mk6.py` and
/// `mkr2.py`; the bytes are rebuilt here.
@Suite struct ModelScannerReview7AttackTests {
    static let evil = ModelScannerReview6AttackTests.evil()

    /// A pickle of the small int `value` (protocol 2).
    static func intPickle(_ value: UInt8) -> [UInt8] {
        var p = PickleAssembler(protocol: 2)
        p.binInt1(value)
        p.stop()
        return p.bytes
    }

    /// One `storages` record: `('k', 'cpu', torch.FloatStorage)`, one element, its four bytes.
    static func floatStorageRecord() -> [UInt8] {
        var p = PickleAssembler(protocol: 2)
        p.shortUnicode("k")
        p.shortUnicode("cpu")
        p.global("torch", "FloatStorage")
        p.tuple3()
        p.stop()
        return p.bytes + le(1, 8) + [0, 0, 0, 0]
    }

    /// F1: `storages` is the record count, the records, then `storage_views`, one more pickle torch loads with the
    /// full unpickler. The scanner read it as medium trailing bytes.
    @Test func theStorageViewsPickleAfterTheRecordsIsInterpreted() {
        for records in [Self.intPickle(0), Self.intPickle(1) + Self.floatStorageRecord()] {
            let tar = ModelScannerReview4ClassesTests.tar([
                ("storages", records + Self.evil), ("tensors", Self.intPickle(0)), ("pickle", Self.intPickle(1)),
            ])
            let report = ModelScanner().scan(bytes: tar, name: "model.pt")
            #expect(report.has("pickle.global.dangerous"), "\(report.findings)")
            #expect(report.isRefusedByDefault, "\(report.findings)")
        }
        // Bytes after storage_views: nothing legitimate writes them.
        let tail = ModelScannerReview4ClassesTests.tar([
            ("storages", Self.intPickle(0) + Self.intPickle(0) + [0x42, 0x42]), ("pickle", Self.intPickle(1)),
        ])
        let report = ModelScanner().scan(bytes: tail, name: "model.pt")
        #expect(report.findings.contains { $0.rule == "pickle.trailing-bytes" && $0.severity == .high })
    }

    /// A tar header for a link member `name` → `target` (`type` 0x31 hard, 0x32 symbolic).
    static func linkHeader(_ name: String, to target: String, type: UInt8 = 0x31) -> [UInt8] {
        var header = ModelScannerReview4ClassesTests.tarHeader(name, size: 0)
        header[156] = type
        header.replaceSubrange(157..<(157 + target.utf8.count), with: Array(target.utf8))
        ModelScannerReview4ClassesTests.setTarChecksum(&header, at: 0)
        return header
    }

    /// F5: `storages` is a hard link to an earlier member `x`; tarfile extracts `x`'s bytes as `storages`, which
    /// torch reads as records and storage_views. The scanner skipped the link and read `x` as stacked pickles.
    @Test func aHardLinkedStoragesMemberIsReadAsStorages() {
        let x = Self.intPickle(1) + Self.floatStorageRecord() + Self.evil
        var tar = Array(ModelScannerReview4ClassesTests.tar([("x", x)]).dropLast(1024))
        tar += Self.linkHeader("storages", to: "x")
        tar += ModelScannerReview4ClassesTests.tar([("tensors", Self.intPickle(0)), ("pickle", Self.intPickle(1))])
        let report = ModelScanner().scan(bytes: tar, name: "model.pt")
        #expect(report.has("pickle.global.dangerous"), "\(report.findings)")
        #expect(report.isRefusedByDefault, "\(report.findings)")
        // A link torch would follow that the scanner cannot resolve (a symlink, a missing target) is high.
        for header in [Self.linkHeader("storages", to: "x", type: 0x32), Self.linkHeader("pickle", to: "nowhere")] {
            let linked = header + ModelScannerReview4ClassesTests.tar([("tensors", Self.intPickle(0))])
            let refused = ModelScanner().scan(bytes: linked, name: "model.pt")
            #expect(refused.findings.contains { $0.rule == "tar.link-unresolved" && $0.severity == .high })
            #expect(refused.isRefusedByDefault, "\(refused.findings)")
        }
    }

    /// F6: a size field `" 0000000076\0"`: tarfile strips the space and reads the size, the scanner stopped at the
    /// space (0) and read the member's data as the next header. Sizes are now read as tarfile's `nti`; a header
    /// whose checksum tarfile refuses is high.
    @Test func aTarSizeWithALeadingSpaceIsReadAsTarfileReadsIt() {
        var tar = ModelScannerReview4ClassesTests.tar([
            ("storages", Self.intPickle(0) + Self.intPickle(0)), ("tensors", Self.intPickle(0)), ("pickle", Self.evil),
        ])
        let header = 2 * 1024
        let field =
            " " + String(repeating: "0", count: 10 - String(Self.evil.count, radix: 8).count)
            + String(Self.evil.count, radix: 8) + "\0"
        tar.replaceSubrange((header + 124)..<(header + 136), with: Array(field.utf8))
        ModelScannerReview4ClassesTests.setTarChecksum(&tar, at: header)
        let report = ModelScanner().scan(bytes: tar, name: "model.pt")
        #expect(report.has("pickle.global.dangerous"), "\(report.findings)")
        #expect(report.isRefusedByDefault, "\(report.findings)")
        #expect(ContentScan.tarSize(Array(" 0000000076\0".utf8)) == 0o76)
        #expect(ContentScan.tarSize(Array("\t76 \0 9".utf8)) == 0o76)
        // A sign is read as int() reads it (review 8 of the scanner, finding 6), a negative size refused.
        #expect(ContentScan.tarSize(Array("+76\0".utf8)) == 0o76)
        #expect(ContentScan.tarSize(Array("-76\0".utf8)) == nil)
        #expect(ContentScan.tarSize([0x80] + [UInt8](repeating: 0, count: 10) + [5]) == 5)
        #expect(ContentScan.tarSize([0xFF] + [UInt8](repeating: 0xFF, count: 11)) == nil)
        var bad = ModelScannerReview4ClassesTests.tar([("pickle", Self.intPickle(1))])
        bad[148] = 0x37
        let refused = ModelScanner().scan(bytes: bad, name: "model.pt")
        #expect(refused.findings.contains { $0.rule == "tar.malformed" && $0.severity == .high })
    }

    /// F4: a TorchScript archive whose data.pkl is spelled `m/DATA.pkl` (torch's miniz lookup ignores case) and
    /// whose class is named like an allowed scikit-learn class: the scanner found no checkpoint prefix, so its
    /// `code/` (run by `torch.jit.load`, which torch.load picks when `constants.pkl` exists) was never reported.
    @Test func aTorchScriptArchiveIsRecognisedWhateverTheCase() {
        var data = PickleAssembler(protocol: 2)
        data.global("sklearn.linear_model._base", "LinearRegression")
        data.emptyTuple()
        data.newObj()
        data.stop()
        for (pickleName, constants, code) in [
            ("m/DATA.pkl", "m/constants.pkl", "m/code/sklearn/linear_model/_base.py"),
            ("m/data.pkl", "m/CONSTANTS.PKL", "m/Code/__torch__.py"),
        ] {
            var zip = ZipWriter()
            zip.add("m/data/0", [0, 0, 0, 0])
            zip.add(pickleName, data.bytes)
            zip.add(code, Array("# TorchScript\nclass LinearRegression(Module):\n  pass\n".utf8))
            zip.add(constants, [0x80, 2, 0x29, 0x2E])
            zip.add("m/version", Array("3\n".utf8))
            let report = ModelScanner().scan(bytes: zip.bytes, name: "model.pt")
            #expect(report.findings.contains { $0.rule == "torchscript.code" && $0.severity == .high })
            #expect(report.formats.contains("pytorch-zip"), "\(report.formats)")
            #expect(report.isRefusedByDefault, "\(report.findings)")
        }
    }

    /// The payload joblib runs after reading `small` array bytes: a BINBYTES header over the opcodes (so plain
    /// readers skip them), then `os.system` and POP.
    static func hiddenCall() -> [UInt8] {
        var p = PickleAssembler()
        p.global("os", "system")
        p.mark()
        p.shortUnicode("touch /tmp/pwned")
        p.tuple()
        p.reduce()
        p.raw([0x30])
        return [0x42] + le(UInt64(p.bytes.count), 4) + p.bytes
    }

    /// The state dict of a u1 NumpyArrayWrapper of `count` elements, left open (SETITEMS done, no BUILD).
    static func wrapperState(count: Int32, shapeKey: (inout PickleAssembler) -> Void) -> PickleAssembler {
        var p = PickleAssembler(protocol: 4)
        p.shortUnicode("joblib.numpy_pickle")
        p.shortUnicode("NumpyArrayWrapper")
        p.stackGlobal()
        p.emptyTuple()
        p.newObj()
        p.emptyDict()
        p.mark()
        p.shortUnicode("subclass")
        p.global("numpy", "ndarray")
        shapeKey(&p)
        p.binInt(count)
        p.tuple1()
        p.shortUnicode("order")
        p.shortUnicode("C")
        p.shortUnicode("dtype")
        p.global("numpy", "dtype")
        p.shortUnicode("u1")
        p.raw([0x89, 0x88])
        p.tuple3()
        p.reduce()
        p.shortUnicode("allow_mmap")
        p.raw([0x89])
        p.shortUnicode("numpy_array_alignment_bytes")
        p.none()
        p.setItems()
        return p
    }

    /// F2: the state dict is memoised with a big shape, then changed (SETITEMS) to 5 elements, popped and read back
    /// by GET for the BUILD. Python's memo holds the same dict (5), the scanner's memo held a copy (big): it
    /// skipped the opcodes joblib runs. A change is now written through to the memo; a dict changed after a GET
    /// (another copy may be stale) reads back unknown.
    @Test func aMemoisedStateDictChangedAfterPutIsNotASnapshot() {
        let hidden = Self.hiddenCall()
        var p = Self.wrapperState(count: Int32(5 + hidden.count - 5)) { $0.shortUnicode("shape") }
        p.binPut(1)
        p.mark()
        p.shortUnicode("shape")
        p.binInt(5)
        p.tuple1()
        p.setItems()
        p.raw([0x30])  // POP
        p.binGet(1)
        p.build()
        p.raw(hidden)
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.joblib")
        #expect(report.has("pickle.global.dangerous"), "\(report.findings)")
        #expect(report.isRefusedByDefault, "\(report.findings)")

        // The other way round: the dict on the stack is changed through a GET copy (then popped).
        var q = Self.wrapperState(count: 40) { $0.shortUnicode("shape") }
        q.binPut(1)
        q.binGet(1)
        q.mark()
        q.shortUnicode("shape")
        q.binInt(5)
        q.tuple1()
        q.setItems()
        q.raw([0x30])  // POP
        q.build()
        q.raw([UInt8](repeating: 0, count: 5) + hidden)
        q.stop()
        let stale = ModelScanner().scan(bytes: q.bytes, name: "model.joblib")
        #expect(stale.has("joblib.array-unknown"), "\(stale.findings)")
        #expect(stale.isRefusedByDefault, "\(stale.findings)")

        // What picklers write (MEMOIZE before the SETITEMS that fill the dict) is still read exactly.
        var plain = PickleAssembler(protocol: 4)
        plain.emptyDict()
        plain.memoize()
        plain.mark()
        plain.shortUnicode("shape")
        plain.binInt(5)
        plain.setItems()
        plain.stop()
        #expect(ModelScanner().scan(bytes: plain.bytes, name: "model.joblib").findings.isEmpty)
    }

    /// F2b: the overriding `shape` key is computed by the allowed `builtins.str('shape')`: Python keeps it, the
    /// scanner's lookup passed over non-string keys. A computed key makes every lookup unknown.
    @Test func aComputedDictKeyMakesLookupsUnknown() {
        var p = Self.wrapperState(count: 40) { p in
            p.shortUnicode("shape")
            p.binInt(40)
            p.tuple1()
            p.global("builtins", "str")
            p.shortUnicode("shape")
            p.tuple1()
            p.reduce()
        }
        p.build()
        p.raw([UInt8](repeating: 0, count: 5) + Self.hiddenCall())
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.joblib")
        #expect(report.has("joblib.array-unknown"), "\(report.findings)")
        #expect(report.isRefusedByDefault, "\(report.findings)")
        let computed = PickleValue.dict([
            (.string("shape"), .int(1)), (.object(callable: "builtins.str", args: []), .int(2)),
        ])
        if case .unknown? = computed["shape"] {} else { Issue.record("a computed key was passed over") }
    }

    /// A zlib stream of `data` in one stored block, with its Adler-32.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        let adler = b << 16 | a
        return [0x78, 0x01] + deflateStored(data) + [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: adler >> $0) }
    }

    /// F3: joblib's old "ZF" z-file (`ZF`, the hex length padded to 19 bytes, a zlib stream), which joblib.load
    /// still reads (load_compatibility); the scanner did not recognise it (low as an unknown format).
    @Test func aJoblibZFileIsInflatedAndScanned() {
        for (separator, name) in [("", "model.model"), (" ", "model.bin"), ("", "model.joblib")] {
            let length = "0x" + String(Self.evil.count, radix: 16)
            let header = "ZF" + length + String(repeating: " ", count: 19 - length.count) + separator
            let bytes = Array(header.utf8) + Self.zlibStored(Self.evil)
            let report = ModelScanner().scan(bytes: bytes, name: name)
            #expect(report.has("pickle.global.dangerous"), "\(report.findings)")
            #expect(report.isRefusedByDefault, "\(report.findings)")
        }
    }

    /// R1 (denial of service): a 255 KB `.npz` whose four members inflate to 64 MiB of cheap opcodes each took three
    /// minutes, although the first member already raised the high `zip.compression-ratio`. Once an archive has a
    /// bomb ratio, no deflated member is inflated: one high `zip.unscanned-member` says so.
    @Test func anArchiveWithABombRatioIsNotInflatedFurther() {
        var bomb = ZipWriter.Member(name: "m0.npy", data: [])
        bomb.method = 8
        bomb.payload = [0x03, 0x00]  // an empty fixed-Huffman block
        var next = ZipWriter.Member(name: "m1.npy", data: Self.evil)
        next.method = 8
        next.payload = deflateStored(Self.evil)
        var zip = ZipWriter()
        zip.members = [bomb, next]
        var bytes = zip.bytes
        // Claim 4 GiB - 1 uncompressed for the first member in the central directory.
        let central = bytes.indices.first { bytes[$0...].starts(with: [0x50, 0x4B, 0x01, 0x02]) }!
        bytes.replaceSubrange(central + 24..<central + 28, with: [0xFE, 0xFF, 0xFF, 0xFF])
        let report = ModelScanner().scan(bytes: bytes, name: "model.npz")
        #expect(report.has("zip.compression-ratio"), "\(report.findings)")
        #expect(report.findings.contains { $0.rule == "zip.unscanned-member" && $0.severity == .high })
        #expect(!report.findings.contains { $0.member == "m1.npy" }, "\(report.findings)")
        #expect(report.isRefusedByDefault, "\(report.findings)")
    }

    /// Suggested by the review: REDUCE on a callable that is no imported global (here the result of an allowed
    /// call, whose return value the scanner does not know) calls something the policy never judged: high.
    @Test func aCallOfAComputedValueIsHigh() {
        var p = PickleAssembler(protocol: 2)
        p.global("builtins", "str")
        p.shortUnicode("x")
        p.tuple1()
        p.reduce()
        p.shortUnicode("touch /tmp/pwned")
        p.tuple1()
        p.reduce()
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.findings.contains { $0.rule == "pickle.call-computed" && $0.severity == .high })
        #expect(report.isRefusedByDefault, "\(report.findings)")
    }
}
