import Foundation

extension ContentScan {
    // MARK: - numpy

    /// `.npy`: an object dtype means a pickle follows the header; scan it. The header is a Python literal that numpy
    /// reads with `ast.literal_eval`, so it is parsed as one (escapes, concatenated strings), never matched by a
    /// pattern (review 4, finding 8). A header the scanner cannot read is high: numpy might still load it.
    func scanNpy(_ source: ByteSource) throws {
        findings.recognised("npy")
        let prefix = try source.read(at: 0, count: 12)
        guard prefix.count >= 10 else {
            findings.add("npy.malformed", .high, at: 0, subject: "header", "a truncated .npy header")
            return
        }
        let major = prefix[6]
        let headerLength: UInt64
        let headerStart: UInt64
        if major == 1 {
            headerLength = UInt64(le16(prefix, 8))
            headerStart = 10
        } else if prefix.count >= 12 {
            headerLength = UInt64(le32(prefix, 8))
            headerStart = 12
        } else {
            findings.add("npy.malformed", .high, at: 0, subject: "header", "a truncated .npy header")
            return
        }
        guard headerLength <= 1 << 20, headerStart + headerLength <= source.size else {
            findings.add(
                "npy.malformed", .high, at: 8, subject: "header length \(headerLength)",
                "the .npy header is longer than the file or the scanner's bound")
            return
        }
        let header = try source.read(at: headerStart, count: Int(headerLength))
        guard case .dict(let pairs)? = PythonLiteral.parse(header),
            let descr = pairs.last(where: { if case .string("descr") = $0.0 { true } else { false } })?.1
        else {
            findings.add(
                "npy.malformed", .high, at: headerStart, subject: "header",
                "a .npy header that is not a Python dict with a descr")
            return
        }
        if Self.npyDescrHasUnusualDatetimeUnit(descr, depth: 0) {
            findings.add(
                "npy.malformed", .high, at: headerStart, subject: "descr",
                "a .npy descr with a datetime unit numpy does not write: numpy divides by its multiplier or divisor, "
                    + "and one of 0 kills the process while the header is read, even without allow_pickle")
        }
        if Self.npyDescrMayHoldObjects(descr, depth: 0) {
            findings.recognised("npy-object")
            let dataStart = headerStart + headerLength
            try scanPickles(
                ByteSource(slice: source, offset: dataStart, length: source.size - dataStart), firstOnly: false)
        }
    }

    /// Whether a descr, or a field of a structured one, gives a datetime unit other than as numpy writes it
    /// (`<M8[ns/0]` killed `numpy.load` with SIGFPE while it read the header: scanner review 57).
    static func npyDescrHasUnusualDatetimeUnit(_ descr: PythonLiteral, depth: Int) -> Bool {
        guard depth < 8 else { return true }
        switch descr {
        case .string(let code):
            return !PickleInterpreter.hasCanonicalDatetimeBracket(code)
        case .list(let fields):
            return fields.contains { field in
                guard case .tuple(let parts) = field, parts.count >= 2 else { return false }
                return npyDescrHasUnusualDatetimeUnit(parts[1], depth: depth + 1)
            }
        default:
            return false
        }
    }

    /// Whether a descr may be or contain the object type (then numpy unpickles the data): anything but a plain
    /// fixed-size type code, in a simple or structured descr, counts as one.
    static func npyDescrMayHoldObjects(_ descr: PythonLiteral, depth: Int) -> Bool {
        guard depth < 8 else { return true }
        switch descr {
        case .string(let code):
            return code.range(
                of:
                    #"^[<>|=]?([?bBhHiIlLqQpPefdgFDG]|[biufc][0-9]{1,2}|[SUVa][0-9]{0,9}|[Mm]8(\[[0-9]*[a-zA-Z]{1,2}\])?)$"#,
                options: .regularExpression) == nil
        case .list(let fields):
            // [(name, descr) or (name, descr, shape), ...]
            return fields.contains { field in
                guard case .tuple(let parts) = field, parts.count == 2 || parts.count == 3 else { return true }
                return npyDescrMayHoldObjects(parts[1], depth: depth + 1)
            }
        default:
            return true
        }
    }

    // MARK: - GGUF

    /// Jinja names that reach Python internals (the CVE-2024-34359 gadget chain).
    static let jinjaGadgets = [
        "__class__", "__mro__", "__subclasses__", "__globals__", "__builtins__", "__init__", "__import__", "__base__",
        "__bases__", "__getattribute__", "__dict__", "__code__", "__reduce__", "__reduce_ex__",
    ]

