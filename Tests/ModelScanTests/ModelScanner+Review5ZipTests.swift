import Foundation
import Testing

@testable import ModelScan

/// Hand-assembled zip pieces for end records, zip64 records and directories that lie.
enum ZipPieces {
    /// A stored member's local header and data.
    static func local(_ name: String, _ data: [UInt8]) -> [UInt8] {
        let nameBytes = Array(name.utf8)
        var out = le(0x0403_4B50, 4) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4)
        out += le(UInt64(CRC32.checksum(data)), 4) + le(UInt64(data.count), 4) + le(UInt64(data.count), 4)
        return out + le(UInt64(nameBytes.count), 2) + le(0, 2) + nameBytes + data
    }

    /// The central directory record of a stored member whose local header is at `offset`.
    static func central(_ name: String, _ data: [UInt8], offset: Int) -> [UInt8] {
        let nameBytes = Array(name.utf8)
        var out = le(0x0201_4B50, 4) + le(20, 2) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4)
        out += le(UInt64(CRC32.checksum(data)), 4) + le(UInt64(data.count), 4) + le(UInt64(data.count), 4)
        out += le(UInt64(nameBytes.count), 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4)
        return out + le(UInt64(offset), 4) + nameBytes
    }

    /// A classic end-of-central-directory record.
    static func end(count: Int, size: Int, offset: Int, commentLength: Int = 0) -> [UInt8] {
        le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(UInt64(count), 2) + le(UInt64(count), 2)
            + le(UInt64(size), 4) + le(UInt64(offset), 4) + le(UInt64(commentLength), 2)
    }

    /// A zip64 end-of-central-directory record (56 bytes).
    static func zip64End(count: Int, size: Int, offset: Int) -> [UInt8] {
        le(0x0606_4B50, 4) + le(44, 8) + le(45, 2) + le(45, 2) + le(0, 4) + le(0, 4) + le(UInt64(count), 8)
            + le(UInt64(count), 8) + le(UInt64(size), 8) + le(UInt64(offset), 8)
    }

    /// A zip64 end-of-central-directory locator (20 bytes).
    static func zip64Locator(recordOffset: Int) -> [UInt8] {
        le(0x0706_4B50, 4) + le(0, 4) + le(UInt64(recordOffset), 8) + le(1, 4)
    }
}

/// Review 5, F2/F3/F6/F5/F7: zip and tar readers that disagreed with Python's `zipfile` and `tarfile` (what
/// `torch.load` and `numpy.load` use) and so never scanned the member those loaders unpickle.
@Suite struct ModelScannerReview5ZipTests {
    /// A benign member and a malicious one, with names of the same length (so their directories are too).
    static let benign = ("weights.bin", [UInt8](repeating: 0, count: 32))
    static let evil = ("payload.pkl", payload("os", "system"))

    /// Both local headers; the offsets of the benign and the malicious one.
    static func members() -> (bytes: [UInt8], benignOffset: Int, evilOffset: Int) {
        let first = ZipPieces.local(benign.0, benign.1)
        return (first + ZipPieces.local(evil.0, evil.1), 0, first.count)
    }

    static func expectScanned(_ bytes: [UInt8], _ label: String, name: String = "model.pt") {
        let report = ModelScanner().scan(bytes: bytes, name: name)
        #expect(report.has("pickle.global.dangerous", "system"), "\(label): \(report.findings)")
        #expect(report.isRefusedByDefault, "\(label)")
    }

    /// F2: the real end record's comment holds a directory and a second end record. `zipfile` takes the last
    /// `PK\x05\x06` in the file whatever its comment length says; the reader took the one whose comment ends the file.
    @Test func aSecondEndRecordInTheCommentIsReadAsZipfileReadsIt() {
        let (body, benignOffset, evilOffset) = Self.members()
        let benignDirectory = ZipPieces.central(Self.benign.0, Self.benign.1, offset: benignOffset)
        let evilDirectory = ZipPieces.central(Self.evil.0, Self.evil.1, offset: evilOffset)
        var bytes = body
        let benignAt = bytes.count
        bytes += benignDirectory
        bytes += ZipPieces.end(
            count: 1, size: benignDirectory.count, offset: benignAt, commentLength: evilDirectory.count + 22 + 1)
        let evilAt = bytes.count
        bytes += evilDirectory
        bytes += ZipPieces.end(count: 1, size: evilDirectory.count, offset: evilAt) + [0]
        Self.expectScanned(bytes, "inconsistent last end record")
        let report = ModelScanner().scan(bytes: bytes, name: "model.pt")
        #expect(report.has("zip.ambiguous-end-record"), "\(report.findings)")
    }

