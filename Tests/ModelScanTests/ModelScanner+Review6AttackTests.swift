import Foundation
import Testing

@testable import ModelScan

/// The bypasses of the sixth adversarial review (against 021c510): each file below ran `os.system` under the real
/// Python loader (`pickle.load`, `torch.load`, `joblib.load` or `numpy.load`) while the scanner passed it, or
/// crashed the scanner. The generators were `mk1.py` … `mk10.py`; the bytes are rebuilt here opcode by opcode.
@Suite struct ModelScannerReview6AttackTests {
    /// `os.system(cmd)` as a pickle fragment ending in STOP (what the attacks run after the bytes the scanner skips).
    static func evil(_ command: String = "touch /tmp/pwned") -> [UInt8] {
        var p = PickleAssembler()
        p.global("os", "system")
        p.shortUnicode(command)
        p.tuple1()
        p.reduce()
        p.stop()
        return p.bytes
    }

    /// `os` `system` pushed as strings, then a MARK … POP_MARK that hides `collections.OrderedDict` and a
    /// STACK_GLOBAL that Python resolves to `os.system` (the tail of `mk1.py`).
    static func markHiddenStackGlobal() -> [UInt8] {
        var p = PickleAssembler()
        p.shortUnicode("os")
        p.shortUnicode("system")
        p.mark()
        p.shortUnicode("collections")
        p.shortUnicode("OrderedDict")
        p.raw([0x31])  // POP_MARK
        p.stackGlobal()
        p.shortUnicode("touch /tmp/pwned")
        p.tuple1()
        p.reduce()
        p.stop()
        return p.bytes
    }

    /// 65,537 marks, each at a stack position of its own (NONE, MARK).
    static let markFlood = (0..<65_537).flatMap { _ in [UInt8]([0x4E, 0x28]) }

    /// Finding 1: past 65,536 MARKs (or 2^20 stack items) the interpreter dropped its stack and marks and went on,
    /// so a later POP_MARK removed nothing and STACK_GLOBAL resolved to the allowed decoy. Past a structural bound
    /// the stack is no longer modelled, which is now high. (Marks at one stack position are one run since scanner
    /// review 9 and are modelled however many; the flood puts each at a position of its own.)
    @Test func pastTheMarkOrStackBoundTheStackIsNotTrusted() {
        let marks = [0x80, 4] + Self.markFlood + Self.markHiddenStackGlobal()
        let stack = [0x80, 4] + [UInt8](repeating: 0x4E, count: (1 << 20) + 1) + Self.markHiddenStackGlobal()
        for bytes in [marks, stack] {
            let report = ModelScanner().scan(bytes: bytes, name: "model.pkl")
            #expect(report.findings.contains { $0.rule == "pickle.bound-exceeded" && $0.severity >= .high })
            #expect(report.isRefusedByDefault, "\(report.findings)")
        }
    }

    /// Finding 9: the same pickle as a PyTorch zip checkpoint's `data.pkl`.
    @Test func pastTheMarkBoundInATorchZipIsRefused() {
        var zip = ZipWriter()
        zip.add("archive/data.pkl", [0x80, 4] + Self.markFlood + Self.markHiddenStackGlobal())
        zip.add("archive/version", Array("3\n".utf8))
        let report = ModelScanner().scan(bytes: zip.bytes, name: "model.pt")
        #expect(report.has("pickle.bound-exceeded"), "\(report.findings)")
        #expect(report.isRefusedByDefault, "\(report.findings)")
    }

    /// A joblib NumpyArrayWrapper of `shape` (one dimension) and dtype `code`, no alignment padding; `extra` adds
    /// pairs to the state dict after the usual keys.
    static func wrapper(
        protocol version: UInt8? = 2, code: String, count: Int, extra: (inout PickleAssembler) -> Void = { _ in }
    ) -> PickleAssembler {
        var p = PickleAssembler(protocol: version)
        p.global("joblib.numpy_pickle", "NumpyArrayWrapper")
        p.emptyTuple()
        p.newObj()
        buildWrapper(&p, code: code, count: count, extra: extra)
        return p
    }