    /// GGUF: header and metadata, bounded; a `chat_template` reaching Python internals is critical.
    func scanGGUF(_ source: ByteSource) throws {
        findings.recognised("gguf")
        let stream = ByteStream(source: source)
        _ = try stream.skip(4)
        guard let version = try stream.readLE(4), let _ = try stream.readLE(8), let keyCount = try stream.readLE(8)
        else {
            findings.add("gguf.malformed", .medium, at: 0, subject: "header", "a truncated GGUF header")
            return
        }
        guard version >= 1, version <= 3 else {
            findings.add("gguf.malformed", .medium, at: 4, subject: "version \(version)", "an unknown GGUF version")
            return
        }
        // Each key-value pair takes at least 13 bytes, so the count is bounded by the file size.
        guard keyCount <= stream.remaining / 13 else {
            findings.add(
                "gguf.malformed", .high, at: 16, subject: "\(keyCount) keys",
                "more metadata keys than the file can hold")
            return
        }
        for _ in 0..<keyCount {
            let offset = stream.position
            guard let key = try ggufString(stream, keep: 1024), let type = try stream.readLE(4) else {
                findings.add("gguf.malformed", .high, at: offset, subject: "metadata", "truncated GGUF metadata")
                return
            }
            let keyText = key ?? ""
            if type == 8, keyText.hasPrefix("tokenizer.chat_template") {
                let valueOffset = stream.position
                guard let template = try ggufString(stream, keep: 4 << 20) else {
                    findings.add("gguf.malformed", .high, at: offset, subject: keyText, "a truncated chat template")
                    return
                }
                guard let template else {
                    findings.add(
                        "gguf.template-unchecked", .high, at: valueOffset, subject: keyText,
                        "a chat template too large to inspect")
                    continue
                }
                checkTemplate(template, key: keyText, at: valueOffset)
            } else {
                guard try skipGGUFValue(stream, type: type, depth: 0) else {
                    findings.add("gguf.malformed", .high, at: offset, subject: keyText, "a malformed GGUF value")
                    return
                }
            }
        }
    }

    private func checkTemplate(_ template: String, key: String, at offset: UInt64) {
        if let gadget = Self.jinjaGadgets.first(where: { template.contains($0) }) {
            findings.add(
                "gguf.template-gadget", .critical, at: offset, subject: key + ": " + gadget,
                "the chat template reaches Python internals from Jinja (server-side template injection)")
        } else if template.contains("|attr") || template.contains("attr(")
            || template.range(
                of: #"['"]_['"]?\s*~|~\s*['"]_"#, options: .regularExpression) != nil
        {
            findings.add(
                "gguf.template-attr", .high, at: offset, subject: key,
                "the chat template builds attribute names dynamically (a way around the gadget check)")
        }
    }

    /// A GGUF string: nil at the end of the data; `.some(nil)` when longer than `keep` (skipped).
    private func ggufString(_ stream: ByteStream, keep: Int) throws -> String?? {
        guard let length = try stream.readLE(8), length <= stream.remaining else { return nil }
        if length > UInt64(keep) { return try stream.skip(length) ? .some(nil) : nil }
        guard let bytes = try stream.read(Int(length)) else { return nil }
        return .some(String(decoding: bytes, as: UTF8.self))
    }

    private func skipGGUFValue(_ stream: ByteStream, type: UInt64, depth: Int) throws -> Bool {
        let sizes: [UInt64: UInt64] = [0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8]
        if let size = sizes[type] { return try stream.skip(size) }
        if type == 8 {
            guard let length = try stream.readLE(8) else { return false }
            return try stream.skip(length)
        }
        guard type == 9, depth < 4, let elementType = try stream.readLE(4), let count = try stream.readLE(8) else {
            return false
        }
        if let size = sizes[elementType] {
            let (total, overflow) = size.multipliedReportingOverflow(by: count)
            if overflow { return false }
            return try stream.skip(total)
        }
        guard count <= stream.remaining / 8 else { return false }
        for _ in 0..<count where !(try skipGGUFValue(stream, type: elementType, depth: depth + 1)) { return false }
        return true
    }

    // MARK: - safetensors

    static let safetensorsDtypeSizes: [String: UInt64] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "F8_E8M0": 1, "I16": 2, "U16": 2, "F16": 2,
        "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8, "C64": 8,
    ]

