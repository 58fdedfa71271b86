/// A strict reader of a zip archive's structure: the end-of-central-directory record (zip64 too), the central
/// directory and every local header, cross-checked. Member data is not read here.
struct ZipArchive {
    /// One member, as the central directory describes it (local header checked against it).
    /// A deflated member past 1 MiB whose compression ratio is excessive (a likely decompression bomb).
    static func isBombRatio(_ entry: Entry) -> Bool {
        entry.method == 8 && entry.uncompressedSize > (1 << 20)
            && (entry.compressedSize == 0 || entry.uncompressedSize / max(entry.compressedSize, 1) > maxRatio)
    }

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

    /// One reading of the central directory: where its bytes are read, how many records the end record
    /// announces, and the shift added to every local header offset (Python's `zipfile` "concat").
    private struct DirectoryView: Hashable {
        var start: UInt64
        var size: UInt64
        var count: UInt64
        var shift: Int64
    }

    /// Parses `source`'s zip structure, recording findings (`zip.*`) in `findings`. Returns nil when the file
    /// has no usable central directory (then a finding says why).
    ///
    /// The end record is chosen as Python's `zipfile` chooses it (what `numpy.load` uses; `torch.load`'s miniz
    /// agrees): the last 22 bytes when they are a record without comment, else the last `PK\x05\x06` in the
    /// final 64 KiB + 22 bytes. The directory is read where `zipfile` reads it (ending at the end record or the
    /// zip64 record, with the difference from the stated offset added to every local header offset) and walked
    /// by its size, as `zipfile` walks it. Whenever another reader could see a different directory (a second
    /// self-consistent end record, a zip64 record the classic fields contradict, a stated offset that is not
    /// where the directory ends, an entry count that is not the records' count), that is high and the members of
    /// every such reading are returned, so that all of them are scanned.
    static func parse(_ source: ByteSource, findings: FindingCollector) throws -> ZipArchive? {
        let size = source.size
        guard size >= 22 else {
            findings.add("zip.malformed", .high, at: 0, subject: "zip", "too short to be a zip archive")
            return nil
        }
        // zipfile searches the last 64 KiB + 22 bytes for the record.
        let tailLength = Int(min(size, 65_558))
        let tailStart = size - UInt64(tailLength)
        let tail = try source.read(at: tailStart, count: tailLength)
        guard tail.count == tailLength else {
            findings.add("zip.malformed", .high, at: nil, subject: "zip", "the file could not be read")
            return nil
        }
        func isEndSignature(_ index: Int) -> Bool {
            tail[index] == 0x50 && tail[index + 1] == 0x4B && tail[index + 2] == 0x05 && tail[index + 3] == 0x06
        }
        var lastSignature: Int?
        var consistent: [Int] = []
        var anyWhole: Int?
        var index = tail.count - 4
        while index >= 0 {
            if isEndSignature(index) {
                if lastSignature == nil { lastSignature = index }
                if index + 22 <= tail.count {
                    if anyWhole == nil { anyWhole = index }
                    if index + 22 + Int(le16(tail, index + 20)) == tail.count { consistent.append(index) }
                }
            }
            index -= 1
        }
        var zipfilePick: Int?
        if isEndSignature(tail.count - 22), tail[tail.count - 2] == 0, tail[tail.count - 1] == 0 {
            zipfilePick = tail.count - 22
        } else if let last = lastSignature, last + 22 <= tail.count {
            zipfilePick = last
        }
        guard let primary = zipfilePick ?? consistent.first ?? anyWhole else {
            findings.add(
                "zip.malformed", .high, at: nil, subject: "zip", "no end-of-central-directory record")
            return nil
        }
        if primary + 22 + Int(le16(tail, primary + 20)) != tail.count {
            findings.add(
                "zip.trailing-data", .medium, at: tailStart + UInt64(primary), subject: "zip",
                "bytes after the end-of-central-directory record")
        }
        let others = consistent.filter { $0 != primary }
        if !others.isEmpty {
            findings.add(
                "zip.ambiguous-end-record", .high, at: tailStart + UInt64(primary),
                subject: "\(others.count + 1) end records",
                "more than one end-of-central-directory record; readers disagree on which holds the directory")
        }
        if le16(tail, primary + 4) != 0 || le16(tail, primary + 6) != 0 {
            findings.add("zip.multi-disk", .medium, at: nil, subject: "zip", "a multi-disk archive")
        }
        var views: [DirectoryView] = []
        for record in [primary] + others.prefix(3) {
            for view in try directoryViews(
                endRecordAt: tailStart + UInt64(record), tail: tail, index: record, source: source,
                findings: findings, primary: record == primary)
            where !views.contains(view) {
                views.append(view)
            }
        }
        guard !views.isEmpty else { return nil }

        var archive = ZipArchive()
        var keys = Set<String>()
        var perView: [Set<String>] = []
        var total: UInt64 = 0
        var directoryStart = UInt64.max
        for view in views.prefix(8) {
            let (directoryEnd, overflow) = view.start.addingReportingOverflow(view.size)
            guard !overflow, directoryEnd <= size else {
                findings.add(
                    "zip.malformed", .high, at: view.start, subject: "zip",
                    "the central directory lies outside the file")
                continue
            }
            directoryStart = min(directoryStart, view.start)
            let entries = try readDirectory(view, source: source, findings: findings)
            var seen = Set<String>()
            for entry in entries {
                let key = entry.name + "\u{0}" + String(entry.localHeaderOffset)
                seen.insert(key)
                if keys.insert(key).inserted {
                    let (newTotal, totalOverflow) = total.addingReportingOverflow(entry.uncompressedSize)
                    total = totalOverflow ? UInt64.max : newTotal
                    archive.entries.append(entry)
                }
            }
            perView.append(seen)
        }
        guard directoryStart != UInt64.max else { return nil }
        if perView.count > 1, let first = perView.first, perView.contains(where: { $0 != first }) {
            let common = perView.dropFirst().reduce(first) { $0.intersection($1) }
            let differing = archive.entries.filter {
                !common.contains($0.name + "\u{0}" + String($0.localHeaderOffset))
            }
            let hidesPickle = differing.contains { entry in
                let lower = entry.name.lowercased()
                return lower.hasSuffix(".pkl") || lower.hasSuffix(".pickle") || lower.hasSuffix(".npy")
                    || lower.hasSuffix("data.pkl") || lower.hasSuffix(".joblib")
            }
            findings.add(
                "zip.ambiguous-members", hidesPickle ? .critical : .high, at: nil,
                subject: String(differing.map(\.name).joined(separator: ",").prefix(200)),
                "readers of this archive see different members (each reading is scanned)")
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
        archive.checkLayout(size: size, directoryOffset: directoryStart, source: source, findings: findings)
        return archive
    }

    /// The readings of the directory that the end record at `offset` (tail index `index`) allows: zipfile's, and
    /// any other a reader could take (the classic fields, the zip64 locator's record, the stated offset).
    private static func directoryViews(
        endRecordAt offset: UInt64, tail: [UInt8], index: Int, source: ByteSource, findings: FindingCollector,
        primary: Bool
    ) throws -> [DirectoryView] {
        let classic = (
            count: UInt64(le16(tail, index + 10)), size: UInt64(le32(tail, index + 12)),
            offset: UInt64(le32(tail, index + 16))
        )
        let sentinel = classic.count == 0xFFFF || classic.size == 0xFFFF_FFFF || classic.offset == 0xFFFF_FFFF
        // (count, size, stated offset, where zipfile expects the directory to end)
        var readings: [(count: UInt64, size: UInt64, offset: UInt64, end: UInt64)] = []
        func zip64Record(at recordOffset: UInt64) throws -> (count: UInt64, size: UInt64, offset: UInt64)? {
            guard recordOffset <= source.size, source.size - recordOffset >= 56 else { return nil }
            let record = try source.read(at: recordOffset, count: 56)
            guard record.count == 56, le32(record, 0) == 0x0606_4B50 else { return nil }
            return (le64(record, 32), le64(record, 40), le64(record, 48))
        }
        var locatorRecord: UInt64?
        if offset >= 20 {
            let locator = try source.read(at: offset - 20, count: 20)
            if locator.count == 20, le32(locator, 0) == 0x0706_4B50 { locatorRecord = le64(locator, 8) }
        }
        if let locatorRecord {
            // zipfile assumes the record sits right before the locator; the locator names where it is.
            let beforeLocator = offset >= 76 ? try zip64Record(at: offset - 76) : nil
            let named = try zip64Record(at: locatorRecord)
            if let beforeLocator {
                readings.append((beforeLocator.count, beforeLocator.size, beforeLocator.offset, offset - 76))
                func agrees(_ field: UInt64, _ value: UInt64, _ mark: UInt64) -> Bool {
                    field == value || field == mark
                }
                if !agrees(classic.count, beforeLocator.count, 0xFFFF)
                    || !agrees(classic.size, beforeLocator.size, 0xFFFF_FFFF)
                    || !agrees(classic.offset, beforeLocator.offset, 0xFFFF_FFFF)
                {
                    findings.add(
                        "zip.zip64-mismatch", .high, at: offset, subject: "zip64",
                        "the zip64 record and the classic end record describe different directories")
                    readings.append((classic.count, classic.size, classic.offset, offset))
                }
            }
            if let named, beforeLocator == nil || locatorRecord != offset - 76 {
                findings.add(
                    "zip.zip64-mismatch", .high, at: offset, subject: "zip64 locator",
                    "the zip64 locator points elsewhere than the record before it; readers disagree")
                readings.append((named.count, named.size, named.offset, locatorRecord))
            }
            if readings.isEmpty {
                if sentinel {
                    findings.add("zip.malformed", .high, at: offset, subject: "zip64", "zip64 record missing")
                    return []
                }
                readings.append((classic.count, classic.size, classic.offset, offset))
            }
        } else {
            if sentinel {
                if primary {
                    findings.add("zip.malformed", .high, at: nil, subject: "zip64", "zip64 locator missing")
                }
                return []
            }
            readings.append((classic.count, classic.size, classic.offset, offset))
        }
        var views: [DirectoryView] = []
        for reading in readings {
            if reading.size <= reading.end {
                let start = reading.end - reading.size
                let shift = Int64(clamping: start) - Int64(clamping: reading.offset)
                views.append(DirectoryView(start: start, size: reading.size, count: reading.count, shift: shift))
                if shift == 0 { continue }
                findings.add(
                    "zip.directory-offset", .high, at: reading.offset, subject: "\(shift) bytes",
                    "the central directory does not end at the end record; Python's zipfile reads another "
                        + "directory and shifts every member")
            }
            views.append(DirectoryView(start: reading.offset, size: reading.size, count: reading.count, shift: 0))
        }
        return views
    }

    /// The directory records of `view`, walked by the directory's size as zipfile walks it.
    private static func readDirectory(
        _ view: DirectoryView, source: ByteSource, findings: FindingCollector
    ) throws -> [Entry] {
        let directory = ByteStream(source: source, start: view.start, length: view.size)
        var names = Set<String>()
        var entries: [Entry] = []
        while directory.position < view.size {
            if entries.count >= maxEntries {
                findings.add(
                    "zip.too-many-entries", .high, at: nil, subject: "over \(maxEntries) entries",
                    "more members than the scanner examines")
                break
            }
            let headerOffset = view.start + directory.position
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
            if applyZip64(extra, to: &entry) > 1 {
                findings.inMember(entry.name) {
                    findings.add(
                        "zip.zip64-duplicate", .critical, at: headerOffset, subject: entry.name,
                        "a directory record with more than one zip64 extra block: zipfile reads each in turn, other "
                            + "readers the first, so they open different bytes")
                }
            }
            let shifted: UInt64?
            if view.shift >= 0 {
                let (sum, overflow) = entry.localHeaderOffset.addingReportingOverflow(UInt64(view.shift))
                shifted = overflow ? nil : sum
            } else {
                let magnitude = view.shift.magnitude
                shifted = entry.localHeaderOffset >= magnitude ? entry.localHeaderOffset - magnitude : nil
            }
            guard let shifted else {
                findings.add(
                    "zip.malformed", .high, at: headerOffset, subject: entry.name,
                    "a local header offset outside the file once the directory's shift is applied")
                continue
            }
            entry.localHeaderOffset = shifted
            findings.inMember(entry.name) {
                checkName(entry.name, nameBytes: nameBytes, names: &names, findings: findings)
            }
            entries.append(entry)
        }
        if UInt64(entries.count) != view.count {
            findings.add(
                "zip.entry-count", .high, at: view.start, subject: "\(view.count) announced, \(entries.count) read",
                "the end record's entry count is not the directory's; readers that count and readers that walk "
                    + "the directory see different members")
        }
        return entries
    }

    /// Applies the zip64 extra blocks of a directory record as zipfile's `_decodeExtra` does: every 0x0001 block in
    /// turn, each filling the fields still at their sentinel (review 6, finding 8: only the first was read).
    /// Returns how many zip64 blocks there were.
    private static func applyZip64(_ extra: [UInt8], to entry: inout Entry) -> Int {
        var index = 0
        var blocks = 0
        while index + 4 <= extra.count {
            let id = le16(extra, index)
            let length = Int(le16(extra, index + 2))
            let body = index + 4
            guard body + length <= extra.count else { return blocks }
            if id == 0x0001 {
                blocks += 1
                var cursor = body
                func next() -> UInt64? {
                    guard cursor + 8 <= body + length else { return nil }
                    defer { cursor += 8 }
                    return le64(extra, cursor)
                }
                if entry.uncompressedSize == 0xFFFF_FFFF || entry.uncompressedSize == UInt64.max,
                    let value = next()
                {
                    entry.uncompressedSize = value
                }
                if entry.compressedSize == 0xFFFF_FFFF, let value = next() { entry.compressedSize = value }
                if entry.localHeaderOffset == 0xFFFF_FFFF, let value = next() { entry.localHeaderOffset = value }
            }
            index = body + length
        }
        return blocks
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
        if Self.isBombRatio(entry) {
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