    /// The state dict joblib writes for an array of `count` items of dtype `code` (no alignment padding), and the
    /// BUILD that applies it to the wrapper on top of the stack; `extra` adds pairs after the usual keys.
    static func buildWrapper(
        _ p: inout PickleAssembler, code: String, count: Int, extra: (inout PickleAssembler) -> Void = { _ in }
    ) {
        p.emptyDict()
        p.mark()
        p.binUnicode("subclass")
        p.global("numpy", "ndarray")
        p.binUnicode("shape")
        if let small = UInt8(exactly: count) { p.binInt1(small) } else { p.binInt(Int32(count)) }
        p.tuple1()
        p.binUnicode("order")
        p.binUnicode("C")
        p.binUnicode("dtype")
        p.global("numpy", "dtype")
        p.binUnicode(code)
        p.raw([0x89, 0x88])
        p.tuple3()
        p.reduce()
        p.binUnicode("allow_mmap")
        p.raw([0x89])
        p.binUnicode("numpy_array_alignment_bytes")
        p.none()
        extra(&p)
        p.setItems()
        p.build()
    }

    /// `size` array bytes joblib reads as data; a BINBYTES at `resume` (where the scanner's skip ended) covers the
    /// rest of them and the payload that follows, so `pickle.load` skips the payload too.
    static func arrayHiding(size: Int, resume: Int, _ payload: [UInt8]) -> [UInt8] {
        var array = [UInt8](repeating: 0xFF, count: size)
        array.replaceSubrange(resume..<(resume + 5), with: [0x42] + le(UInt64(size - resume - 5 + payload.count), 4))
        return array + payload + [0x2E]
    }

    /// Finding 2: the item size of `'f8,i4'` (numpy: 12) was read from its first field (8), so joblib's array
    /// bytes ran past the scanner's skip into a pickle. A dtype code the scanner cannot size exactly is high.
    @Test func aStructuredDtypeStringIsNotSizedByItsFirstField() {
        var p = Self.wrapper(code: "f8,i4", count: 2)
        p.raw(Self.arrayHiding(size: 24, resume: 16, Self.evil()))
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.joblib")
        #expect(report.has("joblib.array-unknown"), "\(report.findings)")
        #expect(report.isRefusedByDefault, "\(report.findings)")
        #expect(PickleInterpreter.itemSize("f8,i4") == nil)
        #expect(PickleInterpreter.itemSize("f8 ") == nil)
        #expect(PickleInterpreter.itemSize("3f8") == nil)
        #expect(PickleInterpreter.itemSize("<f8") == 8)
        #expect(PickleInterpreter.itemSize("M8[ns]") == 8)
        #expect(PickleInterpreter.itemSize("U5") == 20)
    }

    /// Finding 3: the state dict kept its first 64 pairs, so a second `shape` after 64 padding keys (Python: the
    /// last wins) was never seen. A dict cut at the bound now reads back unknown for every key.
    @Test func aShapePastTheDictBoundIsNotIgnored() {
        var p = Self.wrapper(code: "f8", count: 1) { p in
            for index in 0..<64 {
                p.binUnicode("pad\(index)")
                p.none()
            }
            p.binUnicode("shape")
            p.binInt1(4)
            p.tuple1()
        }
        p.raw(Self.arrayHiding(size: 32, resume: 8, Self.evil()))
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.joblib")
        #expect(report.has("joblib.array-unknown"), "\(report.findings)")
        #expect(report.isRefusedByDefault, "\(report.findings)")
    }

    /// Finding 4: joblib's unpickler reads a frame whole, so the array bytes follow the FRAME, not the BUILD; the
    /// scanner skipped them from the BUILD. An array whose BUILD does not end its frame is high.
    @Test func anArrayInsideAFrameThatGoesOnIsHigh() {
        var body = Self.wrapper(protocol: nil, code: "f8", count: 2)
        body.raw([UInt8](repeating: 0x4E, count: 8))
        var p = PickleAssembler(protocol: 4)
        p.frame(UInt64(body.bytes.count))
        p.raw(body.bytes)
        p.raw(Self.arrayHiding(size: 16, resume: 8, Self.evil()))
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.joblib")
        #expect(report.has("joblib.array-in-frame"), "\(report.findings)")
        #expect(report.isRefusedByDefault, "\(report.findings)")

        // What joblib writes (the frame ends at the BUILD) still passes.
        let benign = Self.wrapper(protocol: nil, code: "f8", count: 2)
        var q = PickleAssembler(protocol: 4)
        q.frame(UInt64(benign.bytes.count))
        q.raw(benign.bytes)
        q.raw([UInt8](repeating: 0, count: 16))
        q.stop()
        let benignReport = ModelScanner().scan(bytes: q.bytes, name: "model.joblib")
        #expect(!benignReport.isRefusedByDefault, "\(benignReport.findings)")
    }