    /// safetensors: the header within bounds, each tensor's dtype, shape and byte range consistent, ranges
    /// inside the data and not overlapping.
    func scanSafetensors(_ source: ByteSource) throws {
        findings.recognised("safetensors")
        let headerLength = le64(try source.read(at: 0, count: 8), 0)
        guard headerLength <= 100 << 20 else {
            findings.add(
                "safetensors.header-bounds", .high, at: 0, subject: "\(headerLength) bytes",
                "the header is larger than safetensors allows (100 MB)")
            return
        }
        let header = try source.read(at: 8, count: Int(headerLength))
        guard let object = try? JSONSerialization.jsonObject(with: Data(header)) as? [String: Any] else {
            findings.add("safetensors.header-json", .high, at: 8, subject: "header", "the header is not a JSON object")
            return
        }
        let dataSize = source.size - 8 - headerLength
        var ranges: [(begin: UInt64, end: UInt64, name: String)] = []
        for (name, value) in object where name != "__metadata__" {
            guard let tensor = value as? [String: Any], let dtype = tensor["dtype"] as? String,
                let shape = tensor["shape"] as? [Any], let offsets = tensor["data_offsets"] as? [Any],
                offsets.count == 2,
                let begin = (offsets[0] as? NSNumber)?.int64Value, let end = (offsets[1] as? NSNumber)?.int64Value
            else {
                findings.add(
                    "safetensors.tensor", .high, at: 8, subject: name, "a tensor entry without dtype, shape or offsets")
                continue
            }
            guard begin >= 0, end >= begin, UInt64(end) <= dataSize else {
                findings.add(
                    "safetensors.offsets", .high, at: 8, subject: name, "a tensor's byte range lies outside the data")
                continue
            }
            var elements: UInt64 = 1
            var valid = true
            for dimension in shape {
                guard let n = (dimension as? NSNumber)?.int64Value, n >= 0 else {
                    valid = false
                    break
                }
                let (product, overflow) = elements.multipliedReportingOverflow(by: UInt64(n))
                if overflow { valid = false }
                elements = product
            }
            if let size = Self.safetensorsDtypeSizes[dtype] {
                let (bytes, overflow) = elements.multipliedReportingOverflow(by: size)
                if !valid || overflow || bytes != UInt64(end - begin) {
                    findings.add(
                        "safetensors.size", .high, at: 8, subject: name,
                        "the tensor's shape and dtype do not match its byte range")
                }
            } else {
                findings.add("safetensors.dtype", .medium, at: 8, subject: name + ": " + dtype, "an unknown dtype")
            }
            ranges.append((UInt64(begin), UInt64(end), name))
        }
        ranges.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var cursor: UInt64 = 0
        for range in ranges {
            if range.begin < cursor {
                findings.add(
                    "safetensors.overlap", .high, at: 8, subject: range.name, "tensor byte ranges overlap")
            } else if range.begin > cursor {
                findings.add("safetensors.gap", .low, at: 8, subject: range.name, "unused bytes between tensors")
            }
            cursor = max(cursor, range.end)
        }
        if cursor < dataSize {
            findings.add(
                "safetensors.trailing", .low, at: 8 + headerLength + cursor, subject: "data",
                "bytes after the last tensor")
        }
    }

    // MARK: - Keras

    /// Keras v3 `config.json`: Lambda layers, modules outside keras/tensorflow, unsafe deserialisation switches
    /// and custom registered objects.
    func scanKerasConfig(_ source: ByteSource) throws {
        guard source.size <= 64 << 20 else {
            findings.add(
                "keras.config-too-large", .high, at: 0, subject: "config.json", "a config too large to inspect")
            return
        }
        let bytes = try source.read(at: 0, count: Int(source.size))
        guard let json = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else {
            findings.add("keras.config-json", .high, at: 0, subject: "config.json", "the config is not valid JSON")
            return
        }
        checkKeras(json, path: "$", depth: 0)
    }

    private static let kerasModules = ["keras", "tensorflow", "tf_keras"]

    private func checkKeras(_ value: Any, path: String, depth: Int) {
        guard depth < 256 else {
            findings.add("keras.config-depth", .high, at: nil, subject: path, "the config nests too deeply to inspect")
            return
        }
        if let list = value as? [Any] {
            for (index, item) in list.enumerated() { checkKeras(item, path: "\(path)[\(index)]", depth: depth + 1) }
            return
        }
        guard let object = value as? [String: Any] else { return }
        let className = object["class_name"] as? String
        if className == "Lambda" || className == "__lambda__" {
            findings.add(
                "keras.lambda", .critical, at: nil, subject: path + ": " + className!,
                "a Lambda layer carries Python bytecode that runs when the model is loaded")
        }
        if let module = object["module"] as? String,
            !Self.kerasModules.contains(where: { module == $0 || module.hasPrefix($0 + ".") })
        {
            findings.add(
                "keras.module", .high, at: nil, subject: path + ": " + module,
                "an object imported from a module outside keras and tensorflow")
        }
        if object["enable_unsafe_deserialization"] != nil || object["safe_mode"] as? Bool == false {
            findings.add(
                "keras.unsafe-deserialization", .high, at: nil, subject: path,
                "the config asks for unsafe deserialisation")
        }
        if let registered = object["registered_name"] as? String, registered != className,
            !Self.kerasModules.contains(where: { registered.hasPrefix($0 + ">") || registered.hasPrefix($0 + ".") })
        {
            findings.add(
                "keras.custom-object", .medium, at: nil, subject: path + ": " + registered,
                "a custom registered object: its code comes from outside the file")
        }
        for key in object.keys.sorted() {
            checkKeras(object[key]!, path: path + "." + key, depth: depth + 1)
        }
    }

