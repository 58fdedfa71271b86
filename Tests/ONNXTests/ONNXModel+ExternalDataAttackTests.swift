import Foundation
import ProtobufWire
import TestSupport
import Testing

@testable import ONNX

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Review 5's ONNX findings: memory amplification through repeated external ranges (O1), external data read where
/// the ONNX spec and onnxruntime read the inline values (O2), and a FIFO as a data file (O3).
@Suite struct ONNXExternalDataAttackTests {
    /// A tensor proto written field by field, so the tests can combine what a hostile exporter could.
    struct Proto {
        var name: String
        var type: ElementType = .float
        var dims: [Int64]
        var entries: [(String, String)] = []
        var dataLocation: Int64? = 1
        var raw: [UInt8]? = nil

        var writer: ProtobufWriter {
            var writer = ProtobufWriter()
            for dimension in dims { writer.int(1, dimension) }
            writer.int(2, Int64(type.rawValue))
            writer.string(8, name)
            if let raw { writer.bytes(9, raw) }
            for (key, value) in entries {
                var entry = ProtobufWriter()
                entry.string(1, key)
                entry.string(2, value)
                writer.message(13, entry)
            }
            if let dataLocation { writer.int(14, dataLocation) }
            return writer
        }
    }

    static func floats(_ values: [Float]) -> [UInt8] {
        var bytes: [UInt8] = []
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return bytes
    }

    /// `addRelu` with `extra` initializers beside its bias, written to `directory/model.onnx`.
    static func write(_ extra: [Proto], bias: Proto? = nil, to directory: URL) throws -> URL {
        var builder = ModelBuilder.addRelu
        if let bias { builder.initializers = [bias.writer] }
        builder.initializers += extra.map(\.writer)
        let file = directory.appendingPathComponent("model.onnx")
        try Data(builder.bytes).write(to: file)
        return file
    }

    static func refused(_ load: () throws -> ONNXModel, _ reason: String) -> Bool {
        do {
            _ = try load()
            return false
        } catch {
            guard case ONNXError.externalData(let text) = error else { return false }
            return text.contains(reason)
        }
    }

    /// Attack (O1): 32 UINT8 initializers each naming the whole 256 KiB data file decode to 32 × 2 MiB of Int64s
    /// from a model of a few KiB; overlapping (not identical) ranges and the in-memory (served) resolver too.
    @Test func repeatedOrOverlappingExternalRangesAreRefused() throws {
        let directory = try TemporaryDirectory()
        let size = 256 << 10
        try Data(repeating: 1, count: size).write(to: directory.url.appendingPathComponent("w.bin"))
        let repeated = (0..<32).map { index in
            Proto(
                name: "w\(index)", type: .uint8, dims: [Int64(size)],
                entries: [("location", "w.bin"), ("offset", "0"), ("length", "\(size)")])
        }
        let file = try Self.write(repeated, to: directory.url)
        #expect(Self.refused({ try ONNXModel(contentsOf: file) }, "overlaps"))

        let overlapping = [
            Proto(
                name: "a", type: .uint8, dims: [16],
                entries: [("location", "w.bin"), ("offset", "0")] + [("length", "16")]),
            Proto(
                name: "b", type: .uint8, dims: [16],
                entries: [("location", "w.bin"), ("offset", "8"), ("length", "16")]),
        ]
        let second = try Self.write(overlapping, to: directory.url)
        #expect(Self.refused({ try ONNXModel(contentsOf: second) }, "overlaps"))
        let files = ["model.onnx": try Data(contentsOf: second), "w.bin": Data(repeating: 1, count: size)]
        #expect(Self.refused({ try ONNXModel(file: "model.onnx", in: files) }, "overlaps"))

        // Adjacent ranges of one file are how exporters lay weights out: they load.
        let adjacent = [
            Proto(
                name: "a", type: .uint8, dims: [16],
                entries: [("location", "w.bin"), ("offset", "0"), ("length", "16")]),
            Proto(
                name: "b", type: .uint8, dims: [16],
                entries: [("location", "w.bin"), ("offset", "16"), ("length", "16")]),
        ]
        let third = try Self.write(adjacent, to: directory.url)
        let model = try ONNXModel(contentsOf: third)
        #expect(model.graph.initializers["b"]?.shape == [16])
    }