    /// F2, both end records self-consistent: readers that take the first one whose comment ends the file and
    /// readers that take the last one see different members; both are scanned and the file is high.
    @Test func twoSelfConsistentEndRecordsAreAmbiguousAndBothAreScanned() {
        let (body, benignOffset, evilOffset) = Self.members()
        let benignDirectory = ZipPieces.central(Self.benign.0, Self.benign.1, offset: benignOffset)
        let evilDirectory = ZipPieces.central(Self.evil.0, Self.evil.1, offset: evilOffset)
        var bytes = body
        let evilAt = bytes.count
        bytes += evilDirectory
        bytes += ZipPieces.end(
            count: 1, size: evilDirectory.count, offset: evilAt, commentLength: benignDirectory.count + 22)
        let benignAt = bytes.count
        bytes += benignDirectory
        bytes += ZipPieces.end(count: 1, size: benignDirectory.count, offset: benignAt)
        Self.expectScanned(bytes, "two consistent end records")
        let report = ModelScanner().scan(bytes: bytes, name: "model.pt")
        #expect(report.has("zip.ambiguous-end-record"), "\(report.findings)")
    }

    /// F3: a zip64 locator before an end record whose fields are not the 0xFFFF/0xFFFFFFFF sentinels. `zipfile`
    /// (and miniz, inside `torch.load`) use the zip64 record whenever the locator is there.
    @Test func aZip64LocatorIsHonouredWhateverTheClassicFieldsSay() {
        let (body, benignOffset, evilOffset) = Self.members()
        let benignDirectory = ZipPieces.central(Self.benign.0, Self.benign.1, offset: benignOffset)
        let evilDirectory = ZipPieces.central(Self.evil.0, Self.evil.1, offset: evilOffset)
        var bytes = body
        let benignAt = bytes.count
        bytes += benignDirectory
        let evilAt = bytes.count
        bytes += evilDirectory
        let recordAt = bytes.count
        bytes += ZipPieces.zip64End(count: 1, size: evilDirectory.count, offset: evilAt)
        bytes += ZipPieces.zip64Locator(recordOffset: recordAt)
        bytes += ZipPieces.end(count: 1, size: benignDirectory.count, offset: benignAt)
        Self.expectScanned(bytes, "zip64 locator with classic fields")
        let report = ModelScanner().scan(bytes: bytes, name: "model.pt")
        #expect(report.has("zip.zip64-mismatch"), "\(report.findings)")
    }

    /// F6: `zipfile` reads the central directory that ends at the end record (the stated offset plus "concat")
    /// and adds the difference to every local header offset; the reader trusted the stated offset.
    @Test func zipfilesDirectoryOffsetCorrectionIsFollowed() {
        let (body, benignOffset, evilOffset) = Self.members()
        let benignDirectory = ZipPieces.central(Self.benign.0, Self.benign.1, offset: benignOffset)
        let concat = benignDirectory.count
        let evilDirectory = ZipPieces.central(Self.evil.0, Self.evil.1, offset: evilOffset - concat)
        #expect(evilDirectory.count == benignDirectory.count)
        var bytes = body
        let benignAt = bytes.count
        bytes += benignDirectory + evilDirectory
        bytes += ZipPieces.end(count: 1, size: benignDirectory.count, offset: benignAt)
        Self.expectScanned(bytes, "concat")
        let report = ModelScanner().scan(bytes: bytes, name: "model.pt")
        #expect(report.has("zip.directory-offset"), "\(report.findings)")
    }