    // MARK: - HDF5 (legacy Keras .h5)

    /// Legacy Keras `.h5`: the root group's `model_config` (and `training_config`) attribute is JSON; the bounded
    /// walker reads it (compact or dense storage, inline or committed datatype) and the JSON is checked like a
    /// Keras v3 config. Fail closed: whatever the walker cannot read is a high finding, never a pass. A
    /// JSON-aware byte search then looks for a Lambda the walker could not reach; it can only add findings.
    func scanHDF5(_ source: ByteSource, superblockOffset: UInt64 = 0) throws {
        findings.recognised("hdf5")
        var walker = HDF5Walker(source: source, superblockOffset: superblockOffset)
        do {
            for attribute in try walker.rootStringAttributes()
            where attribute.name == "model_config" || attribute.name == "training_config" {
                findings.recognised("keras-h5")
                guard let value = attribute.value else {
                    findings.add(
                        "hdf5.config-not-string", .high, at: nil, subject: attribute.name,
                        "a Keras config attribute whose type is not a string the scanner can read")
                    continue
                }
                try findings.inMember(attribute.name) {
                    try scanKerasConfig(ByteSource(bytes: value))
                }
            }
        } catch let failure as HDF5Walker.Failure {
            let why: String
            switch failure {
            case .malformed(let text), .unsupported(let text): why = text
            }
            findings.add(
                "hdf5.unreadable", .high, at: nil, subject: why,
                "the HDF5 structure could not be walked, so a Lambda layer could hide in it")
        }
        if findings.findings.contains(where: { $0.rule == "keras.lambda" }) { return }
        // The search reads the whole file: a huge one stops at the per-file time bound, which is high (scanner
        // review 11, D1: it was bounded by the file's size only).
        let past = { (offset: UInt64) in self.pastDeadline(at: offset, subject: "hdf5 byte search") }
        if let offset = try Self.findJSONLambda(source, pastDeadline: past) {
            findings.add(
                "keras.lambda", .critical, at: offset, subject: "model_config: Lambda",
                "a Lambda layer carries Python bytecode that runs when loaded")
        }
    }

    /// The offset of a JSON `"class_name"` key whose value is `"Lambda"`, or of a `"__lambda__"` string, anywhere
    /// in `source`: whitespace between the tokens and JSON escapes inside them are allowed, as a JSON parser allows
    /// them. Read in chunks that overlap by `overlap` bytes; a match spread wider than that is not found. Before each
    /// chunk after the first, `pastDeadline` is asked whether to stop.
    static func findJSONLambda(
        _ source: ByteSource, pastDeadline: (UInt64) -> Bool = { _ in false }
    ) throws -> UInt64? {
        let overlap = 4096
        var offset: UInt64 = 0
        var carry = [UInt8]()
        while offset < source.size {
            if offset > 0, pastDeadline(offset) { return nil }
            let chunk = try source.read(at: offset, count: 1 << 20)
            if chunk.isEmpty { break }
            let window = carry + chunk
            if let hit = jsonLambda(in: window) { return offset - UInt64(carry.count) + UInt64(hit) }
            carry = Array(window.suffix(overlap))
            offset += UInt64(chunk.count)
        }
        return nil
    }

    /// A JSON string token starting at the quote at `start`: its decoded text (escapes resolved) and the index
    /// after its closing quote; nil when it is longer than `limit` bytes, cut, or holds an invalid escape.
    static func jsonString(_ bytes: [UInt8], at start: Int, limit: Int = 96) -> (text: [UInt8], end: Int)? {
        var index = start + 1
        var text: [UInt8] = []
        while index < bytes.count, index - start <= limit {
            let byte = bytes[index]
            if byte == 0x22 { return (text, index + 1) }
            if byte == 0x5C {
                guard index + 1 < bytes.count else { return nil }
                let escape = bytes[index + 1]
                switch escape {
                case 0x75:  // \uXXXX: only the ASCII range matters for the names looked for
                    guard index + 6 <= bytes.count,
                        let code = UInt32(String(decoding: bytes[index + 2..<index + 6], as: UTF8.self), radix: 16)
                    else { return nil }
                    text.append(code < 0x80 ? UInt8(code) : 0xFF)
                    index += 6
                case 0x22, 0x5C, 0x2F: text.append(escape); index += 2
                case 0x62, 0x66, 0x6E, 0x72, 0x74: text.append(0x01); index += 2
                default: return nil
                }
            } else {
                text.append(byte)
                index += 1
            }
        }
        return nil
    }

