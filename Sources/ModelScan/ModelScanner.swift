import Foundation

/// Scans model files for constructs that run code or mislead readers when the file is loaded.
///
/// Formats are recognised by content (magic bytes and structure), never by file name: raw pickles (protocols 0–5,
/// stacked), PyTorch zip, legacy and tar checkpoints, TorchScript, numpy `.npy`/`.npz`, joblib, Keras v3, GGUF,
/// safetensors and zip containers in general. The file is read in bounded chunks; nothing is executed.
///
///     let report = try ModelScanner().scan(path: "model.pt")
///     if !report.refused(by: .default).isEmpty { ... }
public struct ModelScanner: Sendable {
    /// Verify every zip member's CRC, not only those of members the scanner interprets.
    public var deep: Bool
    /// The most bytes inflated in memory for one file, all members and nested archives together; a member past it
    /// is not inflated and is a finding (review 5, D1: the bound was per member).
    var maxInflatedTotal: UInt64 = ContentScan.maxInflatedTotal
    /// The longest one file's scan may take before archive members stop being opened (a finding says so).
    var maxScanTime: Duration = ContentScan.maxScanTime
    /// The longest a compressed stream with a decompression-bomb ratio may be scanned (a finding says when it runs past).
    var maxBombScanTime: Duration = ContentScan.maxBombScanTime

    /// A scanner; `deep` also checks the CRC of every archive member (reads all the data).
    public init(deep: Bool = false) {
        self.deep = deep
    }

    /// Scans the regular file at `path` (a symbolic link is refused, never followed).
    ///
    /// `progress`, if given, is called on this thread after each read of the file with the bytes read so far
    /// (re-reads included, so it can pass the size) and the file's size: a scan reads only what it needs, so a
    /// shallow scan of a large checkpoint ends well short of the size.
    public func scan(path: String, progress: ((_ read: UInt64, _ size: UInt64) -> Void)? = nil) throws -> ScanReport {
        let source = try ByteSource(path: path)
        if let progress {
            var read: UInt64 = 0
            let size = source.size
            source.onRead = { count in
                read &+= UInt64(count)
                progress(read, size)
            }
        }
        let directory = (path as NSString).deletingLastPathComponent
        return try scan(source, name: path, directory: directory.isEmpty ? "." : directory)
    }

    /// Scans the regular file open as `descriptor` (read with `pread` from offset 0; the descriptor stays open and
    /// its offset unmoved), so a caller can scan and then store the very same file; `name` labels the findings.
    public func scan(fileDescriptor descriptor: Int32, name: String) throws -> ScanReport {
        try scan(try ByteSource(duplicating: descriptor, name: name), name: name)
    }

    /// Scans bytes already in memory; `name` labels the findings.
    public func scan(bytes: [UInt8], name: String) -> ScanReport {
        // Memory sources cannot fail to read.
        (try? scan(ByteSource(bytes: bytes), name: name)) ?? ScanReport(file: name, formats: [], findings: [])
    }

    private func scan(_ source: ByteSource, name: String, directory: String? = nil) throws -> ScanReport {
        let findings = FindingCollector(file: name)
        let scan = ContentScan(findings: findings, deep: deep)
        scan.inflatedBudget = maxInflatedTotal
        scan.deadline = ContinuousClock.now.advanced(by: maxScanTime)
        scan.bombScanTime = maxBombScanTime
        scan.directory = directory
        scan.fileName = name
        try scan.scanContent(source, depth: 0, nameHint: nil)
        return ScanReport(file: name, formats: findings.formats, findings: findings.findings)
    }
}

/// One scan in progress: dispatches on content and recurses into containers.
final class ContentScan {
    /// Archives nested deeper than this are reported, not opened.
    static let maxDepth = 4
    /// Content nested deeper than this in containers of any kind (zip, tar, compressed streams, counted together)
    /// is not scanned, which is high: 2,000 nested tars overflowed the stack (review 6, finding 6).
    static let maxNesting = 16
    /// A deflated member is inflated in memory only up to this size.
    static let maxInflatedSize: UInt64 = 256 << 20
    /// All inflation for one file together is bounded by this (by default).
    static let maxInflatedTotal: UInt64 = 1 << 30
    /// One file's scan stops opening archive members after this long (by default).
    static let maxScanTime: Duration = .seconds(900)
    /// The time bound of a compressed stream with a bomb ratio: a real dump's arrays are skipped in well under it.
    static let maxBombScanTime: Duration = .seconds(10)