    /// F6: bytes between the end of the central directory and the end record (where `zipfile` looks for the
    /// directory) are high, not silently skipped.
    @Test func bytesBetweenTheDirectoryAndTheEndRecordAreHigh() {
        let (body, benignOffset, _) = Self.members()
        let benignDirectory = ZipPieces.central(Self.benign.0, Self.benign.1, offset: benignOffset)
        var bytes = Array(body[0..<ZipPieces.local(Self.benign.0, Self.benign.1).count])
        let benignAt = bytes.count
        bytes += benignDirectory + [UInt8](repeating: 0x41, count: 16)
        bytes += ZipPieces.end(count: 1, size: benignDirectory.count, offset: benignAt)
        let report = ModelScanner().scan(bytes: bytes, name: "model.zip")
        #expect(report.has("zip.directory-offset"), "\(report.findings)")
        #expect(report.isRefusedByDefault, "\(report.findings)")
    }

    /// `zipfile` walks the central directory by its size and ignores the entry count; a count below the
    /// directory's records hid the later ones.
    @Test func anEntryCountBelowTheDirectorySizeStillScansEveryMember() {
        let (body, benignOffset, evilOffset) = Self.members()
        let directory =
            ZipPieces.central(Self.benign.0, Self.benign.1, offset: benignOffset)
            + ZipPieces.central(Self.evil.0, Self.evil.1, offset: evilOffset)
        let bytes = body + directory + ZipPieces.end(count: 1, size: directory.count, offset: body.count)
        Self.expectScanned(bytes, "entry count 1 of 2")
        let report = ModelScanner().scan(bytes: bytes, name: "model.pt")
        #expect(report.has("zip.entry-count"), "\(report.findings)")
    }

    /// The hand-assembled pieces make an ordinary archive that passes (no false positive from the new checks).
    @Test func anOrdinaryHandAssembledArchivePasses() {
        let local = ZipPieces.local(Self.benign.0, Self.benign.1)
        let directory = ZipPieces.central(Self.benign.0, Self.benign.1, offset: 0)
        let bytes = local + directory + ZipPieces.end(count: 1, size: directory.count, offset: local.count)
        let report = ModelScanner().scan(bytes: bytes, name: "model.zip")
        #expect(!report.isRefusedByDefault, "\(report.findings)")
        #expect(report.findings.allSatisfy { $0.severity < .medium }, "\(report.findings)")
    }
}

/// Review 5, F5: every `<dir>/data/N` member was skipped in any zip holding `<dir>/data.pkl`, an `.npz` too.
/// Only the storages the checkpoint's `data.pkl` names by persistent id are raw tensor bytes.
@Suite struct ModelScannerReview5StorageTests {
    static let npyPickle = ModelScannerReview4ClassesTests.npy(
        "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", payload("os", "system"))

    @Test func storageNamedMembersOfAnNpzAreScanned() {
        for (label, member) in [("npy object array", Self.npyPickle), ("pickle", payload("os", "system"))] {
            var zip = ZipWriter()
            zip.add("x/data.pkl", [0x80, 0x02, 0x4B, 0x00, 0x2E])
            zip.add("x/data/0", member)
            let report = ModelScanner().scan(bytes: zip.bytes, name: "arrays.npz")
            #expect(report.has("pickle.global.dangerous", "system"), "\(label): \(report.findings)")
            #expect(report.isRefusedByDefault, "\(label)")
        }
    }

    @Test func storagesTheCheckpointDoesNotReferenceAreScanned() {
        var zip = ZipWriter()
        zip.add("archive/data.pkl", torchStateDict(storageKey: "0"))
        zip.add("archive/data/0", [UInt8](repeating: 0, count: 16))
        zip.add("archive/data/7", payload("os", "system"))
        let report = ModelScanner().scan(bytes: zip.bytes, name: "model.pt")
        #expect(report.has("pickle.global.dangerous", "system"), "\(report.findings)")
    }