    static func jsonLambda(in window: [UInt8]) -> Int? {
        let className = Array("class_name".utf8)
        let lambda = Array("Lambda".utf8)
        let dunder = Array("__lambda__".utf8)
        func skipSpace(_ at: Int) -> Int {
            var index = at
            while index < window.count, [0x20, 0x09, 0x0A, 0x0D].contains(window[index]) { index += 1 }
            return index
        }
        var index = 0
        while index < window.count {
            guard let quote = window[index...].firstIndex(of: 0x22) else { return nil }
            index = quote + 1
            guard let key = jsonString(window, at: quote) else { continue }
            if key.text == dunder { return quote }
            guard key.text == className else { continue }
            let colon = skipSpace(key.end)
            guard colon < window.count, window[colon] == 0x3A else { continue }
            let value = skipSpace(colon + 1)
            guard value < window.count, window[value] == 0x22, let name = jsonString(window, at: value) else {
                continue
            }
            if name.text == lambda || name.text == dunder { return quote }
        }
        return nil
    }

    // MARK: - tar (legacy PyTorch)

    /// ustar archives: PyTorch's legacy tar format (`sys_info`, `pickle`, `storages`, `tensors`); each member by
    /// content, the storage members only up to their first pickle (raw data follows).
    ///
    /// Members are named and sized as Python's `tarfile` names and sizes them (what `torch.load` uses): a PAX
    /// extended header's `path=` and `size=` and a GNU long name (`././@LongLink`, type `L`) apply to the next
    /// member, the outermost first; links, directories and devices carry no data; a type `tarfile` does not know
    /// is extracted as a regular file (review 5, F7).
    func scanTar(_ source: ByteSource, depth: Int) throws {
        findings.recognised("tar")
        var offset: UInt64 = 0
        var count = 0
        var pendingName: String?
        var pendingSize: UInt64?
        var pendingLink: String?
        var globalRecords: [String: String] = [:]
        // Data-bearing members so far, by normalised name (the last wins), for hard links (review 7, F5).
        var regularMembers: [String: (start: UInt64, size: UInt64)] = [:]
        let criticalBefore = findings.criticalCount
        while source.size >= 512, offset <= source.size - 512, count < 100_000 {
            count += 1
            if pastDeadline(at: offset, subject: "tar member") { return }
            let header = try source.read(at: offset, count: 512)
            if header.allSatisfy({ $0 == 0 }) { return }
            let name = Self.cString(header[0..<100])
            let prefix = Self.cString(header[345..<500])
            var fullName = prefix.isEmpty ? name : prefix + "/" + name
            guard var size = Self.tarSize(Array(header[124..<136])) else {
                findings.add("tar.malformed", .high, at: offset, subject: fullName, "an unreadable member size")
                return
            }
            // tarfile refuses (or, past the first member, stops at) a header whose checksum is wrong (review 7, F6).
            guard Self.tarChecksumMatches(header) else {
                findings.add("tar.malformed", .high, at: offset, subject: fullName, "a header checksum tarfile refuses")
                return
            }
            let type = header[156]
            let dataStart = offset + 512
            // Extension headers: PAX (x, X, g) and GNU long names (L, K) describe the next member.
            if [0x78, 0x58, 0x67, 0x4C, 0x4B].contains(type) {
                // tarfile reads the whole 512-byte blocks (`_block(size)`): a GNU long name runs to its first NUL and
                // PAX records to a NUL at a record start, past `size` (review 9 of the scanner, finding 6).
                let blocks = min((size + 511) / 512 * 512, source.size - dataStart)
                guard size <= 1 << 20, blocks >= size, let data = try? source.read(at: dataStart, count: Int(blocks)),
                    UInt64(data.count) == blocks
                else {
                    findings.add(
                        "tar.malformed", .high, at: offset, subject: fullName,
                        "an extension header the scanner cannot read")
                    return
                }
                if type == 0x4C {
                    if pendingName == nil { pendingName = Self.cString(data[...]) }
                } else if type == 0x4B {
                    if pendingLink == nil { pendingLink = Self.cString(data[...]) }
                } else {
                    guard let records = Self.paxRecords(data) else {
                        findings.add(
                            "tar.malformed", .high, at: offset, subject: fullName, "an unreadable PAX header")
                        return
                    }
                    if type == 0x67 {
                        globalRecords.merge(records) { $1 }
                    } else {
                        let merged = globalRecords.merging(records) { $1 }
                        if pendingName == nil, let path = merged["path"] ?? merged["GNU.sparse.name"] {
                            var trimmed = Substring(path)
                            while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
                            pendingName = String(trimmed)
                        }
                        if pendingLink == nil, let link = merged["linkpath"] { pendingLink = link }
                        if pendingSize == nil, let value = merged["size"] {
                            guard let parsed = UInt64(value.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                                findings.add(
                                    "tar.malformed", .high, at: offset, subject: "size=" + String(value.prefix(32)),
                                    "a PAX size the scanner does not read as tarfile does")
                                return
                            }
                            pendingSize = parsed
                        }
                    }
                    if records.keys.contains(where: { $0.hasPrefix("GNU.sparse") }) {
                        findings.add(
                            "tar.sparse", .high, at: offset, subject: fullName,
                            "a sparse member: tarfile rebuilds its content from a map the scanner does not read")
                    }
                }
            } else {
                if findings.criticalCount > criticalBefore {
                    findings.add(
                        "scan.stopped", .low, at: offset, subject: fullName,
                        "the remaining members were not scanned: the file is refused by a critical finding")
                    return
                }
                // tarfile applies the global PAX records to every later member (`_proc_builtin`), not only to the
                // next extended header (review 9 of the scanner, finding 9).
                if pendingName == nil, let path = globalRecords["path"] {
                    var trimmed = Substring(path)
                    while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
                    pendingName = String(trimmed)
                }
                if pendingLink == nil, let link = globalRecords["linkpath"] { pendingLink = link }
                if globalRecords["size"] != nil {
                    findings.add(
                        "tar.malformed", .high, at: offset, subject: "size",
                        "a global PAX size, which tarfile applies to every later member")
                    return
                }
                if let pendingName { fullName = pendingName }
                if let pendingSize { size = pendingSize }
                let linkName = pendingLink ?? Self.cString(header[157..<257])
                pendingName = nil
                pendingSize = nil
                pendingLink = nil
                var linked: (start: UInt64, size: UInt64)?
                if (type == 0x31 || type == 0x32), Self.torchTarMembers.contains(fullName) {
                    // torch extracts these by name; tarfile gives a hard link the bytes of the last earlier member
                    // of the link's name, and a symbolic link reads whatever the path names on disk (review 7, F5).
                    guard type == 0x31, let target = regularMembers[Self.normalisedTarName(linkName)] else {
                        findings.add(
                            "tar.link-unresolved", .high, at: offset, subject: fullName + " -> " + linkName,
                            "a link torch would follow to bytes the scanner cannot read")
                        offset = dataStart
                        continue
                    }
                    linked = target
                }
                try scanTarMember(
                    header: header, name: name, fullName: fullName, size: size, at: offset, source: source,
                    depth: depth, linked: linked)
                if !(0x31...0x36).contains(type), !(type == 0 && name.hasSuffix("/")) {
                    regularMembers[Self.normalisedTarName(fullName)] = (dataStart, size)
                }
                // Links, directories, devices and FIFOs carry no data for tarfile, whatever their size field.
                let isDirectory = type == 0 && name.hasSuffix("/")
                if isDirectory || (0x31...0x36).contains(type) {
                    offset = dataStart
                    continue
                }
            }
            // Checked: the size field is the archive's word, up to 2^63.
            let (rounded, roundOverflow) = size.addingReportingOverflow(511)
            let (next, overflow) = dataStart.addingReportingOverflow(rounded / 512 * 512)
            guard !roundOverflow, !overflow else {
                findings.add("tar.malformed", .high, at: offset, subject: fullName, "a member size past any file")
                return
            }
            offset = next
        }
    }

