/// A strict reader of a zip archive's structure: the end-of-central-directory record (zip64 too), the central
/// directory and every local header, cross-checked. Member data is not read here.
struct ZipArchive {
    /// One member, as the central directory describes it (local header checked against it).
    struct Entry {
        var name: String
        var flags: UInt16
        var method: UInt16
        var crc: UInt32
        var compressedSize: UInt64
        var uncompressedSize: UInt64
        var localHeaderOffset: UInt64
        /// Where the member's (possibly compressed) data starts.
        var dataOffset: UInt64 = 0
        /// Where the member's data and descriptor end.
        var end: UInt64 = 0

        var isDirectory: Bool { name.hasSuffix("/") }
        var isEncrypted: Bool { flags & 0x41 != 0 }
    }

    /// More members than this is itself a finding and the rest are ignored.
    static let maxEntries = 200_000
    /// A single member above this uncompressed size, or all of them together, is a finding.
    static let maxTotalSize: UInt64 = 1 << 40
    /// Ratio of uncompressed to compressed size above which a member is a likely bomb.
    static let maxRatio: UInt64 = 200

    var entries: [Entry] = []

    /// Parses `source`'s zip structure, recording findings (`zip.*`) in `findings`. Returns nil when the file
    /// has no usable central directory (then a finding says why).
    static func parse(_ source: ByteSource, findings: FindingCollector) throws -> ZipArchive? {
        let size = source.size
        guard size >= 22 else {
            findings.add("zip.malformed", .high, at: 0, subject: "zip", "too short to be a zip archive")
            return nil
        }
        // The end-of-central-directory record is within the last 64 KiB + 22 bytes.
        let tailLength = Int(min(size, 65_557))
        let tailStart = size - UInt64(tailLength)
        let tail = try source.read(at: tailStart, count: tailLength)
        var eocd: Int?
        var index = tail.count - 22
        while index >= 0 {
            if tail[index] == 0x50, tail[index + 1] == 0x4B, tail[index + 2] == 0x05, tail[index + 3] == 0x06 {
                let commentLength = Int(le16(tail, index + 20))
                if index + 22 + commentLength == tail.count {
                    eocd = index
                    break
                }
                if eocd == nil { eocd = index }  // keep looking for one whose comment ends the file
            }
            index -= 1
        }
        guard let eocdIndex = eocd else {
            findings.add(
                "zip.malformed", .high, at: nil, subject: "zip", "no end-of-central-directory record")
            return nil
        }
        if eocdIndex + 22 + Int(le16(tail, eocdIndex + 20)) != tail.count {
            findings.add(
                "zip.trailing-data", .medium, at: tailStart + UInt64(eocdIndex), subject: "zip",
                "bytes after the end-of-central-directory record")
        }
        var entryCount = UInt64(le16(tail, eocdIndex + 10))
        var directorySize = UInt64(le32(tail, eocdIndex + 12))
        var directoryOffset = UInt64(le32(tail, eocdIndex + 16))
        if le16(tail, eocdIndex + 4) != 0 || le16(tail, eocdIndex + 6) != 0 {
            findings.add("zip.multi-disk", .medium, at: nil, subject: "zip", "a multi-disk archive")
        }
        if entryCount == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // zip64: the locator sits right before the record.
            let locatorOffset = tailStart + UInt64(eocdIndex)
            guard locatorOffset >= 20 else {
                findings.add("zip.malformed", .high, at: nil, subject: "zip64", "zip64 locator missing")
                return nil
            }
            let locator = try source.read(at: locatorOffset - 20, count: 20)
            guard locator.count == 20, le32(locator, 0) == 0x0706_4B50 else {
                findings.add("zip.malformed", .high, at: nil, subject: "zip64", "zip64 locator missing")
                return nil
            }
            let recordOffset = le64(locator, 8)
            let record = try source.read(at: recordOffset, count: 56)
            guard record.count == 56, le32(record, 0) == 0x0606_4B50 else {
                findings.add("zip.malformed", .high, at: recordOffset, subject: "zip64", "zip64 record missing")
                return nil
            }
            entryCount = le64(record, 32)
            directorySize = le64(record, 40)
            directoryOffset = le64(record, 48)
        }
        let (directoryEnd, overflow) = directoryOffset.addingReportingOverflow(directorySize)
        guard !overflow, directoryEnd <= size else {
            findings.add(
                "zip.malformed", .high, at: directoryOffset, subject: "zip",
                "the central directory lies outside the file")
            return nil
        }
        if entryCount > UInt64(maxEntries) {
            findings.add(
                "zip.too-many-entries", .high, at: nil, subject: "\(entryCount) entries",
                "more members than the scanner examines")
            entryCount = UInt64(maxEntries)
        }