    let findings: FindingCollector
    let deep: Bool
    /// The directory holding the scanned file, when it is one on disk (ONNX external data is resolved against it).
    var directory: String?
    /// The scanned file's name (a path or a label): a model-format extension makes unrecognised content high.
    var fileName = ""
    /// The bytes this scan may still inflate in memory (members, compressed streams, nested archives).
    var inflatedBudget: UInt64 = ContentScan.maxInflatedTotal
    /// When this scan stops opening archive members.
    var deadline = ContinuousClock.now.advanced(by: ContentScan.maxScanTime)
    /// How long a compressed stream with a decompression-bomb ratio may be scanned.
    var bombScanTime: Duration = ContentScan.maxBombScanTime
    private var reportedDeadline = false

    /// Whether the scan's time is up; the first time, a high finding says what was left unscanned.
    func pastDeadline(at offset: UInt64?, subject: String) -> Bool {
        guard ContinuousClock.now >= deadline else { return false }
        if !reportedDeadline {
            reportedDeadline = true
            findings.add(
                "scan.time-budget", .high, at: offset, subject: subject,
                "the scan ran past its per-file time bound; the remaining members were not scanned")
        }
        return true
    }

    init(findings: FindingCollector, deep: Bool) {
        self.findings = findings
        self.deep = deep
    }