    /// One tar member (its name and size already resolved): findings, and its content scanned when tarfile
    /// would extract it as a file.
    private func scanTarMember(
        header: [UInt8], name: String, fullName: String, size: UInt64, at offset: UInt64, source: ByteSource,
        depth: Int, linked: (start: UInt64, size: UInt64)? = nil
    ) throws {
        let type = header[156]
        let dataStart = offset + 512
        let parts = fullName.split(separator: "/", omittingEmptySubsequences: false)
        if fullName.hasPrefix("/") || parts.contains("..") {
            findings.add("tar.path-traversal", .high, at: offset, subject: fullName, "a member name that climbs out")
        }
        if type == 0x31 || type == 0x32 {
            findings.add("tar.link", .medium, at: offset, subject: fullName, "a link member")
        }
        if type == 0x53 {
            findings.add(
                "tar.sparse", .high, at: offset, subject: fullName,
                "a sparse member: tarfile rebuilds its content from a map the scanner does not read")
        }
        // Regular files (0, NUL, 7), sparse files, and any type tarfile does not know (extracted as a file).
        let isDirectory = type == 0 && name.hasSuffix("/")
        guard linked != nil || (!isDirectory && !(0x31...0x36).contains(type)) else { return }
        if Self.torchTarMembers.contains(fullName) {
            findings.recognised("pytorch-tar")
        }
        let content = ByteSource(
            slice: source, offset: linked?.start ?? dataStart, length: linked?.size ?? size)
        try findings.inMember(fullName) {
            if fullName == "storages" || fullName == "tensors" {
                try scanLegacyTarRecords(content, storages: fullName == "storages")
            } else {
                try scanContent(content, depth: depth + 1, nameHint: fullName == "pickle" ? "pickle.pkl" : nil)
            }
        }
    }

