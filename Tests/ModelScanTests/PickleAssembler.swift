import Foundation

@testable import ModelScan

/// Writes pickles opcode by opcode, so the corpus needs no Python and can hold what no pickler writes.
struct PickleAssembler {
    private(set) var bytes: [UInt8] = []

    init(protocol version: UInt8? = nil) {
        if let version { bytes += [0x80, version] }
    }

    mutating func raw(_ more: [UInt8]) { bytes += more }
    mutating func op(_ ascii: Character) { bytes.append(ascii.asciiValue!) }
    mutating func line(_ text: String) { bytes += Array(text.utf8) + [0x0A] }

    mutating func mark() { op("(") }
    mutating func stop() { op(".") }
    mutating func none() { op("N") }
    mutating func reduce() { op("R") }
    mutating func build() { op("b") }
    mutating func tuple() { op("t") }
    mutating func emptyDict() { op("}") }
    mutating func emptyTuple() { op(")") }
    mutating func setItems() { op("u") }
    mutating func setItem() { op("s") }
    mutating func tuple1() { bytes.append(0x85) }
    mutating func tuple2() { bytes.append(0x86) }
    mutating func tuple3() { bytes.append(0x87) }
    mutating func newTrue() { bytes.append(0x88) }
    mutating func newObj() { bytes.append(0x81) }
    mutating func stackGlobal() { bytes.append(0x93) }
    mutating func memoize() { bytes.append(0x94) }
    mutating func binPersID() { op("Q") }

    /// GLOBAL with text lines (protocol 0).
    mutating func global(_ module: String, _ name: String) {
        op("c")
        line(module)
        line(name)
    }

    mutating func inst(_ module: String, _ name: String) {
        op("i")
        line(module)
        line(name)
    }

    mutating func shortUnicode(_ text: String) {
        let utf8 = Array(text.utf8)
        bytes += [0x8C, UInt8(utf8.count)] + utf8
    }

    mutating func binUnicode(_ text: String) {
        let utf8 = Array(text.utf8)
        op("X")
        bytes += le(UInt64(utf8.count), 4) + utf8
    }

    /// Protocol 0 `STRING` with its argument written verbatim (quotes and escapes included).
    mutating func string(_ quoted: String) {
        op("S")
        line(quoted)
    }

    mutating func unicodeLine(_ text: String) {
        op("V")
        line(text)
    }

    mutating func binInt1(_ value: UInt8) { bytes += [0x4B, value] }
    mutating func binInt(_ value: Int32) { bytes += [0x4A] + le(UInt64(UInt32(bitPattern: value)), 4) }
    mutating func binPut(_ key: UInt8) { bytes += [0x71, key] }
    mutating func binGet(_ key: UInt8) { bytes += [0x68, key] }
    mutating func ext1(_ code: UInt8) { bytes += [0x82, code] }
    mutating func long1(_ value: [UInt8]) { bytes += [0x8A, UInt8(value.count)] + value }

    mutating func binBytes(count: Int, fill: UInt8 = 0x2E) {
        op("B")
        bytes += le(UInt64(count), 4) + [UInt8](repeating: fill, count: count)
    }

    /// `numpy.dtype(code, False, True)` given the state numpy writes (version 3), with `order`, item size, alignment
    /// and flags as asked.
    mutating func dtype(
        _ code: String, order: String = "<", itemSize: Int32 = -1, alignment: Int32 = -1, flags: Int32 = 0
    ) {
        global("numpy", "dtype")
        shortUnicode(code)
        bytes.append(0x89)  // NEWFALSE
        newTrue()
        tuple3()
        reduce()
        mark()
        binInt1(3)
        shortUnicode(order)
        none()
        none()
        none()
        binInt(itemSize)
        binInt(alignment)
        binInt(flags)
        tuple()
        build()
    }

    /// FRAME announcing `length` bytes (whether or not that many follow).
    mutating func frame(_ length: UInt64) { bytes += [0x95] + le(length, 8) }

    /// `callable(arg)` for a one-string-argument call: the classic payload.
    mutating func call(_ module: String, _ name: String, _ argument: String) {
        global(module, name)
        binUnicode(argument)
        tuple1()
        reduce()
    }
}

func le(_ value: UInt64, _ width: Int) -> [UInt8] {
    (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
}

/// `module.name(argument)` as a complete pickle of `version`.
func payload(_ module: String, _ name: String, protocol version: UInt8 = 2, argument: String = "id") -> [UInt8] {
    var p = PickleAssembler(protocol: version)
    p.call(module, name, argument)
    p.stop()
    return p.bytes
}

/// A benign PyTorch-style state dict: OrderedDict of one tensor rebuilt from a persistent storage id.
func torchStateDict(storageKey: String = "0") -> [UInt8] {
    var p = PickleAssembler(protocol: 2)
    p.global("collections", "OrderedDict")
    p.emptyTuple()
    p.reduce()
    p.binPut(0)
    p.binUnicode("weight")
    p.global("torch._utils", "_rebuild_tensor_v2")
    p.mark()
    p.mark()
    p.binUnicode("storage")
    p.global("torch", "FloatStorage")
    p.binUnicode(storageKey)
    p.binUnicode("cpu")
    p.binInt1(4)
    p.tuple()
    p.binPersID()
    p.binInt1(0)
    p.binInt1(2)
    p.binInt1(2)
    p.tuple2()
    p.binInt1(2)
    p.binInt1(1)
    p.tuple2()
    p.raw([0x89])
    p.global("collections", "OrderedDict")
    p.emptyTuple()
    p.reduce()
    p.tuple()
    p.reduce()
    p.setItem()
    p.stop()
    return p.bytes
}

/// The bytes of a base64 fixture (a reviewer's file kept in a test).
func base64Bytes(_ base64: String) -> [UInt8] { [UInt8](Data(base64Encoded: base64)!) }

/// Scans `bytes` in memory with the default scanner.
func scan(_ bytes: [UInt8], deep: Bool = false) -> ScanReport {
    ModelScanner(deep: deep).scan(bytes: bytes, name: "corpus")
}

extension ScanReport {
    /// Whether some finding has `rule` (and, if given, mentions `subject`).
    func has(_ rule: String, _ subject: String? = nil) -> Bool {
        findings.contains { $0.rule == rule && (subject.map($0.subject.contains) ?? true) }
    }

    var isRefusedByDefault: Bool { !refused(by: .default).isEmpty }
}
