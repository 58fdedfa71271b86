import Foundation
import Testing

@testable import ModelScan

/// A scipy sparse matrix's state is checked as scipy's `check_format(full_check=True)` would: scanner reviews 41 to 44
/// each reached scipy's unchecked sparsetools through a crafted `csr_matrix` (a heap write during loading), by a
/// different path each time. Now no path matters: a matrix whose index arrays the scanner did not read, or read and
/// found out of bounds, is high wherever it is built (`scipy.sparse-state`).
@Suite struct ModelScannerSparseStateTests {
    /// One array as protocol 5 writes it: `_frombuffer(bytearray, dtype(code), (count,), 'C')`.
    struct Array {
        var code: String
        var bytes: [UInt8]
        var count: Int

        static func int32(_ values: [Int32]) -> Array {
            Array(code: "i4", bytes: values.flatMap { le(UInt64(UInt32(bitPattern: $0)), 4) }, count: values.count)
        }
        static func int64(_ values: [Int64]) -> Array {
            Array(code: "i8", bytes: values.flatMap { le(UInt64(bitPattern: $0), 8) }, count: values.count)
        }
        static func float64(count: Int) -> Array {
            Array(code: "f8", bytes: [UInt8](repeating: 0, count: 8 * count), count: count)
        }
    }

    /// Writes `array` onto `p`; its bytearray is memoised as 9 and the array as 10 when `memoised`; the dtype's byte
    /// order is `order`.
    static func write(_ array: Array, to p: inout PickleAssembler, memoised: Bool = false, order: String = "<") {
        p.global("numpy._core.numeric", "_frombuffer")
        p.mark()
        p.raw([0x96] + le(UInt64(array.bytes.count), 8) + array.bytes)  // BYTEARRAY8
        if memoised { p.binPut(9) }
        p.dtype(array.code, order: order)
        p.binInt(Int32(array.count))
        p.tuple1()
        p.shortUnicode("C")
        p.tuple()
        p.reduce()
        if memoised { p.binPut(10) }
    }

    /// A protocol 5 pickle of a `format` matrix of `shape` with `fields` (in order) as its state.
    static func matrix(
        format: String = "csr", shape: (Int32, Int32) = (3, 3), _ fields: [(String, Array)],
        extra: (inout PickleAssembler) -> Void = { _ in }, order: String = "<", memoOf: String? = nil,
        memoState: Bool = false
    ) -> [UInt8] {
        var p = PickleAssembler(protocol: 5)
        p.global("scipy.sparse._\(format)", "\(format)_matrix")
        p.emptyTuple()
        p.newObj()
        p.emptyDict()
        if memoState { p.binPut(11) }
        p.mark()
        p.shortUnicode("_shape")
        p.binInt(shape.0)
        p.binInt(shape.1)
        p.tuple2()
        p.shortUnicode("maxprint")
        p.binInt1(50)
        for (name, array) in fields {
            p.shortUnicode(name)
            write(array, to: &p, memoised: name == memoOf, order: order)
        }
        p.setItems()
        p.build()
        extra(&p)
        p.stop()
        return p.bytes
    }

    /// The identity matrix of size 3 as scipy writes it.
    static let identity: [(String, Array)] = [
        ("indptr", .int32([0, 1, 2, 3])), ("indices", .int32([0, 1, 2])), ("data", .float64(count: 3)),
    ]

    @Test func aConsistentMatrixPasses() {
        let report = scan(Self.matrix(Self.identity))
        #expect(report.findings.isEmpty, "\(report.findings)")
        let wide = scan(
            Self.matrix(
                format: "csc", shape: (2, 4),
                [("indptr", .int64([0, 0, 1, 1, 2])), ("indices", .int64([1, 0])), ("data", .float64(count: 2))]))
        #expect(wide.findings.isEmpty, "\(wide.findings)")
    }