    /// Recognises `source` by its first bytes and scans it. `nameHint` is a member name inside an archive: used
    /// only to decide that a member which does not look like anything is worth interpreting as a pickle.
    func scanContent(_ source: ByteSource, depth: Int, nameHint: String?) throws {
        guard depth <= Self.maxNesting else {
            findings.add(
                "scan.nested-too-deep", .high, at: 0, subject: "depth \(depth)",
                "content nested in more containers than the scanner opens; not scanned")
            return
        }
        let head = try source.read(at: 0, count: 512)
        guard !head.isEmpty else {
            if depth == 0 { findings.recognised("empty") }
            return
        }
        func starts(_ magic: [UInt8]) -> Bool { head.count >= magic.count && Array(head.prefix(magic.count)) == magic }
        // Protobuf is recognised by structure, not by a magic number, so it is checked for every file: a file that
        // also parses as another format (a polyglot) is scanned both ways.
        let protobuf = try Self.protobufCandidates(source)
        // libhdf5 finds a superblock after a user block too (at 512, 1024, 2048, ... bytes): h5py opens such a file
        // whatever comes first, so it is walked as well.
        let userBlockHDF5 = starts(Self.hdf5Signature) ? nil : try Self.hdf5SuperblockAfterUserBlock(source)
        // Python's tarfile accepts any block whose header checksum is right ("ustar" is optional: v7 headers); the
        // ustar magic alone is enough for the scanner to read it as a tar too.
        let tar = (head.count >= 262 && Array(head[257..<262]) == Array("ustar".utf8)) || Self.isTarHeader(head)
        var scannedTar = false
        var scannedPickle = false
        // joblib.load picks its decompressor from the first bytes alone and unpickles what the stream inflates
        // to, whatever else the file also reads as (a gzip header can double as a tar or safetensors header:
        // review 20). At the top, a file with such a prefix is scanned as compressed whatever branch it takes.
        let compressed = depth == 0 ? Self.joblibCompression(head, size: source.size) : nil
        var scannedCompressed = false
        func scanAsCompressed() throws {
            guard let compressed, !scannedCompressed else { return }
            scannedCompressed = true
            if compressed.offset > 0 {
                findings.recognised("joblib-zfile")
                guard source.size > compressed.offset else {
                    findings.add("format.compressed-pickle", .high, at: 0, subject: "ZF", "a truncated joblib z-file")
                    return
                }
            }
            try scanCompressed(
                compressed.offset == 0
                    ? source
                    : ByteSource(slice: source, offset: compressed.offset, length: source.size - compressed.offset),
                depth: depth, format: compressed.format)
        }
        if starts([0x50, 0x4B, 0x03, 0x04]) || starts([0x50, 0x4B, 0x05, 0x06]) {
            // Its members are not scanned, so this fails the default policy like any content the scanner cannot read.
            guard depth < Self.maxDepth else {
                findings.add(
                    "zip.nested-too-deep", .high, at: 0, subject: "zip",
                    "archive nesting beyond the scanner's bound; not scanned")
                return
            }
            try scanZip(source, depth: depth)
        } else if starts([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) {
            try scanNpy(source)
        } else if starts(Array("GGUF".utf8)) {
            try scanGGUF(source)
        } else if starts(Self.hdf5Signature) {
            try scanHDF5(source)
        } else if head.count >= 2, head[0] == 0x80, (2...5).contains(head[1]) {
            // Before tar: a pickle can carry "ustar" at offset 257 inside a string and still load as a pickle. Such
            // a file is scanned as a tar too (below): torch.load tries a tar first (review 4, finding 1).
            scannedPickle = true
            try scanPickles(source, firstOnly: false)
        } else if tar {
            scannedTar = true
            try scanTar(source, depth: depth)
        } else if head.count >= 9, head[8] == 0x7B, le64(head, 0) <= source.size - 8 {
            try scanSafetensors(source)
        } else if compressed != nil {
            // joblib's old z-file ("ZF", 19 bytes of hex length, an optional space, one zlib stream): joblib.load
            // still reads it (load_compatibility → read_zfile) and unpickles what it inflates to (review 7, F3).
            // zlib, gzip, bz2, xz, lzma and lz4: joblib picks one from the file's extension and reads it back by
            // magic. Only at the top: archive members (raw tensor data among them) may start with these bytes by
            // chance.
            try scanAsCompressed()
        } else if nameHint?.hasSuffix(".pkl") == true || PickleOpcodes.isOpcode(head[0]) {
            // Any opcode can start a pickle (protocol 0 and 1 have no PROTO; `M`, `C`, `P` are valid first opcodes).
            scannedPickle = true
            try trialPickle(
                source, depth: depth, nameHint: nameHint,
                reportsUnrecognised: protobuf == nil && userBlockHDF5 == nil && !tar)
        } else if protobuf != nil || userBlockHDF5 != nil {
            // Scanned below.
        } else if head[0] == 0x08, source.size > Self.maxProtobufSize, depth == 0 {
            // Too large to decode, and ONNX or SavedModel loaders would read it: never passed unscanned.
            findings.recognised("unknown")
            findings.add(
                "format.too-large", .high, at: 0, subject: "\(source.size) bytes",
                "a file that may be a protobuf model (ONNX, SavedModel) too large for the scanner to decode")
        } else if depth == 0 {
            unrecognised(head)
        }
        if !scannedPickle, PickleOpcodes.isOpcode(head[0]) {
            // pickle.load, joblib.load and torch.load read any file from byte 0 as a pickle whatever its magic: a
            // safetensors header length `S'\0...` or GGUF's `G` (BINFLOAT) can open a pickle (review 5, F8/F9).
            try polyglotPickle(source, atFileStart: depth == 0)
        }
        if compressed != nil, !scannedCompressed {
            findings.add(
                "format.polyglot-compressed", .high, at: 0, subject: "\(compressed!.format)",
                "content that also reads as a compressed joblib file (joblib.load decompresses it by its first bytes)")
            try scanAsCompressed()
        }
        if tar, !scannedTar {
            findings.add(
                "format.polyglot-tar", .high, at: 0, subject: "tar header",
                "content that also reads as a tar archive (torch.load tries a legacy tar checkpoint first)")
            try scanTar(source, depth: depth)
        }
        if let protobuf {
            for kind in protobuf.kinds { scanProtobufModel(protobuf.bytes, kind: kind) }
        }
        if let userBlockHDF5 { try scanHDF5(source, superblockOffset: userBlockHDF5) }
    }

    /// The compressed stream joblib.load would read from a file starting with `head`: its format and where it
    /// starts (after the 21 or 22 bytes of an old "ZF" z-file header); nil when no joblib prefix matches.
    static func joblibCompression(_ head: [UInt8], size: UInt64) -> (format: Compression, offset: UInt64)? {
        if head.count >= 2, head[0] == 0x5A, head[1] == 0x46 {
            return (.zlib, head.count > 21 && head[21] == 0x20 ? 22 : 21)
        }
        if head.count >= 2, head[0] == 0x78, (UInt16(head[0]) << 8 | UInt16(head[1])) % 31 == 0 { return (.zlib, 0) }
        return Compression(head: head).map { ($0, 0) }
    }

    static let hdf5Signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The offset of an HDF5 superblock signature at 512, 1024, 2048, ... bytes, as libhdf5 searches; nil if none.
    static func hdf5SuperblockAfterUserBlock(_ source: ByteSource) throws -> UInt64? {
        var offset: UInt64 = 512
        while offset <= source.size, source.size - offset >= 8 {
            if try source.read(at: offset, count: 8) == hdf5Signature { return offset }
            guard offset < 1 << 62 else { return nil }
            offset *= 2
        }
        return nil
    }

    /// The protobuf models `source` parses as, with its bytes; nil when it is none (or too large to decode).
    /// A streamed parse of the top-level fields comes first, so other files are never read whole.
    static func protobufCandidates(_ source: ByteSource) throws -> (bytes: [UInt8], kinds: [ProtobufModel])? {
        guard source.size <= maxProtobufSize, try topLevelParses(source) else { return nil }
        let bytes = try source.read(at: 0, count: Int(source.size))
        let kinds = protobufModels(bytes)
        return kinds.isEmpty ? nil : (bytes, kinds)
    }

    /// Whether `source` reads as protobuf fields to its very end (streamed; nothing kept).
    static func topLevelParses(_ source: ByteSource) throws -> Bool {
        let stream = ByteStream(source: source)
        func varint() throws -> UInt64? {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard let byte = try stream.readByte() else { return nil }
                if shift == 63 && byte > 1 { return nil }
                result |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
                guard shift <= 63 else { return nil }
            }
        }
        while !stream.atEnd {
            guard let key = try varint(), key >> 3 >= 1, key >> 3 <= 0x1FFF_FFFF else { return false }
            switch key & 7 {
            case 0: guard try varint() != nil else { return false }
            case 1: guard try stream.skip(8) else { return false }
            case 2:
                guard let length = try varint(), try stream.skip(length) else { return false }
            case 5: guard try stream.skip(4) else { return false }
            default: return false
            }
        }
        return true
    }