    /// Attack (O1): the decoded size is checked against the load's budget before anything is read or allocated.
    @Test func decodedInitializersOverTheBudgetAreRefusedBeforeAllocating() throws {
        let directory = try TemporaryDirectory()
        try Data(repeating: 1, count: 4096).write(to: directory.url.appendingPathComponent("w.bin"))
        let tensor = Proto(
            name: "w", type: .uint8, dims: [4096], entries: [("location", "w.bin"), ("length", "4096")])
        let file = try Self.write([tensor], to: directory.url)
        // 4096 UINT8 values decode to 32 KiB of Int64: over a 16 KiB budget, under the default one.
        #expect(Self.refused({ try ONNXModel(contentsOf: file, decodedByteLimit: 16 << 10) }, "budget"))
        #expect(try ONNXModel(contentsOf: file).graph.initializers["w"]?.shape == [4096])
    }

    /// Attack (O2): inline values 1.0 with an external_data entry naming 100.0 and data_location DEFAULT:
    /// onnxruntime adds 1, the vault used to add 100. Every mix of external and inline data is refused.
    @Test func externalDataFollowsDataLocationAndNeverMixesWithInlineValues() throws {
        let directory = try TemporaryDirectory()
        try Data(Self.floats([100, 100, 100])).write(to: directory.url.appendingPathComponent("w.bin"))
        try FileManager.default.createDirectory(
            at: directory.url.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data(Self.floats([100, 100, 100])).write(to: directory.url.appendingPathComponent("sub/w.bin"))
        let inline = Self.floats([1, 1, 1])
        let cases: [(Proto, String)] = [
            (
                Proto(name: "bias", dims: [3], entries: [("location", "w.bin")], dataLocation: nil, raw: inline),
                "EXTERNAL"
            ),
            (Proto(name: "bias", dims: [3], entries: [("location", "w.bin")], dataLocation: 0), "EXTERNAL"),
            (Proto(name: "bias", dims: [3], entries: [("location", "w.bin")], dataLocation: 1, raw: inline), "inline"),
            (Proto(name: "bias", dims: [3], entries: [], dataLocation: 1), "no location"),
            (Proto(name: "bias", dims: [3], entries: [("location", "sub\\w.bin")]), "backslash"),
            (Proto(name: "bias", dims: [3], entries: [("location", "w.bin"), ("location", "sub/w.bin")]), "twice"),
        ]
        for (bias, reason) in cases {
            let file = try Self.write([], bias: bias, to: directory.url)
            #expect(Self.refused({ try ONNXModel(contentsOf: file) }, reason), "\(reason)")
        }
        let good = try Self.write(
            [], bias: Proto(name: "bias", dims: [3], entries: [("location", "sub/w.bin")]), to: directory.url)
        #expect(
            try ONNXModel(contentsOf: good).graph.initializers["bias"] == Tensor(shape: [3], floats: [100, 100, 100]))
    }

    /// Attack (O3): the data file is a FIFO. Loading used to block in open() for ever (wedging `model push DIR`);
    /// it is refused at once. If the load blocks, the test opens the FIFO for writing to release it, and fails.
    @Test func aFIFOAsTheDataFileIsRefusedWithoutBlocking() async throws {
        let directory = try TemporaryDirectory()
        let fifo = directory.url.appendingPathComponent("w.bin")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        let file = try Self.write(
            [], bias: Proto(name: "bias", dims: [3], entries: [("location", "w.bin")]), to: directory.url)
        let load = Task.detached { Self.refused({ try ONNXModel(contentsOf: file) }, "not a regular file") }
        let release = Task.detached { () -> Bool in
            guard (try? await Task.sleep(for: .seconds(5))) != nil else { return false }
            let descriptor = open(fifo.path, O_WRONLY | O_NONBLOCK)
            if descriptor >= 0 { close(descriptor) }
            return true
        }
        let refused = await load.value
        release.cancel()
        #expect(await release.value == false, "the load blocked on the FIFO")
        #expect(refused)
    }

