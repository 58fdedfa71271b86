import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `write(2)`, named apart from the buffer's own `write`.
private func posixWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}

/// Writes tensors as a safetensors file laid out exactly as the safetensors library lays it out: tensors ordered by
/// dtype rank (highest first) then name, the JSON header compact and padded with spaces to a multiple of 8, no
/// `__metadata__`. The file is written under a temporary name next to the output and renamed into place.
enum SafetensorsWriter {
    static let bufferSize = 1 << 20

    static func write(
        _ tensors: [(name: String, tensor: TensorReference)], storages: [String: ByteSource], to output: String,
        maximumDataBytes: UInt64 = .max
    ) throws -> UInt64 {
        let ordered = tensors.sorted { a, b in
            if a.tensor.dtype.layoutRank != b.tensor.dtype.layoutRank {
                return a.tensor.dtype.layoutRank > b.tensor.dtype.layoutRank
            }
            return Array(a.name.utf8).lexicographicallyPrecedes(Array(b.name.utf8))
        }
        var header = "{"
        var position: UInt64 = 0
        for (index, entry) in ordered.enumerated() {
            guard let count = entry.tensor.elementCount else {
                throw ConversionError.malformed("tensor \(entry.name) is too large")
            }
            let (bytes, o1) = count.multipliedReportingOverflow(by: UInt64(entry.tensor.dtype.size))
            let (end, o2) = position.addingReportingOverflow(bytes)
            guard !o1, !o2 else { throw ConversionError.malformed("tensor \(entry.name) is too large") }
            if index > 0 { header += "," }
            header += jsonString(entry.name) + ":{\"dtype\":\"\(entry.tensor.dtype.rawValue)\",\"shape\":["
            header += entry.tensor.shape.map(String.init).joined(separator: ",")
            header += "],\"data_offsets\":[\(position),\(end)]}"
            position = end
        }
        header += "}"
        guard position <= maximumDataBytes else {
            throw ConversionError.malformed(
                "the tensors would expand to \(position) bytes, past the limit of \(maximumDataBytes) for this checkpoint"
            )
        }
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }

        var status = stat()
        if lstat(output, &status) == 0 { throw ConversionError.outputExists(path: output) }
        let directory = (output as NSString).deletingLastPathComponent
        let temporary =
            (directory.isEmpty ? "." : directory)
            + "/.\((output as NSString).lastPathComponent).\(UUID().uuidString).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ConversionError.writeFailed(path: output, reason: String(cString: strerror(errno)))
        }
        var renamed = false
        defer {
            close(descriptor)
            if !renamed { unlink(temporary) }
        }
        let sink = Sink(descriptor: descriptor, path: output)
        var length = UInt64(headerBytes.count)
        try sink.write((0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) })
        try sink.write(headerBytes)
        for entry in ordered {
            guard let storage = storages[entry.tensor.storage.key] else {
                throw ConversionError.malformed("storage \(entry.tensor.storage.key) is missing")
            }
            try copy(entry.tensor, from: storage, to: sink)
        }
        try sink.flush()
        length = 8 + length + position
        guard fsync(descriptor) == 0 else {
            throw ConversionError.writeFailed(path: output, reason: String(cString: strerror(errno)))
        }
        // link(2) fails if the output appeared meanwhile, where rename(2) would replace it.
        guard link(temporary, output) == 0 else {
            if errno == EEXIST { throw ConversionError.outputExists(path: output) }
            throw ConversionError.writeFailed(path: output, reason: String(cString: strerror(errno)))
        }
        renamed = true
        unlink(temporary)
        return length
    }

    /// The tensor's elements in row-major order: one copy when contiguous, else gathered run by run.
    private static func copy(_ tensor: TensorReference, from storage: ByteSource, to sink: Sink) throws {
        let size = UInt64(tensor.dtype.size)
        guard let count = tensor.elementCount, count > 0 else { return }
        if tensor.isContiguous {
            var position = tensor.offset * size
            var left = count * size
            while left > 0 {
                let chunk = try storage.read(at: position, count: Int(min(left, UInt64(bufferSize))))
                guard !chunk.isEmpty else { throw ConversionError.malformed("a storage ends early") }
                try sink.write(chunk)
                position += UInt64(chunk.count)
                left -= UInt64(chunk.count)
            }
            return
        }
        // The innermost dimension is one run when its stride is 1; the other dimensions are walked as an odometer.
        let rank = tensor.shape.count
        let innerRun = tensor.stride[rank - 1] == 1
        let outer = innerRun ? rank - 1 : rank
        let runBytes = Int((innerRun ? tensor.shape[rank - 1] : 1) * size)
        let cache = BlockCache(source: storage)
        var index = [UInt64](repeating: 0, count: outer)
        while true {
            var element = tensor.offset
            for dimension in 0..<outer { element += index[dimension] * tensor.stride[dimension] }
            try sink.write(try cache.read(at: element * size, count: runBytes))
            var dimension = outer - 1
            while dimension >= 0 {
                index[dimension] += 1
                if index[dimension] < tensor.shape[dimension] { break }
                index[dimension] = 0
                dimension -= 1
            }
            if dimension < 0 { return }
        }
    }

    /// JSON string as serde_json writes it: `"` and `\` escaped, control characters as short escapes or `\u00XX`.
    static func jsonString(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{08}": result += "\\b"
            case "\u{0C}": result += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }

    /// A write buffer of `bufferSize` bytes over a file descriptor.
    private final class Sink {
        let descriptor: Int32
        let path: String
        var buffer: [UInt8] = []

        init(descriptor: Int32, path: String) {
            self.descriptor = descriptor
            self.path = path
            buffer.reserveCapacity(SafetensorsWriter.bufferSize)
        }

        func write(_ bytes: [UInt8]) throws {
            if buffer.count + bytes.count > SafetensorsWriter.bufferSize { try flush() }
            if bytes.count >= SafetensorsWriter.bufferSize {
                try writeAll(bytes)
            } else {
                buffer += bytes
            }
        }

        func flush() throws {
            try writeAll(buffer)
            buffer.removeAll(keepingCapacity: true)
        }

        private func writeAll(_ bytes: [UInt8]) throws {
            var written = 0
            while written < bytes.count {
                let result = bytes.withUnsafeBytes {
                    posixWrite(descriptor, $0.baseAddress! + written, bytes.count - written)
                }
                if result < 0 {
                    if errno == EINTR { continue }
                    throw ConversionError.writeFailed(path: path, reason: String(cString: strerror(errno)))
                }
                written += result
            }
        }
    }

    /// Reads of a strided view go through one 1 MiB block, so small runs do not each cost a system call.
    private final class BlockCache {
        let source: ByteSource
        var start: UInt64 = 0
        var block: [UInt8] = []

        init(source: ByteSource) { self.source = source }

        func read(at offset: UInt64, count: Int) throws -> [UInt8] {
            if offset < start || offset + UInt64(count) > start + UInt64(block.count) {
                start = offset
                block = try source.read(at: offset, count: max(count, SafetensorsWriter.bufferSize))
                guard block.count >= count else { throw ConversionError.malformed("a storage ends early") }
            }
            let from = Int(offset - start)
            return Array(block[from..<from + count])
        }
    }
}