    /// Finding 5: `2 + lo | hi << 8` read an FEXTRA length of 0x01FE as 256, so the scanner inflated a stored block
    /// hidden in the extra field; Python inflates the member after it. Its CRC-32 and size were never checked.
    @Test func gzipExtraFieldLengthAndTrailerAreReadAsPythonReadsThem() {
        let evil = [0x80, 2] + Self.evil()
        let real = deflateStored(evil) + le(UInt64(CRC32.checksum(evil)), 4) + le(UInt64(evil.count), 4)
        let xlen = 0x01FE
        var file: [UInt8] = [0x1F, 0x8B, 0x08, 0x04, 0, 0, 0, 0, 0, 0xFF] + le(UInt64(xlen), 2)
        file += [UInt8](repeating: 0, count: xlen)
        let wrong = 10 + 256
        var raw: [UInt8] = [0x4E, 0x2E] + [UInt8](repeating: 0xFF, count: file.count - (wrong + 5) - 2)
        raw += real.dropLast(8)
        file = Array(file[..<wrong]) + deflateStored(raw) + real.suffix(8)
        #expect(Array(file.suffix(real.count)) == real)
        let report = ModelScanner().scan(bytes: file, name: "model.joblib")
        #expect(report.has("pickle.global.dangerous", "os.system"), "\(report.findings)")
        #expect(report.isRefusedByDefault, "\(report.findings)")

        // A member whose CRC-32 or size does not match its data is high; a second member is read too.
        let benign = payload("collections", "OrderedDict")
        let good = ModelScannerReview4ClassesTests.gzip(benign)
        var badCRC = good
        badCRC[badCRC.count - 8] ^= 1
        var badSize = good
        badSize[badSize.count - 4] ^= 1
        for bytes in [badCRC, badSize, good + badCRC] {
            let report = ModelScanner().scan(bytes: bytes, name: "model.joblib")
            #expect(report.has("gzip.trailer-mismatch"), "\(report.findings)")
            #expect(report.isRefusedByDefault, "\(report.findings)")
        }
        let twoMembers = ModelScanner().scan(bytes: good + good, name: "model.joblib")
        #expect(!twoMembers.isRefusedByDefault, "\(twoMembers.findings)")
        let evilSecond = ModelScannerReview4ClassesTests.gzip(evil)
        #expect(ModelScanner().scan(bytes: good + evilSecond, name: "model.joblib").isRefusedByDefault)
    }

    /// Finding 6: 2,000 tars nested in each other crashed the scanner (stack overflow). Nesting past the bound is
    /// high, never a crash.
    @Test func deeplyNestedTarsAreHighNotACrash() {
        let levels = 2_000
        var file = [UInt8]()
        for index in 0..<levels {
            file += ModelScannerReview4ClassesTests.tarHeader("x", size: 512 * (levels - 1 - index))
        }
        file += [UInt8](repeating: 0, count: 1024)
        let report = ModelScanner().scan(bytes: file, name: "model.tar")
        #expect(report.has("scan.nested-too-deep"), "\(report.findings)")
        #expect(report.isRefusedByDefault, "\(report.findings)")
    }

    /// Zips nested past the zip bound were medium and not opened, so whatever the innermost one held passed the
    /// default policy unread. Content the scanner does not open fails closed, as for every other container.
    @Test func zipsNestedPastTheZipBoundAreHigh() {
        var file = Self.evil()
        for level in 0..<6 {
            var zip = ZipWriter()
            zip.add(level == 0 ? "data.pkl" : "inner.zip", file)
            file = zip.bytes
        }
        let report = ModelScanner().scan(bytes: file, name: "model.zip")
        #expect(report.has("zip.nested-too-deep"), "\(report.findings)")
        #expect(report.isRefusedByDefault, "\(report.findings)")
    }

