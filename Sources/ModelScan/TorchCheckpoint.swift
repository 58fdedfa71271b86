import Foundation

/// Why a checkpoint could not be converted. The texts are fixed and name what failed, never tensor data.
public enum ConversionError: Error, Equatable, CustomStringConvertible {
    /// The input is neither a PyTorch zip checkpoint nor a legacy one.
    case notACheckpoint
    /// The scanner refused the input (findings at or above the default policy's threshold).
    case refusedByScan([Finding])
    /// The pickle uses a construct outside plain tensors and containers (a global, an opcode, a hook).
    case unsupported(offset: UInt64, String)
    /// A state-dict entry is not a tensor (safetensors holds tensors only).
    case notATensor(name: String)
    /// The checkpoint is inconsistent (sizes, storages, CRCs).
    case malformed(String)
    /// The input could not be read.
    case unreadable(path: String, reason: String)
    /// The output already exists; it is never overwritten.
    case outputExists(path: String)
    /// The output could not be written.
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .notACheckpoint: "not a PyTorch checkpoint (zip or legacy format)"
        case .refusedByScan(let findings):
            "the scanner refused the checkpoint: "
                + findings.prefix(3).map { "\($0.id) \($0.subject)" }.joined(separator: "; ")
        case .unsupported(let offset, let why): "not a plain tensor checkpoint (pickle offset \(offset)): \(why)"
        case .notATensor(let name): "entry \(name) is not a tensor (safetensors holds tensors only)"
        case .malformed(let why): "malformed checkpoint: \(why)"
        case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
        case .outputExists(let path): "\(path) exists; refusing to overwrite it"
        case .writeFailed(let path, let reason): "cannot write \(path): \(reason)"
        }
    }
}

/// What a conversion wrote.
public struct ConversionSummary: Sendable, Hashable {
    /// `pytorch-zip` or `pytorch-legacy`.
    public let format: String
    /// Tensors written.
    public let tensors: Int
    /// Bytes of the safetensors file.
    public let bytes: UInt64
}

/// Converts a PyTorch state dict to safetensors without executing anything: the scanner must pass the file, then
/// `TensorPickle` evaluates only containers and the tensor rebuilders, and the tensors' bytes are copied from the
/// storages (views gathered into row-major order). The output equals what `torch.load` followed by
/// `safetensors.torch.save_file` writes for the same tensors.
///
///     try SafetensorsConverter().convert(checkpoint: "model.pt", to: "model.safetensors")
public struct SafetensorsConverter: Sendable {
    public init() {}

    /// The output's tensor data may be at most this many times the checkpoint's size ...
    static let maximumExpansion: UInt64 = 64
    /// ... or this many bytes, whichever is larger.
    static let minimumOutputLimit: UInt64 = 64 << 20

    /// Converts the checkpoint at `path` (a regular file; a symbolic link is refused) into a new file at `output`.
    @discardableResult
    public func convert(checkpoint path: String, to output: String) throws -> ConversionSummary {
        let report: ScanReport
        do {
            report = try ModelScanner().scan(path: path)
        } catch let error as ScanError {
            switch error {
            case .unreadable(_, let reason): throw ConversionError.unreadable(path: path, reason: reason)
            case .symbolicLink: throw ConversionError.unreadable(path: path, reason: "a symbolic link")
            }
        }
        let refused = report.refused(by: .default)
        guard refused.isEmpty else { throw ConversionError.refusedByScan(refused) }
        let source: ByteSource
        do { source = try ByteSource(path: path) } catch {
            throw ConversionError.unreadable(path: path, reason: "cannot open")
        }
        let checkpoint = try TorchCheckpoint.read(source)
        // A view can repeat one stored value without bound (a zero stride), so a 1.5 KB checkpoint could expand
        // to terabytes: the output is capped at a multiple of the input, with a floor for small checkpoints.
        let (scaled, overflow) = source.size.multipliedReportingOverflow(by: Self.maximumExpansion)
        let limit = max(overflow ? UInt64.max : scaled, Self.minimumOutputLimit)
        let bytes = try SafetensorsWriter.write(
            checkpoint.tensors, storages: checkpoint.storages, to: output, maximumDataBytes: limit)
        return ConversionSummary(format: checkpoint.format, tensors: checkpoint.tensors.count, bytes: bytes)
    }
}

/// A PyTorch checkpoint's tensors and the bytes of the storages they view.
struct TorchCheckpoint {
    var format: String
    var tensors: [(name: String, tensor: TensorReference)]
    var storages: [String: ByteSource]

