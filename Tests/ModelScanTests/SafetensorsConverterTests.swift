import Foundation
import TestSupport
import Testing

@testable import ModelScan

/// One state-dict entry for `stateDictPickle`: a tensor view of a storage, or something that is not a tensor.
private enum Entry {
    case tensor(storage: String, type: String, numel: UInt8, offset: UInt8, size: [UInt8], stride: [UInt8])
    /// An integer (what a training checkpoint's `epoch` is).
    case int(UInt8)
    /// A call of an arbitrary global with no arguments.
    case call(module: String, name: String)
}

/// A `torch.save`-shaped pickle of an OrderedDict of `entries`.
private func stateDictPickle(_ entries: [(String, Entry)], hooks: Bool = false) -> [UInt8] {
    var p = PickleAssembler(protocol: 2)
    p.global("collections", "OrderedDict")
    p.emptyTuple()
    p.reduce()
    p.mark()
    for (name, entry) in entries {
        p.binUnicode(name)
        switch entry {
        case .tensor(let storage, let type, let numel, let offset, let size, let stride):
            p.global("torch._utils", "_rebuild_tensor_v2")
            p.mark()
            p.mark()
            p.binUnicode("storage")
            p.global("torch", type)
            p.binUnicode(storage)
            p.binUnicode("cpu")
            p.binInt1(numel)
            p.tuple()
            p.binPersID()
            p.binInt1(offset)
            p.mark()
            for n in size { p.binInt1(n) }
            p.tuple()
            p.mark()
            for s in stride { p.binInt1(s) }
            p.tuple()
            p.raw([0x89])
            p.global("collections", "OrderedDict")
            p.emptyTuple()
            p.reduce()
            if hooks {
                p.binUnicode("hook")
                p.global("builtins", "print")
                p.setItem()
            }
            p.tuple()
            p.reduce()
        case .int(let value):
            p.binInt1(value)
        case .call(let module, let name):
            p.global(module, name)
            p.emptyTuple()
            p.reduce()
        }
    }
    p.setItems()
    p.stop()
    return p.bytes
}

/// A torch zip checkpoint (`archive/data.pkl`, `archive/data/KEY`, `archive/byteorder`).
private func checkpoint(
    _ pickle: [UInt8], storages: [(String, [UInt8])], tweak: (inout ZipWriter.Member) -> Void = { _ in }
) -> [UInt8] {
    var zip = ZipWriter()
    zip.add("archive/data.pkl", pickle)
    zip.add("archive/byteorder", Array("little".utf8))
    for (key, bytes) in storages {
        var member = ZipWriter.Member(name: "archive/data/" + key, data: bytes)
        tweak(&member)
        zip.members.append(member)
    }
    return zip.bytes
}

private func floats(_ values: [Float]) -> [UInt8] { values.flatMap { le(UInt64($0.bitPattern), 4) } }

/// Writes `bytes` as a checkpoint, converts it and returns the output (or throws the converter's error).
private func convert(_ bytes: [UInt8], in directory: TemporaryDirectory) throws -> [UInt8] {
    let input = directory.url.appendingPathComponent("model.pt").path
    let output = directory.url.appendingPathComponent("model.safetensors").path
    try? FileManager.default.removeItem(atPath: output)
    try Data(bytes).write(to: URL(fileURLWithPath: input))
    try SafetensorsConverter().convert(checkpoint: input, to: output)
    return Array(try Data(contentsOf: URL(fileURLWithPath: output)))
}

/// The safetensors header of `json` (padded with spaces to a multiple of 8) followed by `data`.
private func safetensors(_ json: String, _ data: [UInt8]) -> [UInt8] {
    var header = Array(json.utf8)
    while header.count % 8 != 0 { header.append(0x20) }
    return le(UInt64(header.count), 8) + header + data
}

