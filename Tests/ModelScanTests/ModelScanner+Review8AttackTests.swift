import Foundation
import Testing

@testable import ModelScan

/// The bypasses of the eighth adversarial review of the scanner (2026-12-04): each file ran `os.system` under its
/// real loader (`joblib.load`, `pickle.load`, `torch.load(weights_only=False)`) while the scanner passed it, and one
/// small zip held the scanner for minutes. The generators were `findings/NN/gen.py`; the small files are kept as
/// bytes, the large ones rebuilt here.
@Suite struct ModelScannerReview8AttackTests {
    static let wrapperRebuiltFromType = [UInt8](
        Data(
            base64Encoded:
                "gAJjdG9yY2guX3RlbnNvcgpfcmVidWlsZF9mcm9tX3R5cGVfdjIKKGNqb2JsaWIubnVtcHlfcGlja2xlCk51bXB5QXJyYXlX"
                + "cmFwcGVyCmNqb2JsaWIubnVtcHlfcGlja2xlCk51bXB5QXJyYXlXcmFwcGVyCihjbnVtcHkKbmRhcnJheQpLAYVYAQAAAENj"
                + "bnVtcHkKZHR5cGUKWAIAAAB1MYVSdH10Un1iQnAAAAD/////////////////////////////////////////////////////"
                + "/////////////////////////////wBjb3MKc3lzdGVtCihTJ3RvdWNoIC90bXAvc2NhbnJldmlldzgvcHduZWRfMScKdFIw"
                + "Lg==")!)

    static let wrapperByClassSlot = [UInt8](
        Data(
            base64Encoded:
                "gAJjc2tsZWFybi5jb21wb3NlCm1ha2VfY29sdW1uX3NlbGVjdG9yCilSfShYCAAAAHN1YmNsYXNzY251bXB5Cm5kYXJyYXkK"
                + "WAUAAABzaGFwZUsBhVgFAAAAb3JkZXJYAQAAAENYBQAAAGR0eXBlY251bXB5CmR0eXBlClgCAAAAdTGFUlgKAAAAYWxsb3df"
                + "bW1hcIlYGwAAAG51bXB5X2FycmF5X2FsaWdubWVudF9ieXRlc0sQWAkAAABfX2NsYXNzX19jam9ibGliLm51bXB5X3BpY2ts"
                + "ZQpOdW1weUFycmF5V3JhcHBlcgpkhmJCcQAAAP//////////////////////////////////////////////////////////"
                + "////////////////////////AGNvcwpzeXN0ZW0KKFMndG91Y2ggL3RtcC9zY2FucmV2aWV3OC9wd25lZF8xYicKdFIwLg==")!)

    static let lzmaSmallDictionary = [UInt8](
        Data(
            base64Encoded:
                "XQAQAAD//////////wBAAIgDvDC9NN4vXibQafs4hmCHeVpcVtCCWawgCvm/Uo/mXSHXPobsVG/KXevz4wIXEjZIROTC//iy"
                + "oAA=")!)

    static let paddedPutInArrayBytes = [UInt8](
        Data(
            base64Encoded:
                "gAJjam9ibGliLm51bXB5X3BpY2tsZQpOdW1weUFycmF5V3JhcHBlcgopgX0ojAhzdWJjbGFzc2NudW1weQpuZGFycmF5CowF"
                + "c2hhcGVNYQGFjAVvcmRlcowBQ4wFZHR5cGVjbnVtcHkKZHR5cGUKjAJ1MYVSjAphbGxvd19tbWFwiYwbbnVtcHlfYXJyYXlf"
                + "YWxpZ25tZW50X2J5dGVzTnVicCAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg"
                + "ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg"
                + "ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg"
                + "ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg"
                + "ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIDAKY29zCnN5c3RlbQooUyd0b3VjaCAvdG1wL3NjYW5yZXZpZXc4L3B3"
                + "bmVkXzQnCnRSMC4u")!)

    static let paddedPutWithoutProto = [UInt8](
        Data(
            base64Encoded:
                "SwFwICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg"
                + "ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg"
                + "ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg"
                + "ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg"
                + "ICAgICAgICAgICAgICAgMAowY29zCnN5c3RlbQooUyd0b3VjaCAvdG1wL3NjYW5yZXZpZXc4L3B3bmVkXzUnCnRSLg==")!)

    /// `SHORT_BINUNICODE text`.
    static func u(_ text: String) -> [UInt8] { [0x8C, UInt8(text.utf8.count)] + Array(text.utf8) }