    /// `numpy.load` opens the same file as an `.npz` and unpickles a member that starts like an `.npy` array.
    @Test func aReferencedStorageThatIsAnNpyArrayIsScanned() {
        var zip = ZipWriter()
        zip.add("archive/data.pkl", torchStateDict(storageKey: "0"))
        zip.add("archive/data/0", Self.npyPickle)
        let report = ModelScanner().scan(bytes: zip.bytes, name: "model.pt")
        #expect(report.has("pickle.global.dangerous", "system"), "\(report.findings)")
    }

    @Test func referencedStoragesAreStillSkipped() {
        var zip = ZipWriter()
        zip.add("archive/data.pkl", torchStateDict(storageKey: "0"))
        zip.add("archive/data/0", payload("os", "system"))
        let report = ModelScanner().scan(bytes: zip.bytes, name: "model.pt")
        #expect(!report.isRefusedByDefault, "\(report.findings)")
    }
}

/// Review 5, F7: torch's legacy tar loader finds `pickle`, `storages` and `tensors` by the names Python's
/// `tarfile` resolves, PAX `path=` and GNU long names included; the scanner read only the header's name field.
@Suite struct ModelScannerReview5TarTests {
    static func header(_ name: String, size: Int, type: UInt8) -> [UInt8] {
        var header = ModelScannerReview4ClassesTests.tarHeader(name, size: size)
        header[156] = type
        ModelScannerReview4ClassesTests.setTarChecksum(&header, at: 0)
        return header
    }

    static func padded(_ data: [UInt8]) -> [UInt8] {
        data + [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
    }

    /// A legacy tar whose member named `name` (through `extension`) holds `data`.
    static func legacyTar(extension: [UInt8], data: [UInt8]) -> [UInt8] {
        let sysInfo: [UInt8] = [0x80, 0x02, 0x7D, 0x2E]
        return header("sys_info", size: sysInfo.count, type: 0x30) + padded(sysInfo) + `extension`
            + header("AAAAAAAA", size: data.count, type: 0x30) + padded(data) + [UInt8](repeating: 0, count: 1024)
    }

    /// A `storages` member as torch's `_legacy_load` reads it: a count, then per storage a record pickle,
    /// the element count and the bytes. Read as stacked pickles, the bytes after the first record end the scan.
    static var storages: [UInt8] {
        var record = PickleAssembler(protocol: 2)
        record.binUnicode("0")
        record.binUnicode("cpu")
        record.global("torch", "FloatStorage")
        record.tuple3()
        record.stop()
        return [0x80, 0x02, 0x4B, 0x02, 0x2E] + record.bytes + le(1, 8) + le(0, 4) + payload("os", "system")
    }

    static let members: [(String, [UInt8])] = [("pickle", payload("os", "system")), ("storages", storages)]

    @Test func paxPathNamesALegacyTarMember() {
        for (name, data) in Self.members {
            let text = " path=\(name)\n"
            let record = Array((String(text.utf8.count + 2) + text).utf8)
            let pax = Self.header("././@PaxHeader", size: record.count, type: 0x78) + Self.padded(record)
            let report = ModelScanner().scan(bytes: Self.legacyTar(extension: pax, data: data), name: "legacy.tar")
            #expect(report.has("pickle.global.dangerous", "system"), "\(name): \(report.findings)")
            #expect(report.isRefusedByDefault, "\(name)")
        }
    }

    @Test func gnuLongNameNamesALegacyTarMember() {
        for (name, data) in Self.members {
            let longName = Array(name.utf8) + [0]
            let gnu = Self.header("././@LongLink", size: longName.count, type: 0x4C) + Self.padded(longName)
            let report = ModelScanner().scan(bytes: Self.legacyTar(extension: gnu, data: data), name: "legacy.tar")
            #expect(report.has("pickle.global.dangerous", "system"), "\(name): \(report.findings)")
            #expect(report.isRefusedByDefault, "\(name)")
        }
    }

    /// `tarfile` extracts a member of a type it does not know as a regular file.
    @Test func aMemberOfAnUnknownTypeIsScannedAsAFile() {
        let data = payload("os", "system")
        let bytes =
            Self.header("pickle", size: data.count, type: 0x5A) + Self.padded(data)
            + [UInt8](repeating: 0, count: 1024)
        let report = ModelScanner().scan(bytes: bytes, name: "legacy.tar")
        #expect(report.has("pickle.global.dangerous", "system"), "\(report.findings)")
    }
}

/// Review 5, D1: the inflated-bytes cap was per member; many members each under it inflated without bound.
@Suite struct ModelScannerReview5BudgetTests {
    /// A zip of `count` deflated members of `size` zero bytes each.
    static func deflatedZip(count: Int, size: Int) -> [UInt8] {
        var zip = ZipWriter()
        for index in 0..<count {
            let data = [UInt8](repeating: 0, count: size)
            zip.members.append(
                ZipWriter.Member(name: "part\(index).bin", data: data, method: 8, payload: deflateStored(data)))
        }
        return zip.bytes
    }