@Suite struct SafetensorsConverterTests {
    @Test func viewsAreGatheredRowMajorAndLaidOutAsSafetensorsDoes() throws {
        let directory = try TemporaryDirectory()
        // `t` is the transpose of a 2x3 float storage; `s` shares that storage from element 4; `i` is int64.
        let pickle = stateDictPickle([
            ("t", .tensor(storage: "0", type: "FloatStorage", numel: 6, offset: 0, size: [3, 2], stride: [1, 3])),
            ("s", .tensor(storage: "0", type: "FloatStorage", numel: 6, offset: 4, size: [2], stride: [1])),
            ("i", .tensor(storage: "1", type: "LongStorage", numel: 2, offset: 0, size: [2], stride: [1])),
        ])
        let int64s = le(7, 8) + le(UInt64(bitPattern: -1), 8)
        let bytes = checkpoint(pickle, storages: [("0", floats([0, 1, 2, 3, 4, 5])), ("1", int64s)])
        let expected = safetensors(
            #"{"i":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},"#
                + #""s":{"dtype":"F32","shape":[2],"data_offsets":[16,24]},"#
                + #""t":{"dtype":"F32","shape":[3,2],"data_offsets":[24,48]}}"#,
            int64s + floats([4, 5]) + floats([0, 3, 1, 4, 2, 5]))
        #expect(try convert(bytes, in: directory) == expected)
    }