    /// Extensions whose loaders parse content that has no magic number (pickle, protobuf), where the scanner's
    /// recognition is structural: such a file whose content matches no format is refused (fail closed).
    static let codeModelExtensions: Set<String> = [
        "onnx", "pb", "pt", "pth", "ckpt", "pkl", "pickle", "joblib", "sav",
    ]
    /// Extensions of formats whose loaders need a magic number or fixed structure the scanner checks exactly, and
    /// `.bin` (also raw tensor data, such as ONNX external data): unrecognised content there cannot load as the
    /// format, so it is medium (the strict policy refuses it).
    static let magicModelExtensions: Set<String> = [
        "bin", "h5", "hdf5", "keras", "npy", "npz", "gguf", "safetensors",
    ]

    /// The finding for top-level content that matches no format: high when the file's name claims a pickle or
    /// protobuf model or the content starts like a protobuf model (a field 1 varint, byte 0x08); medium for the
    /// other model extensions; low otherwise (json, txt, md, tokenizer files).
    private func unrecognised(_ head: [UInt8]) {
        findings.recognised("unknown")
        let base = (fileName as NSString).lastPathComponent
        let suffix = (base as NSString).pathExtension.lowercased()
        if Self.codeModelExtensions.contains(suffix) || head.first == 0x08 {
            findings.add(
                "format.unrecognised-model", .high, at: 0, subject: String(base.prefix(200)),
                "named or shaped like a model, but the content matches no model format the scanner knows")
        } else if Self.magicModelExtensions.contains(suffix) {
            findings.add(
                "format.unrecognised-model", .medium, at: 0, subject: String(base.prefix(200)),
                "named like a model (or raw tensor data), but the content matches no model format the scanner knows")
        } else {
            findings.add(
                "format.unrecognised", .low, at: 0, subject: "content",
                "the content matches no model format the scanner knows")
        }
    }

    /// The compressors joblib writes (`joblib.dump(..., compress=...)` or a `.gz`, `.bz2`, `.xz`, `.lzma`, `.lz4`
    /// name), recognised by the magic numbers joblib itself checks.
    enum Compression: String {
        case zlib, gzip, bz2, xz, lzma, lz4

