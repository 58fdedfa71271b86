import Testing

@testable import ModelScan

/// Zip tricks: each makes some reader see something other than what a naive scanner sees.
@Suite struct ZipArchiveTests {
    private func torchZip(
        _ pickle: [UInt8], directory: String = "archive", tweak: (inout ZipWriter.Member) -> Void = { _ in }
    )
        -> [UInt8]
    {
        var zip = ZipWriter()
        var data = ZipWriter.Member(name: "\(directory)/data.pkl", data: pickle)
        tweak(&data)
        zip.members.append(data)
        zip.add("\(directory)/byteorder", Array("little".utf8))
        zip.add("\(directory)/data/0", [UInt8](repeating: 0x80, count: 16))
        zip.add("\(directory)/version", Array("3\n".utf8))
        return zip.bytes
    }

    @Test func benignPyTorchZipIsClean() {
        let report = scan(torchZip(torchStateDict()), deep: true)
        #expect(report.findings.isEmpty, "\(report.findings)")
        #expect(report.formats.contains("pytorch-zip"))
    }

    @Test func maliciousDataPickleInAnyDirectoryIsCritical() {
        let report = scan(torchZip(payload("os", "system"), directory: "totally_not_a_model"))
        #expect(report.has("pickle.global.dangerous", "os.system"))
        #expect(
            report.findings.first { $0.rule == "pickle.global.dangerous" }?.member == "totally_not_a_model/data.pkl")
    }

    @Test func encryptedFlagIsFlaggedAndTheMemberStillScanned() {
        let report = scan(torchZip(payload("os", "system")) { $0.flags = 0x0001 })
        #expect(report.has("zip.encrypted-flag"))
        #expect(report.has("pickle.global.dangerous", "os.system"))
    }

    @Test func unusualFlagBitsAreFlagged() {
        #expect(scan(torchZip(torchStateDict()) { $0.flags = 0x2000 }).has("zip.flag-bits"))
    }

    @Test func crcMismatchIsFlaggedAndTheMemberStillScanned() {
        let report = scan(torchZip(payload("os", "system")) { $0.crc = 0xDEAD_BEEF })
        #expect(report.has("zip.crc-mismatch"))
        #expect(report.has("pickle.global.dangerous", "os.system"))
    }

    @Test func deepModeChecksStorageCRCs() {
        var zip = ZipWriter()
        zip.add("a/data.pkl", torchStateDict())
        zip.members.append(ZipWriter.Member(name: "a/data/0", data: [1, 2, 3, 4], crc: 7))
        #expect(!scan(zip.bytes).has("zip.crc-mismatch"))
        #expect(scan(zip.bytes, deep: true).has("zip.crc-mismatch"))
    }

    @Test func localAndCentralHeadersThatDisagreeAreFlagged() {
        let report = scan(torchZip(torchStateDict()) { $0.localName = "archive/other.pkl" })
        #expect(report.has("zip.header-mismatch", "name"))
        let crc = scan(torchZip(torchStateDict()) { $0.localCRC = 1 })
        #expect(crc.has("zip.header-mismatch", "crc"))
    }

    @Test func duplicateAndTraversingNamesAreFlagged() {
        var zip = ZipWriter()
        zip.add("a/data.pkl", torchStateDict())
        zip.add("a/data.pkl", payload("os", "system"))
        zip.add("../../etc/cron.d/x", [1])
        zip.add("/abs", [1])
        let report = scan(zip.bytes)
        #expect(report.has("zip.duplicate-name"))
        #expect(report.has("zip.path-traversal", "../../etc"))
        #expect(report.has("zip.path-traversal", "/abs"))
        #expect(report.has("pickle.global.dangerous", "os.system"), "both duplicates are scanned")
    }

    @Test func hiddenLocalEntryIsFlagged() {
        var zip = ZipWriter()
        zip.add("a/data.pkl", torchStateDict())
        var hidden = ZipWriter()
        hidden.add("a/data.pkl", payload("os", "system"))
        let hiddenBytes = hidden.bytes
        // Only the local header and data of the hidden archive, not its directory.
        zip.hidden = Array(hiddenBytes.prefix(30 + "a/data.pkl".utf8.count + payload("os", "system").count))
        #expect(scan(zip.bytes).has("zip.hidden-entry"))
    }

    @Test func deflatedMemberIsInflatedAndScanned() {
        var member = ZipWriter.Member(name: "a/data.pkl", data: payload("os", "system"))
        member.method = 8
        member.payload = deflateStored(member.data)
        var zip = ZipWriter()
        zip.members.append(member)
        let report = scan(zip.bytes)
        #expect(report.has("pickle.global.dangerous", "os.system"), "\(report.findings)")
    }

    @Test func compressionBombIsFlagged() {
        var member = ZipWriter.Member(name: "x.bin", data: [])
        member.method = 8
        member.payload = [0x03, 0x00]  // an empty fixed-Huffman block
        var zip = ZipWriter()
        zip.members.append(member)
        var bytes = zip.bytes
        // Claim 4 GiB - 1 uncompressed in the central directory (offset of the field: 24 past its signature).
        let central = bytes.indices.first { bytes[$0...].starts(with: [0x50, 0x4B, 0x01, 0x02]) }!
        bytes.replaceSubrange(central + 24..<central + 28, with: [0xFE, 0xFF, 0xFF, 0xFF])
        let report = scan(bytes)
        #expect(report.has("zip.compression-ratio"))
    }

    @Test func torchScriptCodeIsFlagged() {
        var zip = ZipWriter()
        zip.add("m/data.pkl", torchStateDict())
        zip.add("m/code/__torch__.py", Array("def forward(self): import os".utf8))
        zip.add("m/constants.pkl", torchStateDict())
        let report = scan(zip.bytes)
        #expect(report.has("torchscript.code"))
        #expect(report.formats.contains("torchscript"))
    }

    @Test func truncatedAndGarbageArchivesDoNotCrash() {
        let bytes = torchZip(payload("os", "system"))
        for cut in stride(from: 0, to: bytes.count, by: 7) {
            _ = scan(Array(bytes.prefix(cut)))
            _ = scan(Array(bytes.suffix(cut)))
        }
    }
}