    /// Review finding: a zero-stride view repeats one stored value without bound, so a tiny checkpoint could
    /// expand to terabytes. The output is capped at 64 times the input (64 MiB at least) before anything is written.
    @Test func aViewThatExpandsOneValuePastTheLimitIsRefusedBeforeWriting() throws {
        let directory = try TemporaryDirectory()
        let pickle = stateDictPickle([
            (
                "w",
                .tensor(
                    storage: "0", type: "FloatStorage", numel: 1, offset: 0, size: [255, 255, 255, 255],
                    stride: [0, 0, 0, 0])
            )
        ])
        let bytes = checkpoint(pickle, storages: [("0", floats([1]))])
        #expect(throws: ConversionError.self) { try convert(bytes, in: directory) }
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.url.path)
        #expect(left == ["model.pt"], "no output and no temporary file: \(left)")
    }

    @Test func aMaliciousCheckpointIsRefusedByTheScanBeforeAnythingIsRead() throws {
        let directory = try TemporaryDirectory()
        let bytes = checkpoint(payload("os", "system"), storages: [])
        #expect {
            try convert(bytes, in: directory)
        } throws: { error in
            guard case .refusedByScan(let findings) = error as? ConversionError else { return false }
            return findings.contains { $0.subject == "os.system" }
        }
        #expect(!FileManager.default.fileExists(atPath: directory.url.appendingPathComponent("model.safetensors").path))
    }

    @Test func aGlobalTheScanOnlyReportsIsStillRefused() throws {
        // An unknown global is a high finding (review 4, finding 6): the scan before conversion refuses it.
        let directory = try TemporaryDirectory()
        let pickle = stateDictPickle([("x", .call(module: "mylib.layers", name: "Custom"))])
        #expect {
            try convert(checkpoint(pickle, storages: []), in: directory)
        } throws: { error in
            guard case .refusedByScan(let findings) = error as? ConversionError else { return false }
            return findings.contains { $0.subject == "mylib.layers.Custom" }
        }
    }

    @Test func backwardHooksAreRefused() throws {
        let directory = try TemporaryDirectory()
        let pickle = stateDictPickle(
            [("w", .tensor(storage: "0", type: "FloatStorage", numel: 1, offset: 0, size: [1], stride: [1]))],
            hooks: true)
        #expect(throws: ConversionError.self) {
            try convert(checkpoint(pickle, storages: [("0", floats([1]))]), in: directory)
        }
    }

    @Test func anEntryThatIsNotATensorIsRefusedByName() throws {
        let directory = try TemporaryDirectory()
        let pickle = stateDictPickle([
            ("w", .tensor(storage: "0", type: "FloatStorage", numel: 1, offset: 0, size: [1], stride: [1])),
            ("epoch", .int(3)),
        ])
        #expect(throws: ConversionError.notATensor(name: "epoch")) {
            try convert(checkpoint(pickle, storages: [("0", floats([1]))]), in: directory)
        }
    }

    @Test func aViewReachingPastItsStorageIsRefused() throws {
        let directory = try TemporaryDirectory()
        // numel 4 but the view reads elements 2...5; and a stride that walks off the end.
        for entry in [
            Entry.tensor(storage: "0", type: "FloatStorage", numel: 4, offset: 2, size: [4], stride: [1]),
            Entry.tensor(storage: "0", type: "FloatStorage", numel: 4, offset: 0, size: [2, 2], stride: [200, 1]),
        ] {
            #expect(throws: ConversionError.malformed("tensor w reaches outside its storage")) {
                try convert(
                    checkpoint(stateDictPickle([("w", entry)]), storages: [("0", floats([1, 2, 3, 4]))]), in: directory)
            }
        }
    }

    @Test func aStorageShorterThanDeclaredOrWithABadCRCIsRefused() throws {
        let directory = try TemporaryDirectory()
        let pickle = stateDictPickle([
            ("w", .tensor(storage: "0", type: "FloatStorage", numel: 4, offset: 0, size: [4], stride: [1]))
        ])
        #expect(throws: ConversionError.malformed("storage 0 is not the size its tensors declare")) {
            try convert(checkpoint(pickle, storages: [("0", floats([1, 2, 3]))]), in: directory)
        }
        #expect(throws: ConversionError.malformed("storage 0 fails its CRC")) {
            try convert(
                checkpoint(pickle, storages: [("0", floats([1, 2, 3, 4]))]) { $0.crc = 0x1234_5678 }, in: directory)
        }
        #expect(throws: ConversionError.malformed("storage 0 has no member")) {
            try convert(checkpoint(pickle, storages: []), in: directory)
        }
    }

    @Test func inputsThatAreNotCheckpointsAreRefused() throws {
        let directory = try TemporaryDirectory()
        // A bare pickle of a state dict (no storages anywhere), and a zip without data.pkl.
        #expect(throws: ConversionError.notACheckpoint) { try convert(torchStateDict(), in: directory) }
        var zip = ZipWriter()
        zip.add("weights.bin", [1, 2, 3])
        #expect(throws: ConversionError.notACheckpoint) { try convert(zip.bytes, in: directory) }
    }

    @Test func theOutputIsNeverOverwrittenAndALinkedInputIsRefused() throws {
        let directory = try TemporaryDirectory()
        let input = directory.url.appendingPathComponent("model.pt").path
        let output = directory.url.appendingPathComponent("existing.safetensors").path
        let pickle = stateDictPickle([
            ("w", .tensor(storage: "0", type: "FloatStorage", numel: 1, offset: 0, size: [1], stride: [1]))
        ])
        try Data(checkpoint(pickle, storages: [("0", floats([1]))])).write(to: URL(fileURLWithPath: input))
        try Data("keep".utf8).write(to: URL(fileURLWithPath: output))
        #expect(throws: ConversionError.outputExists(path: output)) {
            try SafetensorsConverter().convert(checkpoint: input, to: output)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == Data("keep".utf8))
        let link = directory.url.appendingPathComponent("link.pt").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: input)
        #expect(throws: ConversionError.self) {
            try SafetensorsConverter().convert(checkpoint: link, to: directory.url.appendingPathComponent("o").path)
        }
        // No temporary file is left behind.
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.url.path).sorted()
        #expect(left == ["existing.safetensors", "link.pt", "model.pt"])
    }

    @Test func namesAreEscapedAsSerdeJSONDoes() {
        #expect(SafetensorsWriter.jsonString("a\"b\\c\n\u{01}é") == #""a\"b\\c\n\u0001é""#)
    }
}