    /// Attack (O1, O2): other spellings of the same tricks. A hard link is the same file (its ranges overlap); a
    /// linked folder, a signed or spaced number, an overflowing range, a second `offset` and a string tensor with
    /// `raw_data` are refused with fixed text, never a trap.
    @Test func hardLinksLinkedFoldersAndOddNumbersAreRefused() throws {
        let directory = try TemporaryDirectory()
        let data = directory.url.appendingPathComponent("w.bin")
        try Data(Self.floats([100, 100, 100])).write(to: data)
        #expect(link(data.path, directory.url.appendingPathComponent("alias.bin").path) == 0)
        let twice = [Proto(name: "again", dims: [3], entries: [("location", "alias.bin")])]
        let linked = try Self.write(
            twice, bias: Proto(name: "bias", dims: [3], entries: [("location", "w.bin")]), to: directory.url)
        #expect(Self.refused({ try ONNXModel(contentsOf: linked) }, "overlaps"))

        try FileManager.default.createSymbolicLink(
            at: directory.url.appendingPathComponent("folder"), withDestinationURL: directory.url)
        let cases: [([(String, String)], String)] = [
            ([("location", "folder/w.bin")], "symbolic link"),
            ([("location", "w.bin"), ("offset", "+0")], "invalid offset or length"),
            ([("location", "w.bin"), ("length", " 12")], "invalid offset or length"),
            ([("location", "w.bin"), ("offset", "\(Int.max)"), ("length", "12")], "past the file's end"),
            ([("location", "w.bin"), ("offset", "0"), ("offset", "4")], "twice"),
            ([("location", "w.bin"), ("length", "8")], "does not match"),
        ]
        for (entries, reason) in cases {
            let file = try Self.write([], bias: Proto(name: "bias", dims: [3], entries: entries), to: directory.url)
            #expect(Self.refused({ try ONNXModel(contentsOf: file) }, reason), "\(reason)")
        }

        let strings = Proto(name: "s", type: .string, dims: [3], dataLocation: nil, raw: [])
        let file = try Self.write([strings], to: directory.url)
        #expect(throws: ONNXError.malformed("tensor 's' is a string tensor with raw_data")) {
            try ONNXModel(contentsOf: file)
        }
    }

    /// Attack (O3): the model file itself is a FIFO; it is refused at once rather than read for ever.
    @Test func aFIFOAsTheModelFileIsRefusedWithoutBlocking() async throws {
        let directory = try TemporaryDirectory()
        let fifo = directory.url.appendingPathComponent("model.onnx")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        let load = Task.detached { () -> ONNXError? in
            do {
                _ = try ONNXModel(contentsOf: fifo)
                return nil
            } catch {
                return error as? ONNXError
            }
        }
        let release = Task.detached { () -> Bool in
            guard (try? await Task.sleep(for: .seconds(5))) != nil else { return false }
            let descriptor = open(fifo.path, O_WRONLY | O_NONBLOCK)
            if descriptor >= 0 { close(descriptor) }
            return true
        }
        let error = await load.value
        release.cancel()
        #expect(await release.value == false, "the load blocked on the FIFO")
        #expect(error == .malformed("the model file is not a regular file"))
    }

    /// The budget's range bookkeeping: ranges claimed out of order stay disjoint, and a range inside, around or
    /// across any earlier one is refused, while the same range in another file is not.
    @Test func claimedRangesStayDisjointInAnyOrder() throws {
        let budget = LoadBudget(modelBytes: 1 << 20)
        let cost = LoadBudget.Cost(decoded: 64, raw: 8)
        let file = LoadBudget.File.path("w.bin")
        for start in [40, 0, 24, 8] {
            try budget.claim(start..<(start + 8), of: file, size: 64, cost: cost, tensor: "t")
        }
        for start in [4, 12, 20, 36, 44] {
            #expect(throws: ONNXError.externalData("tensor 'u' range overlaps another tensor's data")) {
                try budget.claim(start..<(start + 8), of: file, size: 64, cost: cost, tensor: "u")
            }
        }
        try budget.claim(16..<24, of: file, size: 64, cost: cost, tensor: "v")
        try budget.claim(32..<40, of: file, size: 64, cost: cost, tensor: "w")
        try budget.claim(0..<8, of: .path("other.bin"), size: 64, cost: cost, tensor: "x")
    }
}
