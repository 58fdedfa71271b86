/// What the scanner learned of a bytes payload (a `BINBYTES`, a `BYTEARRAY8`, a joblib array's bytes) while reading
/// it: its length and, for a payload at most `maxVisited` long, the range and order of the integers it holds read as
/// little-endian int32 and int64. That is enough to check a scipy sparse matrix's index arrays as scipy's
/// `check_format` does, without keeping them.
///
/// A class: a `PickleValue` holding it stays one pointer wide, and the facts never change once read.
final class ByteFacts: Sendable {
    /// The payload's length in bytes.
    let length: UInt64
    /// The payload read as little-endian int32, when it was visited and its length is a multiple of 4.
    let int32: IntegerRun?
    /// The payload read as little-endian int64, when it was visited and its length is a multiple of 8.
    let int64: IntegerRun?

    /// Longest payload whose integers are visited: an index array past it (64 Mi int32 entries) is not checked, so a
    /// sparse matrix holding it is high.
    static let maxVisited: UInt64 = 256 << 20

    init(length: UInt64, int32: IntegerRun?, int64: IntegerRun?) {
        self.length = length
        self.int32 = int32
        self.int64 = int64
    }

    /// The integers read with `width` bytes each (4 or 8), or nil.
    func run(width: UInt64) -> IntegerRun? {
        switch width {
        case 4: int32
        case 8: int64
        default: nil
        }
    }
}

/// The range and order of a sequence of integers.
struct IntegerRun: Sendable, Equatable {
    var count: UInt64 = 0
    var minimum: Int64 = .max
    var maximum: Int64 = .min
    var first: Int64 = 0
    var last: Int64 = 0
    /// Whether every integer is at least the one before it.
    var nondecreasing = true

    mutating func add(_ value: Int64) {
        if count == 0 {
            first = value
        } else if value < last {
            nondecreasing = false
        }
        last = value
        minimum = Swift.min(minimum, value)
        maximum = Swift.max(maximum, value)
        count += 1
    }
}

/// Builds `ByteFacts` from a payload handed over in chunks of any size.
struct ByteFactsBuilder {
    private let length: UInt64
    private let visits: Bool
    private var int32 = IntegerRun()
    private var int64 = IntegerRun()
    /// Bytes of an integer that the previous chunk ended inside, per width.
    private var carry32: [UInt8] = []
    private var carry64: [UInt8] = []

    /// A builder for a payload of `length` bytes; `visitIntegers` false (or a payload past `maxVisited`) keeps
    /// the length only.
    init(length: UInt64, visitIntegers: Bool = true) {
        self.length = length
        visits = visitIntegers && length <= ByteFacts.maxVisited
        carry32.reserveCapacity(4)
        carry64.reserveCapacity(8)
    }

    /// Whether the builder reads the chunks (otherwise they may be skipped).
    var wantsBytes: Bool { visits }

    mutating func add(_ chunk: UnsafeRawBufferPointer) {
        guard visits else { return }
        Self.add(chunk, as: Int32.self, carry: &carry32, into: &int32)
        Self.add(chunk, as: Int64.self, carry: &carry64, into: &int64)
    }

    private static func add<T: FixedWidthInteger & SignedInteger>(
        _ chunk: UnsafeRawBufferPointer, as type: T.Type, carry: inout [UInt8], into run: inout IntegerRun
    ) {
        let width = MemoryLayout<T>.size
        var start = 0
        if !carry.isEmpty {
            let take = Swift.min(width - carry.count, chunk.count)
            carry.append(contentsOf: chunk[0..<take])
            start = take
            guard carry.count == width else { return }
            let value = carry.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(as: T.self)) }
            run.add(Int64(value))
            carry.removeAll(keepingCapacity: true)
        }
        var index = start
        while index + width <= chunk.count {
            run.add(Int64(T(littleEndian: chunk.loadUnaligned(fromByteOffset: index, as: T.self))))
            index += width
        }
        if index < chunk.count { carry.append(contentsOf: chunk[index...]) }
    }

    /// The facts: integer runs only for a visited payload whose length is a multiple of their width.
    func finish() -> ByteFacts {
        guard visits else { return ByteFacts(length: length, int32: nil, int64: nil) }
        return ByteFacts(
            length: length,
            int32: length % 4 == 0 && int32.count == length / 4 ? int32 : nil,
            int64: length % 8 == 0 && int64.count == length / 8 ? int64 : nil)
    }
}