    /// The records of a PAX extended header, parsed as `tarfile` parses them (`"%d %s=%s\n"`, the length
    /// counting the whole record); nil for a zero length (tarfile refuses the archive).
    static func paxRecords(_ data: [UInt8]) -> [String: String]? {
        var records: [String: String] = [:]
        var position = 0
        // A NUL where a record would start ends them (the block's padding); anything else that is no record makes
        // tarfile refuse the header, so it is nil here too.
        while position < data.count, data[position] != 0, records.count < 4096 {
            var cursor = position
            var length = 0
            while cursor < data.count, (0x30...0x39).contains(data[cursor]), length < 1 << 24 {
                length = length * 10 + Int(data[cursor] - 0x30)
                cursor += 1
            }
            guard cursor > position, cursor < data.count, data[cursor] == 0x20 else { return nil }
            let keywordStart = cursor + 1
            var keywordEnd = keywordStart
            while keywordEnd < data.count, data[keywordEnd] != 0x3D { keywordEnd += 1 }
            guard keywordEnd > keywordStart, keywordEnd < data.count else { return nil }
            guard length > 0 else { return nil }
            let valueEnd = min(max(position + length - 1, keywordEnd + 1), data.count)
            let keyword = String(decoding: data[keywordStart..<keywordEnd], as: UTF8.self)
            records[keyword] = String(decoding: data[(keywordEnd + 1)..<valueEnd], as: UTF8.self)
            position += length
        }
        return records
    }

    /// Element sizes of the storage types a legacy tar checkpoint names.
    private static let storageElementSizes: [String: UInt64] = [
        "Double": 8, "Float": 4, "Half": 2, "BFloat16": 2, "Long": 8, "Int": 4, "Short": 2, "Char": 1, "Byte": 1,
        "Bool": 1, "ComplexDouble": 16, "ComplexFloat": 8, "QUInt8": 1, "QInt8": 1, "QInt32": 4,
    ]

    /// A legacy tar checkpoint's `storages` or `tensors` member, read as torch's `_legacy_load` reads it: a count
    /// pickle, then per record a pickle (loaded with the full unpickler) and raw bytes. Every record's pickle is
    /// scanned; a record the scanner cannot size is high (the pickles after it would otherwise go unread).
    func scanLegacyTarRecords(_ source: ByteSource, storages: Bool) throws {
        let stream = ByteStream(source: source)
        let interpreter = PickleInterpreter(stream: stream, findings: findings, deadline: deadline)
        guard case .stopped(let countValue) = try interpreter.interpretOne() else { return }
        func unreadable(_ why: String) {
            findings.add(
                "pytorch-tar.unreadable", .high, at: stream.position, subject: storages ? "storages" : "tensors", why)
        }
        guard case .int(let count) = countValue, count >= 0, count <= 1 << 20 else {
            return unreadable("a record count the scanner cannot read")
        }
        for _ in 0..<count {
            guard case .stopped(let record) = try interpreter.interpretOne() else { return }
            if storages {
                // (key, location, storage_type), then the element count and the bytes.
                guard case .tuple(let items) = record, items.count == 3, case .global(let module, let name) = items[2],
                    module == "torch" || module == "torch.storage", name.hasSuffix("Storage"),
                    let size = Self.storageElementSizes[String(name.dropLast("Storage".count))],
                    let numel = try stream.readLE(8)
                else { return unreadable("a storage record the scanner cannot size") }
                let (bytes, overflow) = numel.multipliedReportingOverflow(by: size)
                guard !overflow, try stream.skip(bytes) else { return unreadable("a storage past the member's end") }
            } else {
                // (key, storage_id, type), then ndim (int32), 4 bytes, ndim sizes and strides (int64), an offset.
                guard let ndim = try stream.readLE(4), ndim <= 64, try stream.skip(4 + 16 * ndim + 8) else {
                    return unreadable("a tensor record the scanner cannot size")
                }
            }
        }
        // `storages` ends in one more pickle, `storage_views`, which torch loads with the full unpickler (review
        // 7, F1); what follows it (or follows `tensors`' records) torch never reads, but nothing legitimate puts
        // bytes there.
        if storages, !stream.atEnd {
            guard case .stopped = try interpreter.interpretOne() else { return }
        }
        if !stream.atEnd {
            findings.add(
                "pickle.trailing-bytes", storages ? .high : .medium, at: stream.position,
                subject: "\(stream.remaining) bytes",
                storages ? "bytes after storage_views" : "bytes after the last record")
        }
    }