        init?(head: [UInt8]) {
            func starts(_ magic: [UInt8]) -> Bool {
                head.count >= magic.count && Array(head.prefix(magic.count)) == magic
            }
            if starts([0x1F, 0x8B]) {
                self = .gzip
            } else if starts(Array("BZ".utf8)) {
                self = .bz2
            } else if starts([0xFD, 0x37, 0x7A, 0x58, 0x5A]) {
                self = .xz
            } else if starts([0x5D, 0x00]) {
                // joblib's own prefixes, no longer: an LZMA-alone stream with a small dictionary starts 5D 00 10
                // (review 8 of the scanner, finding 2).
                self = .lzma
            } else if starts([0x04, 0x22, 0x4D, 0x18]) {
                self = .lz4
            } else {
                return nil
            }
        }
    }

    /// A compressed pickle: zlib and gzip streams are inflated in memory up to the bound (every stream or member in
    /// turn, as Python's readers go on), then scanned by content. Past the bound, corrupt, or in a format the
    /// scanner cannot decompress (bz2, xz, lzma, lz4), it is a high finding: never passed unscanned.
    private func scanCompressed(_ source: ByteSource, depth: Int, format: Compression) throws {
        findings.recognised(format.rawValue)
        var inflated: [UInt8]?
        var badTrailer: Int?
        // Each level may hold the bound in memory: nesting is bounded like archives.
        let limit = min(Self.maxInflatedSize, inflatedBudget)
        if format == .zlib || format == .gzip, source.size <= Self.maxInflatedSize, depth < Self.maxDepth {
            let compressed = try source.read(at: 0, count: Int(source.size))
            inflated = try? Self.inflateStreams(
                compressed, gzip: format == .gzip, limit: Int(limit), badTrailer: &badTrailer)
            inflatedBudget -= min(UInt64(inflated?.count ?? 0), inflatedBudget)
        }
        if inflated != nil, let badTrailer {
            // Python's gzip hands a member's data to the unpickler before it checks the trailer: scanned anyway.
            findings.add(
                "gzip.trailer-mismatch", .high, at: UInt64(badTrailer), subject: "gzip member",
                "a gzip member whose CRC-32 or size does not match its data (the scanner and the loader may not "
                    + "read the same bytes)")
        }
        // Review 11: a small stream inflating to the bound of cheap opcodes kept the scan busy up to its time bound
        // (minutes per file on the push path). A joblib dump of a model that is mostly one value has such a ratio
        // too, and its arrays are skipped, not interpreted: such a stream is scanned under a short time bound, and
        // running past it is high (`scan.time-budget`).
        let savedDeadline = deadline
        defer { deadline = savedDeadline }
        if let inflated, UInt64(inflated.count) > 1 << 20,
            UInt64(inflated.count) / max(source.size, 1) > ZipArchive.maxRatio
        {
            findings.add(
                "\(format.rawValue).compression-ratio", .medium, at: 0, subject: "\(format.rawValue) stream",
                "an excessive compression ratio (a likely decompression bomb); scanned under a shorter time bound")
            deadline = min(deadline, ContinuousClock.now.advanced(by: bombScanTime))
        }
        guard let inflated else {
            findings.add(
                "format.compressed-pickle", .high, at: 0, subject: "\(format.rawValue) stream",
                format == .zlib || format == .gzip
                    ? "a compressed stream that is corrupt or inflates past the scanner's bound; not scanned"
                    : "a compressed stream the scanner cannot decompress (joblib would load it); not scanned")
            return
        }
        try findings.inMember(format.rawValue) {
            try scanContent(ByteSource(bytes: inflated), depth: depth + 1, nameHint: "stream.pkl")
        }
    }