    /// A pickled 0x1950a86a20f9469cfc6c (protocol 2), as legacy files start, and protocol version 1001.
    static let legacyMagic: [UInt8] =
        [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]
    static let legacyProtocol: [UInt8] = [0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E]
    /// A deflated `data.pkl` is inflated in memory up to this size.
    static let maxPickleSize = 256 << 20

    static func read(_ source: ByteSource) throws -> TorchCheckpoint {
        let head = try source.read(at: 0, count: legacyMagic.count)
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return try readZip(source) }
        if head == legacyMagic { return try readLegacy(source) }
        throw ConversionError.notACheckpoint
    }

    private static func readZip(_ source: ByteSource) throws -> TorchCheckpoint {
        guard let archive = try ZipArchive.parse(source, findings: FindingCollector(file: "")) else {
            throw ConversionError.notACheckpoint
        }
        var members: [String: ZipArchive.Entry] = [:]
        for entry in archive.entries where !entry.isDirectory {
            guard members.updateValue(entry, forKey: entry.name) == nil else {
                throw ConversionError.malformed("duplicate member \(entry.name)")
            }
        }
        let pickles = members.keys.filter {
            let parts = $0.split(separator: "/", omittingEmptySubsequences: false)
            return parts.count == 2 && parts[1] == "data.pkl"
        }
        guard pickles.count == 1, let pickleName = pickles.first, let pickleEntry = members[pickleName] else {
            throw ConversionError.notACheckpoint
        }
        let prefix = String(pickleName.dropLast("data.pkl".count))
        if let order = members[prefix + "byteorder"] {
            let text = try contents(order, source: source, limit: 16)
            guard text == Array("little".utf8) else { throw ConversionError.malformed("a big-endian checkpoint") }
        }
        let pickle = try contents(pickleEntry, source: source, limit: maxPickleSize)
        let value = try TensorPickle(stream: ByteStream(source: ByteSource(bytes: pickle))).evaluate()
        let tensors = try flatten(value)
        var storages: [String: ByteSource] = [:]
        for reference in try distinctStorages(tensors) {
            guard let entry = members[prefix + "data/" + reference.key] else {
                throw ConversionError.malformed("storage \(reference.key) has no member")
            }
            guard entry.method == 0, !entry.isEncrypted else {
                throw ConversionError.malformed("storage \(reference.key) is compressed or encrypted")
            }
            guard entry.uncompressedSize == reference.byteCount, entry.compressedSize == entry.uncompressedSize else {
                throw ConversionError.malformed("storage \(reference.key) is not the size its tensors declare")
            }
            let data = ByteSource(slice: source, offset: entry.dataOffset, length: entry.uncompressedSize)
            guard data.size == entry.uncompressedSize else {
                throw ConversionError.malformed("storage \(reference.key) runs past the end of the file")
            }
            var crc = CRC32()
            var position: UInt64 = 0
            while position < data.size {
                let chunk = try data.read(at: position, count: 1 << 20)
                crc.update(chunk)
                position += UInt64(chunk.count)
            }
            guard crc.value == entry.crc else {
                throw ConversionError.malformed("storage \(reference.key) fails its CRC")
            }
            storages[reference.key] = data
        }
        return TorchCheckpoint(format: "pytorch-zip", tensors: tensors, storages: storages)
    }

    private static func contents(_ entry: ZipArchive.Entry, source: ByteSource, limit: Int) throws -> [UInt8] {
        guard entry.uncompressedSize <= UInt64(limit), entry.compressedSize <= UInt64(limit), !entry.isEncrypted else {
            throw ConversionError.malformed("member \(entry.name) is larger than the converter reads")
        }
        let raw = try source.read(at: entry.dataOffset, count: Int(entry.compressedSize))
        guard raw.count == Int(entry.compressedSize) else {
            throw ConversionError.malformed("member \(entry.name) is cut")
        }
        let bytes: [UInt8]
        switch entry.method {
        case 0: bytes = raw
        case 8:
            guard let inflated = try? Inflate.inflate(raw, limit: limit) else {
                throw ConversionError.malformed("member \(entry.name) does not inflate")
            }
            bytes = inflated
        default: throw ConversionError.malformed("member \(entry.name) uses an unknown compression method")
        }
        guard bytes.count == Int(entry.uncompressedSize), CRC32.checksum(bytes) == entry.crc else {
            throw ConversionError.malformed("member \(entry.name) fails its size or CRC")
        }
        return bytes
    }

    /// Magic, protocol version, system info, the object, the sorted storage keys, then each storage as an 8-byte
    /// element count followed by its bytes.
    private static func readLegacy(_ source: ByteSource) throws -> TorchCheckpoint {
        let stream = ByteStream(source: source)
        guard try stream.read(legacyMagic.count) == legacyMagic, try stream.read(legacyProtocol.count) == legacyProtocol
        else { throw ConversionError.notACheckpoint }
        let evaluator = TensorPickle(stream: stream)
        if case .dict(let info) = try evaluator.evaluate() {
            for case (.string("little_endian"), .bool(false)) in info.pairs {
                throw ConversionError.malformed("a big-endian checkpoint")
            }
        } else {
            throw ConversionError.malformed("the system information is not a dict")
        }
        let tensors = try flatten(try evaluator.evaluate())
        guard case .list(let keyList) = try evaluator.evaluate() else {
            throw ConversionError.malformed("the storage key list is missing")
        }
        var described: [String: StorageReference] = [:]
        for reference in try distinctStorages(tensors) { described[reference.key] = reference }
        var storages: [String: ByteSource] = [:]
        for item in keyList.items {
            guard case .string(let key) = item, storages[key] == nil else {
                throw ConversionError.malformed("a storage key that is not a string, or repeated")
            }
            let start = stream.position
            guard let count = try stream.readLE(8) else { throw ConversionError.malformed("storage \(key) is cut") }
            // torch.save writes only storages a tensor uses; another one's element size would be unknown.
            guard let reference = described[key] else {
                throw ConversionError.malformed("storage \(key) is used by no tensor")
            }
            guard count == reference.count, let bytes = reference.byteCount, try stream.skip(bytes) else {
                throw ConversionError.malformed("storage \(key) is not the size its tensors declare")
            }
            storages[key] = ByteSource(slice: source, offset: start + 8, length: bytes)
        }
        guard stream.atEnd else { throw ConversionError.malformed("bytes after the last storage") }
        for key in described.keys where storages[key] == nil {
            throw ConversionError.malformed("storage \(key) is missing")
        }
        return TorchCheckpoint(format: "pytorch-legacy", tensors: tensors, storages: storages)
    }

    /// The state dict's entries: string keys to tensors, nested dicts joined with ".".
    static func flatten(_ value: TensorPickleValue) throws -> [(name: String, tensor: TensorReference)] {
        var result: [(name: String, tensor: TensorReference)] = []
        var names = Set<String>()
        func walk(_ value: TensorPickleValue, _ name: String, _ depth: Int) throws {
            switch value {
            case .dict(let container):
                guard depth < 32 else { throw ConversionError.malformed("dicts nested deeper than 32") }
                for (key, item) in container.pairs {
                    guard case .string(let key) = key else { throw ConversionError.notATensor(name: name + "[?]") }
                    try walk(item, name.isEmpty ? key : name + "." + key, depth + 1)
                }
            case .tensor(let tensor) where !name.isEmpty:
                guard names.insert(name).inserted else {
                    throw ConversionError.malformed("tensor \(name) appears twice")
                }
                result.append((name, tensor))
            default:
                throw ConversionError.notATensor(name: name.isEmpty ? "(the checkpoint itself)" : name)
            }
        }
        try walk(value, "", 0)
        return result
    }

    /// Each storage the tensors view, once; a key described two different ways is refused.
    private static func distinctStorages(
        _ tensors: [(name: String, tensor: TensorReference)]
    ) throws
        -> [StorageReference]
    {
        var seen: [String: StorageReference] = [:]
        var order: [StorageReference] = []
        for (name, tensor) in tensors {
            let storage = tensor.storage
            if let previous = seen[storage.key] {
                guard previous.dtype == storage.dtype, previous.count == storage.count else {
                    throw ConversionError.malformed("storage \(storage.key) is described two ways")
                }
            } else {
                guard storage.byteCount != nil else {
                    throw ConversionError.malformed("storage \(storage.key) is too large")
                }
                seen[storage.key] = storage
                order.append(storage)
            }
            // The view must stay inside its storage.
            let available = storage.dtype == nil ? storage.count / UInt64(tensor.dtype.size) : storage.count
            guard let extent = tensor.extent, extent <= available, tensor.elementCount != nil else {
                throw ConversionError.malformed("tensor \(name) reaches outside its storage")
            }
        }
        return order
    }
}
