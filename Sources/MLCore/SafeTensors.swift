public import Foundation

/// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N,
/// N bytes of JSON mapping tensor names to {dtype, shape, data_offsets} (plus an optional string map
/// `__metadata__`), then the tensor bytes. Offsets are relative to the byte after the header.
///
/// Parsing is strict: every way a hostile file could make a reader over-allocate, read out of bounds or alias
/// memory is refused with its own error.
public enum SafeTensors {
    /// The largest header accepted (the reference implementation uses the same 100 MB limit).
    public static let maximumHeaderSize = 100_000_000

    /// A tensor as stored: its element type, shape and raw little-endian bytes.
    public struct StoredTensor: Sendable, Equatable {
        /// The safetensors dtype name, e.g. "F32".
        public var dtype: String
        /// The shape.
        public var shape: [Int]
        /// The raw little-endian bytes.
        public var bytes: Data
    }

    /// The parsed content of a safetensors buffer.
    public struct File: Sendable, Equatable {
        /// The tensors by name.
        public var tensors: [String: StoredTensor]
        /// The `__metadata__` strings.
        public var metadata: [String: String]

        /// The named tensor as Float32 values; fails if it is missing or not F32.
        public func float32(_ name: String) throws(MLError) -> Tensor {
            guard let stored = tensors[name] else {
                throw MLError(.invalidSafetensors, "tensor \(name) is missing")
            }
            return try SafeTensors.float32(stored, name: name)
        }

        /// Every tensor converted to Float32; fails if any is not F32.
        public func float32Tensors() throws(MLError) -> [String: Tensor] {
            var out: [String: Tensor] = [:]
            for (name, stored) in tensors {
                out[name] = try SafeTensors.float32(stored, name: name)
            }
            return out
        }
    }