    /// Finding 7: once the scanner's set of large memo keys was full, a key PUT twice was counted twice, so
    /// MEMOIZE stored under other keys than Python's `len(memo)` and a GET read the decoy. Past that bound the
    /// memo is no longer modelled, which is high.
    @Test func theMemoCountPastTheLargeKeyBoundIsNotTrusted() {
        func put(_ key: Int) -> [UInt8] { [0x72] + le(UInt64(key), 4) }
        func get(_ key: Int) -> [UInt8] { [0x6A] + le(UInt64(key), 4) }
        let big = 1 << 26
        var p = PickleAssembler(protocol: 4)
        p.none()
        for index in 0..<100_000 { p.raw(put(big + index)) }
        let last = big + 100_000
        p.raw(put(last) + put(last) + [0x30])
        let a = 100_002
        let b = a + 1
        p.shortUnicode("collections")
        p.raw(put(a) + [0x30])
        p.shortUnicode("os")
        p.raw([0x94, 0x30])
        p.shortUnicode("OrderedDict")
        p.raw(put(b) + [0x30])
        p.shortUnicode("system")
        p.raw([0x94, 0x30])
        p.raw(get(a) + get(b) + [0x93])
        p.shortUnicode("touch /tmp/pwned")
        p.tuple1()
        p.reduce()
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.findings.contains { $0.rule == "pickle.bound-exceeded" && $0.severity >= .high })
        #expect(report.isRefusedByDefault, "\(report.findings)")
    }

    /// Finding 8: zipfile reads every zip64 extra block of a directory record in turn (a field still at its
    /// sentinel takes the next value), the scanner read the first only. Two such blocks are critical.
    @Test func aSecondZip64ExtraBlockIsCritical() {
        let data = ModelScannerReview4ClassesTests.npy(
            "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", [0x80, 2] + Self.evil())
        let name = Array("x.npy".utf8)
        let crc = UInt64(CRC32.checksum(data))
        var file = le(0x0403_4B50, 4) + le(45, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(crc, 4)
        file += le(UInt64(data.count), 4) + le(UInt64(data.count), 4) + le(UInt64(name.count), 2) + le(0, 2)
        file += name + data
        let extra = le(1, 2) + le(8, 2) + le(0xFFFF_FFFF, 8) + le(1, 2) + le(8, 2) + le(0, 8)
        let directory = UInt64(file.count)
        var central = le(0x0201_4B50, 4) + le(45, 2) + le(45, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(crc, 4)
        central += le(UInt64(data.count), 4) + le(UInt64(data.count), 4) + le(UInt64(name.count), 2)
        central += le(UInt64(extra.count), 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0xFFFF_FFFF, 4)
        central += name + extra
        file += central
        file += le(0x0605_4B50, 4) + le(0, 4) + le(1, 2) + le(1, 2) + le(UInt64(central.count), 4)
        file += le(directory, 4) + le(0, 2)
        let report = ModelScanner().scan(bytes: file, name: "model.npz")
        #expect(
            report.findings.contains { $0.rule == "zip.zip64-duplicate" && $0.severity == .critical },
            "\(report.findings)")
    }

    /// Finding 10: a member named like a directory (`weights/`) that carries data was never scanned, though
    /// `numpy.load` of an `.npz` loads it. Every member's data is scanned; a directory with data is medium.
    @Test func aDirectoryEntryWithDataIsScanned() {
        var zip = ZipWriter()
        zip.add(
            "weights.npy",
            ModelScannerReview4ClassesTests.npy(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", [UInt8](repeating: 0, count: 24)))
        zip.add(
            "weights/",
            ModelScannerReview4ClassesTests.npy(
                "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", [0x80, 2] + Self.evil()))
        let report = ModelScanner().scan(bytes: zip.bytes, name: "model.npz")
        #expect(report.has("zip.directory-data"), "\(report.findings)")
        #expect(report.has("pickle.global.dangerous", "os.system"), "\(report.findings)")
        #expect(report.isRefusedByDefault, "\(report.findings)")

        // An empty directory entry is no finding.
        var empty = ZipWriter()
        empty.add("weights/", [])
        empty.add(
            "weights/a.npy",
            ModelScannerReview4ClassesTests.npy(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", [UInt8](repeating: 0, count: 8)))
        let emptyReport = ModelScanner().scan(bytes: empty.bytes, name: "model.npz")
        #expect(!emptyReport.has("zip.directory-data"), "\(emptyReport.findings)")
        #expect(!emptyReport.isRefusedByDefault, "\(emptyReport.findings)")
    }
}