    /// Each of these made a matrix that sparsetools read or wrote out of bounds, or that scipy refuses to build.
    @Test(arguments: [
        ("an index past the columns", [("indptr", Array.int32([0, 1, 2, 3])), ("indices", .int32([0, 3, 2]))]),
        ("a negative index", [("indptr", Array.int32([0, 1, 2, 3])), ("indices", .int32([0, -1, 2]))]),
        ("indptr going back", [("indptr", Array.int32([0, 2, 1, 3])), ("indices", .int32([0, 1, 2]))]),
        ("indptr past the entries", [("indptr", Array.int32([0, 1, 2, 1 << 30])), ("indices", .int32([0, 1, 2]))]),
        ("indptr not from 0", [("indptr", Array.int32([1, 1, 2, 3])), ("indices", .int32([0, 1, 2]))]),
        ("indptr one short", [("indptr", Array.int32([0, 1, 3])), ("indices", .int32([0, 1, 2]))]),
        ("more indices than data", [("indptr", Array.int32([0, 1, 2, 3])), ("indices", .int32([0, 1, 2, 0]))]),
        ("float indices", [("indptr", Array.int32([0, 1, 2, 3])), ("indices", .float64(count: 3))]),
        (
            "16-bit indices",
            [
                ("indptr", Array.int32([0, 1, 2, 3])),
                ("indices", Array(code: "i2", bytes: [0, 0, 1, 0, 2, 0], count: 3)),
            ]
        ),
        ("no indices", [("indptr", Array.int32([0, 1, 2, 3]))]),
        // Review 45: fancy indexing sizes its output by indptr[-1] and copies every index (a heap write).
        ("indices past indptr's end", [("indptr", Array.int32([0, 1, 2, 2])), ("indices", .int32([0, 1, 2]))]),
    ])
    func anInconsistentMatrixIsHigh(_ what: String, _ indexArrays: [(String, Array)]) {
        let report = scan(Self.matrix(indexArrays + [("data", .float64(count: 3))]))
        #expect(report.has("scipy.sparse-state", "csr_matrix"), "\(what): \(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// The reviewers' joblib file of review 42's kind: `indices` [-1, 2^20] in a joblib dump (NumpyArrayWrapper).
    @Test func aCraftedJoblibMatrixIsHigh() {
        let file = [UInt8](
            Data(
                base64Encoded:
                    "gASVHwEAAAAAAACMEXNjaXB5LnNwYXJzZS5fY3NylIwKY3NyX21hdHJpeJSTlCmBlH2UKIwGX3NoYXBllEsDSwOGlIwIbWF4cHJp"
                    + "bnSUSzKMBmluZHB0cpSME2pvYmxpYi5udW1weV9waWNrbGWUjBFOdW1weUFycmF5V3JhcHBlcpSTlCmBlH2UKIwIc3ViY2xhc3OU"
                    + "jAVudW1weZSMB25kYXJyYXmUk5SMBXNoYXBllEsEhZSMBW9yZGVylIwBQ5SMBWR0eXBllGgPjAVkdHlwZZSTlIwCaTSUiYiHlFKU"
                    + "KEsDjAE8lE5OTkr/////Sv////9LAHSUYowKYWxsb3dfbW1hcJSIjBtudW1weV9hcnJheV9hbGlnbm1lbnRfYnl0ZXOUSxB1YgX/"
                    + "/////wAAAAABAAAAAgAAAAMAAACVLQAAAAAAAACMB2luZGljZXOUaAspgZR9lChoDmgRaBJLA4WUaBRoFWgWaBtoHohoH0sQdWIJ"
                    + "////////////AAAAAAAAEAACAAAAlUwAAAAAAAAAjARkYXRhlGgLKYGUfZQoaA5oEWgSSwOFlGgUaBVoFmgYjAJmOJSJiIeUUpQo"
                    + "SwNoHE5OTkr/////Sv////9LAHSUYmgeiGgfSxB1Yg7//////////////////wAAAAAAAPA/AAAAAAAA8D8AAAAAAADwP3ViLg=="
            )!)
        let report = ModelScanner().scan(bytes: file, name: "model.joblib")
        #expect(report.has("scipy.sparse-state", "csr_matrix"), "\(report.findings)")
    }

    /// Changing an index array after its matrix was checked: through the bytearray it views (memo 9), or the array
    /// itself (memo 10): `SETITEM` writes an item, `BUILD` is `ndarray.__setstate__`, which replaces the contents.
    @Test(arguments: [("SETITEM", UInt8(9)), ("SETITEM", 10), ("BUILD", 9), ("BUILD", 10)])
    func changingACheckedArrayIsHigh(_ opcode: String, _ memo: UInt8) {
        let bytes = Self.matrix(
            Self.identity,
            extra: { p in
                p.raw([0x30])  // POP the matrix
                p.binGet(memo)
                if opcode == "SETITEM" {
                    p.binInt1(4)
                    p.binInt1(255)
                    p.setItem()
                } else {
                    p.emptyDict()
                    p.build()
                }
            }, memoOf: "indices")
        let report = scan(bytes)
        #expect(report.has("numpy.array-mutated"), "\(opcode) on \(memo): \(report.findings)")
    }

    /// Scanner review 45: `indices` and `data` arrays over one bytearray (read back from the memo) passed the check,
    /// then `abs(m)` summed duplicates in place, writing data into `indices`, and `toarray()` wrote past its buffer
    /// (SIGSEGV under all four loaders). Each array of a checked matrix must be over bytes referenced once, and a
    /// memo read of a checked matrix's array, or of its state to build a second matrix, is high.
    @Test func arraysSharingBytesAreHigh() {
        var p = PickleAssembler(protocol: 5)
        p.global("scipy.sparse._csr", "csr_matrix")
        p.emptyTuple()
        p.newObj()
        p.emptyDict()
        p.mark()
        p.shortUnicode("_shape")
        p.binInt(1)
        p.binInt(1 << 20)
        p.tuple2()
        p.shortUnicode("indptr")
        Self.write(.int64([0, 2]), to: &p)
        // indices over the memoised bytearray 9, data over the same bytearray read back.
        p.shortUnicode("indices")
        Self.write(.int64([(1 << 20) - 1, (1 << 20) - 1]), to: &p, memoised: true)
        p.shortUnicode("data")
        p.global("numpy._core.numeric", "_frombuffer")
        p.mark()
        p.binGet(9)
        p.global("numpy", "dtype")
        p.shortUnicode("i8")
        p.raw([0x89])
        p.newTrue()
        p.tuple3()
        p.reduce()
        p.binInt1(2)
        p.tuple1()
        p.shortUnicode("C")
        p.tuple()
        p.reduce()
        p.setItems()
        p.build()
        p.stop()
        let report = scan(p.bytes)
        #expect(report.has("scipy.sparse-state", "csr_matrix"), "\(report.findings)")

        // One matrix referenced twice (a memo read of the matrix, not of its arrays) shares nothing else: it passes.
        var second = PickleAssembler(protocol: 5)
        second.raw([UInt8](Self.matrix(Self.identity).dropFirst(2).dropLast()))
        second.binPut(0)
        second.binGet(0)
        second.tuple2()
        second.stop()
        #expect(!scan(second.bytes).has("scipy.sparse-state"), "\(scan(second.bytes).findings)")
    }

    /// A memo read, after the check, of a checked matrix's array or its whole state is high at the read.
    @Test(arguments: [UInt8(9), 10, 11])
    func readingACheckedArrayBackIsHigh(_ memo: UInt8) {
        let bytes = Self.matrix(
            Self.identity,
            extra: { p in
                p.raw([0x30])
                p.binGet(memo)
            }, memoOf: "indices", memoState: true)
        let report = scan(bytes)
        #expect(report.has("scipy.sparse-state", "memo"), "memo \(memo): \(report.findings)")
    }

    /// A big-endian dtype reads the same bytes as other integers: before the matrix's check or after it.
    @Test func aBigEndianDtypeIsHigh() {
        let before = scan(Self.matrix(Self.identity, order: ">"))
        #expect(before.has("scipy.sparse-state"), "\(before.findings)")
        let after = Self.matrix(
            Self.identity,
            extra: { p in p.dtype("i4", order: ">") })
        #expect(scan(after).has("scipy.sparse-state", "numpy.dtype"), "\(scan(after).findings)")
    }

    @Test func coordinatesOutsideTheMatrixAreHigh() {
        let inside = scan(
            Self.matrix(
                format: "coo", [("row", .int32([0, 2])), ("col", .int32([1, 2])), ("data", .float64(count: 2))]))
        #expect(inside.findings.isEmpty, "\(inside.findings)")
        let outside = scan(
            Self.matrix(
                format: "coo", [("row", .int32([0, 2])), ("col", .int32([1, 3])), ("data", .float64(count: 2))]))
        #expect(outside.has("scipy.sparse-state", "coo_matrix"), "\(outside.findings)")
    }

    /// lil rows are lists of Python ints that scipy turns into a csr matrix without checking; an attribute scipy does
    /// not write may be anything.
    @Test func lilMatricesAndUnknownAttributesAreHigh() {
        let lil = scan(Self.matrix(format: "lil", [("rows", .int32([0])), ("data", .float64(count: 1))]))
        #expect(lil.has("scipy.sparse-state", "lil_matrix"), "\(lil.findings)")
        let extra = scan(Self.matrix(Self.identity + [("format_hint", .int32([0]))]))
        #expect(extra.has("scipy.sparse-state"), "\(extra.findings)")
    }

    /// The facts of a payload do not depend on how its chunks fall.
    @Test func byteFactsAreTheSameForAnyChunking() {
        let values: [Int64] = (0..<257).map { $0 % 7 == 0 ? -Int64($0) * 1_000_003 : Int64($0) * 3 }
        let bytes = values.flatMap { le(UInt64(bitPattern: $0), 8) }
        var whole = ByteFactsBuilder(length: UInt64(bytes.count))
        bytes.withUnsafeBytes { whole.add($0) }
        let expected = whole.finish()
        #expect(expected.run(width: 8)?.minimum == values.min() && expected.run(width: 8)?.maximum == values.max())
        #expect(expected.run(width: 8)?.nondecreasing == false && expected.run(width: 8)?.count == 257)
        #expect(expected.run(width: 4)?.count == 514)
        for chunk in [1, 3, 5, 7, 13] {
            var builder = ByteFactsBuilder(length: UInt64(bytes.count))
            var start = 0
            while start < bytes.count {
                let end = min(start + chunk, bytes.count)
                bytes[start..<end].withUnsafeBytes { builder.add($0) }
                start = end
            }
            let facts = builder.finish()
            #expect(
                facts.run(width: 4) == expected.run(width: 4) && facts.run(width: 8) == expected.run(width: 8),
                "chunks of \(chunk)")
        }
        // Read back later from where the payload lies, as the scanner does, with 3 bytes before it.
        let lazy = ByteFacts(length: UInt64(bytes.count), source: ByteSource(bytes: [1, 2, 3] + bytes), offset: 3)
        #expect(lazy.run(width: 4) == expected.run(width: 4) && lazy.run(width: 8) == expected.run(width: 8))
        let sorted = (0..<101).map { Int32($0) }.flatMap { le(UInt64(UInt32($0)), 4) }
        var builder = ByteFactsBuilder(length: UInt64(sorted.count))
        sorted.withUnsafeBytes { builder.add($0) }
        let facts = builder.finish()
        #expect(
            facts.run(width: 4)?.nondecreasing == true && facts.run(width: 4)?.first == 0
                && facts.run(width: 4)?.last == 100)
        #expect(facts.run(width: 8) == nil)
    }
}