        var archive = ZipArchive()
        let directory = ByteStream(source: source, start: directoryOffset, length: directorySize)
        var names = Set<String>()
        var total: UInt64 = 0
        for _ in 0..<entryCount {
            let headerOffset = directoryOffset + directory.position
            guard let fixed = try directory.read(46), le32(fixed, 0) == 0x0201_4B50 else {
                findings.add(
                    "zip.malformed", .high, at: headerOffset, subject: "central directory",
                    "the central directory ends early or holds a bad header")
                break
            }
            let nameLength = Int(le16(fixed, 28))
            let extraLength = Int(le16(fixed, 30))
            let commentLength = Int(le16(fixed, 32))
            guard let nameBytes = try directory.read(nameLength), let extra = try directory.read(extraLength),
                try directory.skip(UInt64(commentLength))
            else {
                findings.add(
                    "zip.malformed", .high, at: headerOffset, subject: "central directory", "a truncated header")
                break
            }
            var entry = Entry(
                name: String(decoding: nameBytes, as: UTF8.self), flags: le16(fixed, 8), method: le16(fixed, 10),
                crc: le32(fixed, 16), compressedSize: UInt64(le32(fixed, 20)),
                uncompressedSize: UInt64(le32(fixed, 24)), localHeaderOffset: UInt64(le32(fixed, 42)))
            applyZip64(extra, to: &entry)
            findings.inMember(entry.name) {
                checkName(entry.name, nameBytes: nameBytes, names: &names, findings: findings)
            }
            let (newTotal, totalOverflow) = total.addingReportingOverflow(entry.uncompressedSize)
            total = totalOverflow ? UInt64.max : newTotal
            archive.entries.append(entry)
        }
        if total > maxTotalSize {
            findings.add(
                "zip.total-size", .high, at: nil, subject: "\(total) bytes",
                "the members' declared uncompressed sizes exceed the scanner's bound")
        }
        for index in archive.entries.indices {
            try findings.inMember(archive.entries[index].name) {
                try checkLocalHeader(&archive.entries[index], source: source, findings: findings)
            }
        }
        archive.checkLayout(size: size, directoryOffset: directoryOffset, source: source, findings: findings)
        return archive
    }

    private static func applyZip64(_ extra: [UInt8], to entry: inout Entry) {
        var index = 0
        while index + 4 <= extra.count {
            let id = le16(extra, index)
            let length = Int(le16(extra, index + 2))
            let body = index + 4
            guard body + length <= extra.count else { return }
            if id == 0x0001 {
                var cursor = body
                func next() -> UInt64? {
                    guard cursor + 8 <= body + length else { return nil }
                    defer { cursor += 8 }
                    return le64(extra, cursor)
                }
                if entry.uncompressedSize == 0xFFFF_FFFF, let value = next() { entry.uncompressedSize = value }
                if entry.compressedSize == 0xFFFF_FFFF, let value = next() { entry.compressedSize = value }
                if entry.localHeaderOffset == 0xFFFF_FFFF, let value = next() { entry.localHeaderOffset = value }
                return
            }
            index = body + length
        }
    }

    private static func checkName(
        _ name: String, nameBytes: [UInt8], names: inout Set<String>, findings: FindingCollector
    ) {
        if !names.insert(name).inserted {
            findings.add(
                "zip.duplicate-name", .high, at: nil, subject: name,
                "two members share a name; readers disagree on which one wins")
        }
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        if name.hasPrefix("/") || name.contains("\\") || parts.contains("..") || nameBytes.contains(0)
            || (name.count >= 2 && name.dropFirst().first == ":")
        {
            findings.add(
                "zip.path-traversal", .high, at: nil, subject: name,
                "a member name that is absolute or climbs out of the extraction directory")
        }
    }

    private static func checkLocalHeader(_ entry: inout Entry, source: ByteSource, findings: FindingCollector) throws {
        let header = try source.read(at: entry.localHeaderOffset, count: 30)
        guard header.count == 30, le32(header, 0) == 0x0403_4B50 else {
            findings.add(
                "zip.header-mismatch", .high, at: entry.localHeaderOffset, subject: entry.name,
                "the central directory points at no local header")
            entry.dataOffset = entry.localHeaderOffset
            entry.end = entry.localHeaderOffset
            return
        }
        let nameLength = UInt64(le16(header, 26))
        let extraLength = UInt64(le16(header, 28))
        let localName = try source.read(at: entry.localHeaderOffset + 30, count: Int(nameLength))
        let localExtra = try source.read(at: entry.localHeaderOffset + 30 + nameLength, count: Int(extraLength))
        var local = Entry(
            name: String(decoding: localName, as: UTF8.self), flags: le16(header, 6), method: le16(header, 8),
            crc: le32(header, 14), compressedSize: UInt64(le32(header, 18)), uncompressedSize: UInt64(le32(header, 22)),
            localHeaderOffset: entry.localHeaderOffset)
        if local.compressedSize == 0xFFFF_FFFF || local.uncompressedSize == 0xFFFF_FFFF {
            // The local zip64 extra holds both sizes, uncompressed first.
            var index = 0
            while index + 4 <= localExtra.count {
                let length = Int(le16(localExtra, index + 2))
                if le16(localExtra, index) == 0x0001, length >= 16, index + 4 + 16 <= localExtra.count {
                    local.uncompressedSize = le64(localExtra, index + 4)
                    local.compressedSize = le64(localExtra, index + 12)
                }
                index += 4 + length
            }
        }
        var disagreements = [String]()
        if local.name != entry.name { disagreements.append("name") }
        if local.method != entry.method { disagreements.append("method") }
        if local.flags != entry.flags { disagreements.append("flags") }
        if entry.flags & 0x08 == 0 {
            if local.crc != entry.crc { disagreements.append("crc") }
            if local.compressedSize != entry.compressedSize || local.uncompressedSize != entry.uncompressedSize {
                disagreements.append("sizes")
            }
        }
        if !disagreements.isEmpty {
            findings.add(
                "zip.header-mismatch", .high, at: entry.localHeaderOffset,
                subject: disagreements.joined(separator: ","),
                "the local header and the central directory disagree; readers may see different members")
        }
        if entry.isEncrypted {
            findings.add(
                "zip.encrypted-flag", .high, at: entry.localHeaderOffset,
                subject: "flags 0x" + String(entry.flags, radix: 16),
                "the member is marked encrypted; some readers refuse it and others ignore the flag")
        }
        let unusual = entry.flags & ~UInt16(0x0001 | 0x0002 | 0x0004 | 0x0008 | 0x0040 | 0x0800)
        if unusual != 0 {
            findings.add(
                "zip.flag-bits", .medium, at: entry.localHeaderOffset,
                subject: "flags 0x" + String(entry.flags, radix: 16),
                "general-purpose flag bits that ordinary writers never set")
        }
        if entry.method != 0 && entry.method != 8 {
            findings.add(
                "zip.compression-method", .high, at: entry.localHeaderOffset, subject: "method \(entry.method)",
                "a compression method the scanner cannot read")
        }
        if entry.method == 0 && entry.compressedSize != entry.uncompressedSize {
            findings.add(
                "zip.header-mismatch", .high, at: entry.localHeaderOffset, subject: "stored sizes",
                "a stored member whose compressed and uncompressed sizes differ")
        }
        if entry.method == 8, entry.uncompressedSize > (1 << 20),
            entry.compressedSize == 0 || entry.uncompressedSize / max(entry.compressedSize, 1) > maxRatio
        {
            findings.add(
                "zip.compression-ratio", .high, at: entry.localHeaderOffset, subject: entry.name,
                "an excessive compression ratio (a likely decompression bomb)")
        }
        entry.dataOffset = entry.localHeaderOffset + 30 + nameLength + extraLength
        let (dataEnd, overflow) = entry.dataOffset.addingReportingOverflow(entry.compressedSize)
        if overflow || dataEnd > source.size {
            findings.add(
                "zip.malformed", .high, at: entry.localHeaderOffset, subject: entry.name,
                "the member's data runs past the end of the file")
            entry.end = source.size
            return
        }
        entry.end = dataEnd
        if entry.flags & 0x08 != 0 {
            // Data descriptor: optional signature, CRC, then 4- or 8-byte sizes.
            let descriptor = try source.read(at: dataEnd, count: 24)
            var length: UInt64 = descriptor.count >= 4 && le32(descriptor, 0) == 0x0807_4B50 ? 16 : 12
            if entry.compressedSize > 0xFFFF_FFFF || entry.uncompressedSize > 0xFFFF_FFFF { length += 8 }
            entry.end = min(dataEnd + length, source.size)
        }
    }

    /// Gaps, overlaps and hidden local headers between members.
    private func checkLayout(size: UInt64, directoryOffset: UInt64, source: ByteSource, findings: FindingCollector) {
        let sorted = entries.sorted { $0.localHeaderOffset < $1.localHeaderOffset }
        var cursor: UInt64 = 0
        for entry in sorted {
            if entry.localHeaderOffset < cursor {
                findings.inMember(entry.name) {
                    findings.add(
                        "zip.overlap", .high, at: entry.localHeaderOffset, subject: entry.name,
                        "members overlap (a decompression bomb or an ambiguous archive)")
                }
            } else if entry.localHeaderOffset > cursor {
                reportGap(from: cursor, to: entry.localHeaderOffset, source: source, findings: findings)
            }
            cursor = max(cursor, entry.end)
        }
        if directoryOffset > cursor {
            reportGap(from: cursor, to: directoryOffset, source: source, findings: findings)
        }
    }

    private func reportGap(from start: UInt64, to end: UInt64, source: ByteSource, findings: FindingCollector) {
        let head = (try? source.read(at: start, count: 4)) ?? []
        if head.count == 4, le32(head, 0) == 0x0403_4B50 {
            findings.add(
                "zip.hidden-entry", .high, at: start, subject: "local header",
                "a local header the central directory does not list (streaming readers see a hidden member)")
        } else {
            findings.add(
                "zip.unlisted-data", start == 0 ? .low : .medium, at: start, subject: "\(end - start) bytes",
                "bytes that belong to no listed member")
        }
    }
}

@inline(__always)
func le16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
    UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
}

@inline(__always)
func le32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    UInt32(le16(bytes, offset)) | UInt32(le16(bytes, offset + 2)) << 16
}

@inline(__always)
func le64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
    UInt64(le32(bytes, offset)) | UInt64(le32(bytes, offset + 4)) << 32
}