    private static func cString(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// The member names torch's `_legacy_load` extracts by name.
    static let torchTarMembers: Set<String> = ["pickle", "sys_info", "storages", "tensors"]

    /// A member name as tarfile's `_getmember(normalize=True)` compares it (`os.path.normpath`, for plain names).
    static func normalisedTarName(_ name: String) -> String {
        let parts = name.split(separator: "/").filter { $0 != "." }
        return (name.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
    }

    /// A numeric header field read as CPython tarfile's `nti` reads it: base-256 when the first byte is 0x80
    /// (positive) or 0xFF (negative), otherwise the text up to the first NUL, whitespace stripped, as `int(text, 8)`
    /// reads it (a sign, a `0o` prefix and single underscores between digits included; an empty field is 0). Nil
    /// where tarfile raises, or past 63 bits (review 8 of the scanner, finding 6: a `0o` checksum made a tar only
    /// Python saw).
    static func tarNumber(_ field: [UInt8]) -> Int64? {
        guard let first = field.first else { return 0 }
        if first == 0x80 || first == 0xFF {
            var value: Int64 = 0
            for byte in field.dropFirst() {
                guard value >> 55 == 0 else { return nil }
                value = value << 8 | Int64(byte)
            }
            guard first == 0xFF else { return value }
            // -(256 ** (len - 1) - n)
            let width = field.count - 1
            guard width < 8 else { return nil }
            return value - (Int64(1) << Int64(8 * width))
        }
        let text = field.prefix { $0 != 0 }
        guard text.allSatisfy({ $0 < 0x80 }) else { return nil }
        let isSpace: (UInt8) -> Bool = { (0x09...0x0D).contains($0) || (0x1C...0x20).contains($0) }
        var digits = Array(text.drop(while: isSpace).reversed().drop(while: isSpace).reversed())[...]
        guard !digits.isEmpty else { return 0 }
        var negative = false
        if let sign = digits.first, sign == 0x2B || sign == 0x2D {
            negative = sign == 0x2D
            digits = digits.dropFirst()
        }
        // `0o`/`0O`, which may be followed by one underscore.
        if digits.count >= 2, digits.first == 0x30, digits.dropFirst().first.map({ $0 | 0x20 }) == 0x6F {
            digits = digits.dropFirst(2)
            if digits.first == 0x5F { digits = digits.dropFirst() }
        }
        guard let last = digits.last, last != 0x5F, digits.first != 0x5F else { return nil }
        var value: Int64 = 0
        var previousUnderscore = false
        for byte in digits {
            if byte == 0x5F {
                guard !previousUnderscore else { return nil }
                previousUnderscore = true
                continue
            }
            previousUnderscore = false
            guard (0x30...0x37).contains(byte), value >> 59 == 0 else { return nil }
            value = value << 3 | Int64(byte - 0x30)
        }
        return negative ? -value : value
    }

    /// A size field as tarfile reads it (``tarNumber(_:)``); nil when it is negative or unreadable.
    static func tarSize(_ field: [UInt8]) -> UInt64? {
        guard let value = tarNumber(field), value >= 0 else { return nil }
        return UInt64(value)
    }

    /// tarfile's checksum test: the field (read by `nti`) equals the unsigned or the signed sum of the header with
    /// the field taken as eight spaces.
    static func tarChecksumMatches(_ header: [UInt8]) -> Bool {
        guard header.count == 512, let stored = tarNumber(Array(header[148..<156])) else { return false }
        var unsigned: Int64 = 256
        var signed: Int64 = 256
        for (index, byte) in header.enumerated() where !(148..<156).contains(index) {
            unsigned += Int64(byte)
            signed += Int64(Int8(bitPattern: byte))
        }
        return stored == unsigned || stored == signed
    }
}