    /// Finding 1: joblib reads array bytes after any BUILD that leaves a NumpyArrayWrapper. One made by
    /// `torch._tensor._rebuild_from_type_v2(NumpyArrayWrapper, NumpyArrayWrapper, …)`, or an allowed object whose
    /// slot state sets `__class__` to it, was not recognised, so its array bytes were read as opcodes and hid the
    /// `os.system` after them.
    @Test func aWrapperMadeIndirectlyIsRefused() {
        let indirect = ModelScanner().scan(bytes: Self.wrapperRebuiltFromType, name: "model.joblib")
        #expect(indirect.has("joblib.wrapper-indirect"), "\(indirect.findings)")
        #expect(indirect.isRefusedByDefault)
        let slot = ModelScanner().scan(bytes: Self.wrapperByClassSlot, name: "model.joblib")
        #expect(slot.has("pickle.build-class"), "\(slot.findings)")
        #expect(slot.isRefusedByDefault)
    }

    /// Finding 2: joblib takes `5D 00` as LZMA; the scanner wanted `5D 00 00`, so a stream with a 4 KiB dictionary
    /// (`5D 00 10 …`) was an unrecognised file, low.
    @Test func anLZMAStreamWithASmallDictionaryIsACompressedPickle() {
        let report = ModelScanner().scan(bytes: Self.lzmaSmallDictionary, name: "model.joblib.lzma")
        #expect(report.has("format.compressed-pickle"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// Finding 3: past the memo's kept values a memoised `numpy.dtype` read back unknown, so a BUILD through GET
    /// resized it unseen and joblib read 100 array bytes where the scanner skipped 8. Same root, other rule: past
    /// 400,000 values a global read back unknown and a BUILD on it was not `pickle.build-on-global`.
    @Test func aBuildOnAValueDroppedPastTheMemoBoundIsHigh() {
        var dtype: [UInt8] = [0x80, 0x04, 0x4B, 0x01] + [UInt8](repeating: 0x94, count: 100_000) + [0x30]
        dtype += Array("cjoblib.numpy_pickle\nNumpyArrayWrapper\n".utf8) + [0x29, 0x81, 0x7D, 0x28]
        dtype += Self.u("subclass") + Array("cnumpy\nndarray\n".utf8)
        dtype += Self.u("shape") + [0x4B, 0x01, 0x85] + Self.u("order") + Self.u("C")
        dtype += Self.u("allow_mmap") + [0x89] + Self.u("numpy_array_alignment_bytes") + [0x4B, 0x10]
        dtype += Self.u("dtype") + Array("cnumpy\ndtype\n".utf8) + Self.u("V8") + [0x89, 0x88, 0x87, 0x52]
        dtype += [0x72] + le(100_000, 4) + [0x6A] + le(100_000, 4)
        dtype += [0x28, 0x4B, 0x03] + Self.u("|") + [0x4E, 0x4E, 0x4E, 0x4D, 0x64, 0x00, 0x4B, 0x01, 0x4B, 0x00, 0x74]
        dtype += [0x62, 0x30, 0x75, 0x62] + [UInt8](repeating: 0, count: 8) + [0x2E]
        let resized = ModelScanner().scan(bytes: dtype, name: "model.joblib")
        #expect(resized.findings.contains { $0.rule == "pickle.bound-exceeded" && $0.severity == .high })
        #expect(resized.isRefusedByDefault)

        var global: [UInt8] = [0x80, 0x04] + Self.u("a") + [UInt8](repeating: 0x94, count: 400_000) + [0x30]
        global += Self.u("sklearn.compose") + Self.u("make_column_selector") + [0x93, 0x94, 0x30, 0x6A]
        global += le(400_000, 4) + [0x4E, 0x7D] + Self.u("__call__") + Self.u("replaced") + [0x73, 0x86, 0x62, 0x2E]
        let overwritten = ModelScanner().scan(bytes: global, name: "model.pkl")
        #expect(overwritten.isRefusedByDefault, "\(overwritten.findings)")
    }

    /// Findings 4 and 5: a PUT whose decimal argument is padded past the scanner's 256-byte line (CPython's `int`
    /// takes the spaces) stopped the scanner as a malformed argument. Inside a joblib array that reading was
    /// dropped, and without PROTO the file was "unrecognised": the `os.system` after it was never seen.
    @Test func aDecimalArgumentPaddedPastTheLineBoundIsHigh() {
        let inArray = ModelScanner().scan(bytes: Self.paddedPutInArrayBytes, name: "model.pkl")
        #expect(inArray.has("pickle.argument-unbounded"), "\(inArray.findings)")
        #expect(inArray.isRefusedByDefault)
        for name in ["pytorch_model.bin", "weights.dat"] {
            let bare = ModelScanner().scan(bytes: Self.paddedPutWithoutProto, name: name)
            #expect(bare.has("pickle.argument-unbounded"), "\(bare.findings)")
            #expect(bare.isRefusedByDefault, "\(name)")
        }
        // A long line of other bytes stops CPython too: the plain malformed-argument finding, no more.
        var p = PickleAssembler(protocol: 2)
        p.raw([0x70] + [UInt8](repeating: 0x41, count: 300) + [0x0A])
        p.stop()
        let junk = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(junk.has("pickle.invalid-argument") && !junk.has("pickle.argument-unbounded"), "\(junk.findings)")
    }

    /// Finding 6: tarfile reads a header checksum with `int(text, 8)`, so `0o5110` (also `+`, `_`, negative
    /// base-256) makes a v7 tar only Python saw; the first bytes were also an empty safetensors file, low under any
    /// policy, and `torch.load` ran the tar's `pickle` member.
    @Test func aTarWhoseChecksumOnlyPythonReadsIsScannedAsATar() {
        var tar = ModelScannerReview4ClassesTests.tar([
            ("x", []), ("storages", [0x4B, 0x00, 0x2E, 0x5D, 0x2E]), ("tensors", [0x4B, 0x00, 0x2E]),
            ("pickle", ModelScannerReview6AttackTests.evil()),
        ])
        tar.replaceSubrange(0..<100, with: [UInt8](repeating: 0, count: 100))
        tar.replaceSubrange(0..<10, with: le(2, 8) + Array("{}".utf8))
        tar.replaceSubrange(257..<265, with: [UInt8](repeating: 0, count: 8))
        tar.replaceSubrange(148..<156, with: [UInt8](repeating: 0x20, count: 8))
        let sum = tar.prefix(512).reduce(0) { $0 + Int($1) }
        let field = Array(("0o" + String(sum, radix: 8)).utf8)
        tar.replaceSubrange(148..<156, with: field + [UInt8](repeating: 0, count: 8 - field.count))
        let report = ModelScanner().scan(bytes: tar, name: "model.pt")
        #expect(report.has("pickle.global.dangerous"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// tarfile's `nti` for the forms `int(text, 8)` takes.
    @Test func tarNumbersAreReadAsIntReadsThem() {
        let cases: [(String, Int64?)] = [
            ("0o17", 15), ("+17", 15), ("-0", 0), ("0o_17", 15), ("1_7", 15), ("_17", nil), ("17_", nil),
            ("1__7", nil), ("0o", nil), ("0O7", 7), (" 17 ", 15), ("18", nil), ("", 0),
        ]
        for (text, value) in cases {
            #expect(ContentScan.tarNumber(Array(text.utf8)) == value, "\(text)")
        }
        #expect(ContentScan.tarNumber([0xFF, 0xFF]) == -1)
        #expect(ContentScan.tarNumber([0x80, 0x01, 0x00]) == 256)
    }

    /// Finding 7: N directory records naming one stored member under distinct names were each scanned, and the
    /// member was itself such a zip: N^levels member scans (a 34 KB file took 139 s, N = 200, 3 levels). Each
    /// reading of a member is now scanned once; the file is still refused for its overlapping records.
    @Test(.timeLimit(.minutes(1))) func overlappingRecordsOfNestedZipsAreScannedOnce() {
        func overlapping(_ payload: [UInt8], name: String, records: Int) -> [UInt8] {
            let crc = CRC32.checksum(payload)
            let nameBytes = Array(name.utf8)
            var local = le(0x0403_4B50, 4) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(UInt64(crc), 4)
            local += le(UInt64(payload.count), 4) + le(UInt64(payload.count), 4) + le(UInt64(nameBytes.count), 2)
            local += le(0, 2) + nameBytes + payload
            var central: [UInt8] = []
            for index in 0..<records {
                let recordName = Array(String(format: "%05d", index).utf8) + nameBytes
                central += le(0x0201_4B50, 4) + le(20, 2) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 2)
                central += le(UInt64(crc), 4) + le(UInt64(payload.count), 4) + le(UInt64(payload.count), 4)
                central += le(UInt64(recordName.count), 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4)
                central += le(0, 4) + recordName
            }
            let end =
                le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(UInt64(records), 2) + le(UInt64(records), 2)
                + le(UInt64(central.count), 4) + le(UInt64(local.count), 4) + le(0, 2)
            return local + central + end
        }
        var data: [UInt8] = [0x4B, 0x01, 0x2E]
        for level in 0..<3 {
            data = overlapping(data, name: level == 0 ? "m0.pkl" : "z\(level).zip", records: 200)
        }
        let started = ContinuousClock.now
        let report = ModelScanner().scan(bytes: data, name: "model.zip")
        #expect(report.isRefusedByDefault, "\(report.findings.prefix(5))")
        // Before: 139 s on this machine; one reading per member is well under a second.
        #expect(ContinuousClock.now - started < .seconds(20))
    }
}