    /// Inflates concatenated zlib streams or gzip members; anything else after one is malformed. A gzip member's
    /// CRC-32 and size (ISIZE) are checked against its data: `badTrailer` is the offset of the first mismatch.
    static func inflateStreams(_ bytes: [UInt8], gzip: Bool, limit: Int, badTrailer: inout Int?) throws -> [UInt8] {
        var output = [UInt8]()
        var index = 0
        while index < bytes.count {
            if gzip {
                // Python's gzip skips zero padding between members.
                if !output.isEmpty, bytes[index] == 0 {
                    index += 1
                    continue
                }
                index = try gzipHeaderEnd(bytes, from: index)
            } else {
                guard index + 2 <= bytes.count, bytes[index] & 0x0F == 8,
                    (UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1])) % 31 == 0, bytes[index + 1] & 0x20 == 0
                else { throw Inflate.Failure.malformed }
                index += 2
            }
            let (data, consumed) = try Inflate.inflateCounting(Array(bytes[index...]), limit: limit - output.count)
            output += data
            index += consumed
            let trailer = index
            index += gzip ? 8 : 4  // CRC-32 and size, or Adler-32
            guard index <= bytes.count else { throw Inflate.Failure.malformed }
            // Review 6, finding 5: neither was checked.
            if gzip, badTrailer == nil,
                le32(bytes, trailer) != CRC32.checksum(data)
                    || le32(bytes, trailer + 4) != UInt32(truncatingIfNeeded: data.count)
            {
                badTrailer = trailer
            }
        }
        return output
    }

    /// The offset just past a gzip member header at `start` (RFC 1952).
    static func gzipHeaderEnd(_ bytes: [UInt8], from start: Int) throws -> Int {
        guard start + 10 <= bytes.count, bytes[start] == 0x1F, bytes[start + 1] == 0x8B, bytes[start + 2] == 8 else {
            throw Inflate.Failure.malformed
        }
        let flags = bytes[start + 3]
        var index = start + 10
        if flags & 0x04 != 0 {
            guard index + 2 <= bytes.count else { throw Inflate.Failure.malformed }
            // XLEN, little-endian (review 6, finding 5: `2 + lo | hi << 8` read 0x01FE as 256).
            index += 2 + (Int(bytes[index]) | Int(bytes[index + 1]) << 8)
        }
        for flag: UInt8 in [0x08, 0x10] where flags & flag != 0 {
            while index < bytes.count, bytes[index] != 0 { index += 1 }
            index += 1
        }
        if flags & 0x02 != 0 { index += 2 }
        guard index <= bytes.count else { throw Inflate.Failure.malformed }
        return index
    }

    /// Whether a 512-byte block is a tar header Python's tarfile accepts: its checksum field (octal, or base-256)
    /// equals the unsigned or signed sum of the header with that field read as spaces.
    static func isTarHeader(_ head: [UInt8]) -> Bool {
        // The same reading of the checksum as the tar walker's, which is tarfile's (review 8, finding 6).
        head.count >= 512 && tarChecksumMatches(Array(head.prefix(512)))
    }

    /// Interprets a file another format branch took as a pickle too; a pickle that runs to `STOP` or names a
    /// global is a polyglot, refused, and its pickle findings are kept alongside the other format's.
    private func polyglotPickle(_ source: ByteSource, atFileStart: Bool) throws {
        guard try trialReadsAsAPickle(source, stopsAtUnderflow: true, atFileStart: atFileStart) else { return }
        findings.add(
            "format.polyglot-pickle", .high, at: 0, subject: "pickle",
            "content that also loads as a pickle (pickle.load, joblib.load and torch.load read it from byte 0)")
        try scanPickles(source, firstOnly: true)
    }

    /// A protocol 0 or 1 pickle has no PROTO: interpret it and keep the result only if it parses (or names a
    /// dangerous global on the way).
    private func trialPickle(
        _ source: ByteSource, depth: Int, nameHint: String?, reportsUnrecognised: Bool = true
    ) throws {
        if try trialReadsAsAPickle(source, stopsAtUnderflow: false, atFileStart: depth == 0)
            || nameHint?.hasSuffix(".pkl") == true
        {
            try scanPickles(source, firstOnly: false)
        } else if depth == 0, reportsUnrecognised {
            unrecognised(try source.read(at: 0, count: 1))
        }
    }

    /// Whether `source` reads as a pickle in a trial: it runs to `STOP`, or names a global or anything else that
    /// fails closed, before the point where CPython would give up. Read both as `pickle.load` reads it and as
    /// joblib's unpickler does, which skips a NumpyArrayWrapper's array bytes and runs what follows them: a joblib
    /// dump without its `PROTO` breaks at the array for `pickle.load` but not for `joblib.load` (review 21).
    ///
    /// With `stopsAtUnderflow` (a file another format took), a stack underflow ends the reading, as it does in
    /// CPython (an npy's 0x93 is STACK_GLOBAL on an empty stack). Every loader that reads a file from byte 0 as a
    /// pickle (pickle.load, joblib.load, numpy.load, the first pickle of torch's legacy format) has no
    /// persistent_load, so a persistent id anywhere in that first pickle raises too: a zip's `PK` is PERSID, whose
    /// line ran into tensor bytes that read as EXT4 or INST (scanner review 12, a false positive on
    /// `torch.save(..., pickle_protocol=4)`).
    private func trialReadsAsAPickle(_ source: ByteSource, stopsAtUnderflow: Bool, atFileStart: Bool) throws -> Bool {
        for joblibArrays in [false, true] {
            let trial = FindingCollector(file: findings.file)
            trial.member = findings.member
            let interpreter = PickleInterpreter(
                stream: ByteStream(source: source), findings: trial, joblibArrays: joblibArrays, deadline: deadline)
            let outcome = try interpreter.interpretOne()
            let underflow =
                stopsAtUnderflow
                ? trial.findings.first {
                    $0.rule == "pickle.stack-underflow" || (atFileStart && $0.rule == "pickle.persistent-id")
                }.map { $0.offset ?? 0 } : nil
            if case .stopped = outcome, underflow == nil { return true }
            // These always count (before an underflow, for a file another format took): a global, an extension
            // code, a numeric argument where the scanner and CPython could disagree (review 4, finding 2), a bound
            // or the time budget.
            let failsClosed = trial.findings.contains {
                ($0.rule.hasPrefix("pickle.global") || $0.rule.hasPrefix("pickle.ext")
                    || $0.rule == "pickle.invalid-number" || $0.rule == "pickle.argument-unbounded"
                    || ($0.rule == "pickle.bound-exceeded" && $0.severity >= .high) || $0.rule == "scan.time-budget")
                    && ($0.offset ?? 0) < (underflow ?? UInt64.max)
            }
            // So does any other high finding before the first point where every unpickler stops: a call or a state
            // the scanner cannot judge, a joblib array it cannot size or follow (review 22: both ended the trial,
            // and joblib.load ran the call after the array). Random bytes that happen to start with an opcode
            // reach such findings only after a stop (`hello, world` reads a memo key never written, then calls).
            let stop = trial.findings.filter { Self.stopsEveryUnpickler.contains($0.rule) }.map { $0.offset ?? 0 }
                .min()
            let unjudged = trial.findings.contains {
                $0.severity >= .high && !Self.stopsEveryUnpickler.contains($0.rule)
                    && ($0.offset ?? 0) < min(stop ?? UInt64.max, underflow ?? UInt64.max)
            }
            let dangerous = failsClosed || unjudged
            if dangerous { return true }
        }
        return false
    }

    /// Findings where every unpickler stops too (CPython's C and pure-Python ones, joblib's): what a trial finds
    /// after the first of them never runs.
    static let stopsEveryUnpickler: Set<String> = [
        "pickle.invalid-opcode", "pickle.invalid-argument", "pickle.truncated", "pickle.stack-underflow",
        "pickle.memo-undefined", "pickle.mark-missing",
    ]

    /// Where `pickle.load` stops (an invalid opcode, truncation, "STACK_GLOBAL requires str", an import of `dtype`
    /// from a module no ordinary machine has): what its reading of joblib array bytes finds after it never runs.
    static let pickleLoadStops = stopsEveryUnpickler.union([
        "pickle.stack-global-not-text", "pickle.global.uncommon-module",
    ])

    /// Legacy PyTorch files start with a pickled magic number (0x1950a86a20f9469cfc6c, little-endian here).
    private static let legacyMagic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    /// Interprets every pickle laid end to end in `source`. A legacy PyTorch file holds five pickles and then raw
    /// storage bytes; anything else after `STOP` is either another pickle (scanned) or trailing bytes (a finding).
    ///
    /// joblib reads a NumpyArrayWrapper's array bytes as data, `pickle.load` reads them as opcodes: when arrays were
    /// skipped, the file is read the second way too and the globals found there are kept (review 4, finding 4).
    ///
    /// Returns the keys of the PyTorch storages the pickles name by persistent id (`('storage', type, key, …)`).
    @discardableResult
    func scanPickles(_ source: ByteSource, firstOnly: Bool) throws -> Set<String> {
        findings.recognised("pickle")
        let (skipped, storageKeys) = try interpretPickles(
            source, firstOnly: firstOnly, joblibArrays: true, into: findings)
        guard skipped else { return storageKeys }
        let plain = FindingCollector(file: findings.file)
        plain.member = findings.member
        _ = try interpretPickles(
            source, firstOnly: firstOnly, joblibArrays: false, pickleLoadReading: true, into: plain)
        let stops = Self.pickleLoadStops
        let stop = plain.findings.filter { stops.contains($0.rule) }.compactMap(\.offset).min()
        for finding in plain.findings
        where
            // Every import, whatever its name looks like: a module named `évil` planted on `sys.path` is imported
            // (scanner review 32). Only a name that is not UTF-8, which CPython cannot decode, is left out.
            (finding.rule.hasPrefix("pickle.global.") && finding.rule != "pickle.global.undecodable"
            || finding.rule == "pickle.build-on-global"
            || finding.rule == "scan.time-budget" || finding.rule == "pickle.argument-unbounded"
            || (finding.rule == "pickle.bound-exceeded" && finding.severity >= .high)
            // And every other high finding before that stop: a call, a BUILD or a fill in array bytes runs under
            // `pickle.load` as anywhere else (scanner review 39 ran review 38's memory forgery there, where only
            // imports were kept).
            // joblib's own rules (its wrapper, its arrays) say nothing of `pickle.load`, which reads no array.
            || (finding.severity >= .high && (finding.offset ?? 0) < (stop ?? UInt64.max)
                && !stops.contains(finding.rule) && !finding.rule.hasPrefix("joblib.")))
            && !findings.findings.contains(where: {
                // The same finding, or a medium import where the main reading already judged that import.
                $0.offset == finding.offset
                    && ($0.rule == finding.rule
                        || ($0.rule.hasPrefix("pickle.global.") && finding.rule == "pickle.global.uncommon-module"))
            })
        {
            findings.add(
                finding.rule, finding.severity, at: finding.offset, subject: finding.subject,
                finding.message + " (in bytes joblib reads as array data but pickle.load runs)")
        }
        return storageKeys
    }

    /// The pickles of `source` into `collector`: whether joblib array bytes were skipped, and the storage keys
    /// named by persistent id.
    private func interpretPickles(
        _ source: ByteSource, firstOnly: Bool, joblibArrays: Bool, pickleLoadReading: Bool = false,
        into collector: FindingCollector
    ) throws -> (skipped: Bool, storageKeys: Set<String>) {
        let stream = ByteStream(source: source)
        let interpreter = PickleInterpreter(
            stream: stream, findings: collector, joblibArrays: joblibArrays, deadline: deadline)
        interpreter.pickleLoadReading = pickleLoadReading
        var count = 0
        var legacy = false
        while true {
            let outcome = try interpreter.interpretOne()
            guard case .stopped(let value) = outcome else {
                return (interpreter.skippedJoblibArrays, interpreter.storageKeys)
            }
            count += 1
            if count == 1, case .bigInt(let bytes) = value, bytes == Self.legacyMagic {
                legacy = true
                collector.recognised("pytorch-legacy")
            }
            if firstOnly || (legacy && count == 5) || stream.atEnd {
                return (interpreter.skippedJoblibArrays, interpreter.storageKeys)
            }
            let offset = stream.position
            guard let next = try stream.peekByte(), PickleOpcodes.isOpcode(next) else {
                collector.add(
                    "pickle.trailing-bytes", .medium, at: offset, subject: "\(stream.remaining) bytes",
                    "bytes after STOP that are not another pickle")
                return (interpreter.skippedJoblibArrays, interpreter.storageKeys)
            }
            if !legacy {
                collector.add(
                    "pickle.stacked", .low, at: offset, subject: "pickle \(count + 1)",
                    "another pickle follows STOP (a loader that reads on would run it; it is scanned too)")
            }
        }
    }
}

/// Which bytes are pickle opcodes.
enum PickleOpcodes {
    private static let table: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for byte in Array("()012FIJKLMNPQRSTUVXabcdeghijlopqrstu}].GBC".utf8) { table[Int(byte)] = true }
        for byte in 0x80...0x98 { table[byte] = true }
        return table
    }()

    static func isOpcode(_ byte: UInt8) -> Bool { table[Int(byte)] }

}