    /// Bytes per element of the dtypes the format defines.
    static let dtypeSizes: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
        "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8,
    ]

    static func float32(_ stored: StoredTensor, name: String) throws(MLError) -> Tensor {
        guard stored.dtype == "F32" else {
            throw MLError(.invalidSafetensors, "tensor \(name) has dtype \(stored.dtype), expected F32")
        }
        let count = stored.bytes.count / 4
        var values = [Float](repeating: 0, count: count)
        stored.bytes.withUnsafeBytes { raw in
            for index in 0..<count {
                values[index] = Float(
                    bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))
            }
        }
        return Tensor(shape: stored.shape, scalars: values)
    }

    /// Serialises Float32 tensors (sorted by name, contiguous) with optional metadata.
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let tensor = tensors[name]!
            let size = tensor.count * 4
            header[name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + size]]
            offset += size
        }
        // Sorted keys make the bytes deterministic, so the file's digest is stable for signing.
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        // Padding with spaces aligns the tensor data to 8 bytes, as the reference writer does.
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for name in names {
            var bytes = [UInt8](repeating: 0, count: tensors[name]!.count * 4)
            for (index, value) in tensors[name]!.scalars.enumerated() {
                withUnsafeBytes(of: value.bitPattern.littleEndian) { source in
                    bytes[index * 4..<index * 4 + 4] = ArraySlice(source)
                }
            }
            out.append(contentsOf: bytes)
        }
        return out
    }

    /// Parses and validates a safetensors buffer.
    public static func decode(_ data: Data) throws(MLError) -> File {
        let buffer = [UInt8](data)
        guard buffer.count >= 8 else {
            throw MLError(.invalidSafetensors, "the file is shorter than its header length")
        }
        var length: UInt64 = 0
        for index in (0..<8).reversed() { length = length << 8 | UInt64(buffer[index]) }
        guard length <= UInt64(maximumHeaderSize) else {
            throw MLError(.invalidSafetensors, "the header length exceeds the 100 MB limit")
        }
        let headerLength = Int(length)
        guard headerLength >= 2 else { throw MLError(.invalidSafetensors, "the header is too short to be JSON") }
        guard 8 + headerLength <= buffer.count else {
            throw MLError(.invalidSafetensors, "the header length points past the end of the file")
        }
        let headerBytes = Data(buffer[8..<(8 + headerLength)])
        guard buffer[8] == UInt8(ascii: "{") else {
            throw MLError(.invalidSafetensors, "the header does not start with '{'")
        }
        guard let object = try? JSONSerialization.jsonObject(with: headerBytes, options: []),
            let header = object as? [String: Any]
        else {
            throw MLError(.invalidSafetensors, "the header is not a JSON object")
        }
        let dataStart = 8 + headerLength
        let dataSize = buffer.count - dataStart

        var metadata: [String: String] = [:]
        var entries: [(name: String, dtype: String, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let map = value as? [String: Any] else {
                    throw MLError(.invalidSafetensors, "__metadata__ is not an object")
                }
                for (key, item) in map {
                    guard let text = item as? String else {
                        throw MLError(.invalidSafetensors, "__metadata__ holds a value that is not a string")
                    }
                    metadata[key] = text
                }
                continue
            }
            guard let info = value as? [String: Any] else {
                throw MLError(.invalidSafetensors, "the entry for tensor \(name) is not an object")
            }
            guard let dtype = info["dtype"] as? String, let elementSize = dtypeSizes[dtype] else {
                throw MLError(.invalidSafetensors, "tensor \(name) has a missing or unknown dtype")
            }
            guard let shape = integers(info["shape"]), shape.allSatisfy({ $0 >= 0 }) else {
                throw MLError(.invalidSafetensors, "tensor \(name) has a missing or invalid shape")
            }
            guard let offsets = integers(info["data_offsets"]), offsets.count == 2, offsets[0] >= 0,
                offsets[0] <= offsets[1]
            else {
                throw MLError(.invalidSafetensors, "tensor \(name) has missing or invalid data_offsets")
            }
            guard offsets[1] <= dataSize else {
                throw MLError(.invalidSafetensors, "tensor \(name) extends past the end of the file")
            }
            var elements = 1
            for dimension in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
                guard !overflow else { throw MLError(.invalidSafetensors, "tensor \(name) has a shape that overflows") }
                elements = product
            }
            let (byteCount, overflow) = elements.multipliedReportingOverflow(by: elementSize)
            guard !overflow else { throw MLError(.invalidSafetensors, "tensor \(name) has a size that overflows") }
            guard byteCount == offsets[1] - offsets[0] else {
                throw MLError(
                    .invalidSafetensors, "tensor \(name) has data_offsets that do not match its shape and dtype")
            }
            entries.append((name, dtype, shape, offsets[0], offsets[1]))
        }
        // Contiguity: sorted by offset, the tensors must tile the data section exactly, from 0 to its end.
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var expected = 0
        for entry in entries {
            guard entry.begin == expected else {
                throw MLError(
                    .invalidSafetensors,
                    entry.begin < expected
                        ? "tensor \(entry.name) overlaps another tensor" : "tensor \(entry.name) leaves a gap before it"
                )
            }
            expected = entry.end
        }
        guard expected == dataSize else {
            throw MLError(.invalidSafetensors, "the tensor data does not end where the file ends")
        }
        var tensors: [String: StoredTensor] = [:]
        for entry in entries {
            tensors[entry.name] = StoredTensor(
                dtype: entry.dtype, shape: entry.shape,
                bytes: Data(buffer[(dataStart + entry.begin)..<(dataStart + entry.end)]))
        }
        return File(tensors: tensors, metadata: metadata)
    }

    /// A JSON array of non-fractional numbers as `Int`s (nil if anything else, or out of `Int` range).
    private static func integers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var out: [Int] = []
        for item in array {
            guard let number = item as? NSNumber else { return nil }
            let double = number.doubleValue
            guard double.isFinite, double == double.rounded(), abs(double) < 9.0e18 else { return nil }
            out.append(Int(number.int64Value))
        }
        return out
    }
}