    @Test func inflatedBytesAreCappedPerFile() {
        var scanner = ModelScanner()
        scanner.maxInflatedTotal = 100_000
        let report = scanner.scan(bytes: Self.deflatedZip(count: 4, size: 60_000), name: "model.zip")
        #expect(report.has("zip.inflate-budget"), "\(report.findings)")
        #expect(report.isRefusedByDefault, "\(report.findings)")
    }

    @Test func membersWithinThePerFileBudgetPass() {
        var scanner = ModelScanner()
        scanner.maxInflatedTotal = 100_000
        let report = scanner.scan(bytes: Self.deflatedZip(count: 1, size: 60_000), name: "model.zip")
        #expect(!report.has("zip.inflate-budget"), "\(report.findings)")
        #expect(ModelScanner().maxInflatedTotal >= 4 * ContentScan.maxInflatedSize)
    }
}

extension ModelScannerReview5BudgetTests {
    /// After a critical finding the file is refused under every policy; the members after it are not opened.
    @Test func scanningStopsAfterACriticalFinding() {
        var zip = ZipWriter()
        zip.add("a.pkl", payload("os", "system"))
        for index in 0..<50 { zip.add("b\(index).pkl", payload("subprocess", "Popen")) }
        let report = ModelScanner().scan(bytes: zip.bytes, name: "model.zip")
        #expect(report.has("pickle.global.dangerous", "system"), "\(report.findings)")
        #expect(report.has("scan.stopped"), "\(report.findings)")
        #expect(!report.has("pickle.global.dangerous", "Popen"), "\(report.findings)")
    }
}

extension ModelScannerReview5ZipTests {
    /// A zip64 locator 20 bytes into the file, naming a record in the end record's comment: no underflow trap.
    @Test func aZip64LocatorNearTheStartDoesNotTrap() throws {
        let bytes =
            ZipPieces.zip64Locator(recordOffset: 42) + ZipPieces.end(count: 0, size: 0, offset: 0, commentLength: 56)
            + ZipPieces.zip64End(count: 0, size: 0, offset: 0)
        let findings = FindingCollector(file: "near-start.zip")
        _ = try ZipArchive.parse(ByteSource(bytes: bytes), findings: findings)
        #expect(findings.findings.contains { $0.rule == "zip.zip64-mismatch" }, "\(findings.findings)")
    }
}

extension ModelScannerReview5BudgetTests {
    /// A per-file time bound: past it, archive members are not opened and the file is high.
    @Test func archiveScansStopAtThePerFileTimeBound() {
        var zip = ZipWriter()
        for index in 0..<3 { zip.add("part\(index).bin", [UInt8](repeating: 0, count: 64)) }
        let tar = ModelScannerReview4ClassesTests.tar((0..<3).map { ("part\($0)", [0x80, 0x02, 0x4E, 0x2E]) })
        for (name, bytes) in [("model.zip", zip.bytes), ("legacy.tar", tar)] {
            var scanner = ModelScanner()
            scanner.maxScanTime = .zero
            let report = scanner.scan(bytes: bytes, name: name)
            #expect(report.has("scan.time-budget"), "\(name): \(report.findings)")
            #expect(report.isRefusedByDefault, "\(name)")
            #expect(!ModelScanner().scan(bytes: bytes, name: name).has("scan.time-budget"), "\(name)")
        }
    }
}
