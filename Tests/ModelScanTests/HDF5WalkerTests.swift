import Foundation
import TestSupport
import Testing

@testable import ModelScan

/// A minimal HDF5 file as libhdf5 writes with its default (earliest) format: a version 0 superblock and a version 1
/// root object header holding fixed-length string attributes; `extra` messages are appended raw.
func hdf5File(attributes: [(String, [UInt8])], extra: [[UInt8]] = []) -> [UInt8] {
    func padded(_ bytes: [UInt8]) -> [UInt8] { bytes + [UInt8](repeating: 0, count: (8 - bytes.count % 8) % 8) }
    var messages: [[UInt8]] = []
    for (name, value) in attributes {
        let nameBytes = Array(name.utf8) + [0]
        let datatype: [UInt8] = [0x13, 0, 0, 0] + le(UInt64(value.count), 4)
        let dataspace: [UInt8] = [1, 0, 0, 0, 0, 0, 0, 0]
        let body =
            [1, 0] + le(UInt64(nameBytes.count), 2) + le(8, 2) + le(8, 2) + padded(nameBytes) + datatype + dataspace
            + padded(value)
        messages.append(le(0x0C, 2) + le(UInt64(body.count), 2) + [0, 0, 0, 0] + body)
    }
    messages += extra
    let block = messages.flatMap { $0 }
    let headerAddress: UInt64 = 96
    let header = [1, 0] + le(UInt64(messages.count), 2) + le(1, 4) + le(UInt64(block.count), 4) + [0, 0, 0, 0] + block
    let size = headerAddress + UInt64(header.count)
    var file: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0, 0, 8, 8, 0]
    file += le(4, 2) + le(16, 2) + le(0, 4)
    file += le(0, 8) + le(UInt64.max, 8) + le(size, 8) + le(UInt64.max, 8)
    file += le(0, 8) + le(headerAddress, 8) + le(0, 4) + le(0, 4) + [UInt8](repeating: 0, count: 16)
    return file + header
}

/// A version 1 continuation message pointing at `address` for `length` bytes.
func hdf5Continuation(_ address: UInt64, _ length: UInt64) -> [UInt8] {
    le(0x10, 2) + le(16, 2) + [0, 0, 0, 0] + le(address, 8) + le(length, 8)
}

private let lambdaConfig = Array(
    #"{"class_name": "Sequential", "config": {"layers": [{"class_name": "Lambda", "config": {"function": ["4wEAAAAA", null, null]}}]}}"#
        .utf8)

@Suite struct HDF5WalkerTests {
    @Test func theRootGroupsModelConfigIsReadAndItsLambdaFlagged() throws {
        let bytes = hdf5File(attributes: [("keras_version", Array("2.15.0".utf8)), ("model_config", lambdaConfig)])
        var walker = HDF5Walker(source: ByteSource(bytes: bytes))
        let attributes = try walker.rootStringAttributes()
        #expect(attributes.map(\.name) == ["keras_version", "model_config"])
        #expect(attributes.last?.value == lambdaConfig)
        let report = scan(bytes)
        #expect(report.formats.contains("keras-h5"))
        #expect(report.has("keras.lambda"))
        #expect(report.findings.first { $0.rule == "keras.lambda" }?.member == "model_config")
        #expect(report.isRefusedByDefault)
    }

    @Test func aLambdaHiddenFromAByteSearchIsStillFound() {
        // JSON escapes (`\u004c` is `L`) defeat a search for the raw bytes `"Lambda"`; the walker parses the JSON.
        let escaped = Array(#"{"config": {"layers": [{"class_name": "\u004cambda"}]}}"#.utf8)
        let report = scan(hdf5File(attributes: [("model_config", escaped)]))
        #expect(report.has("keras.lambda"))
    }

    @Test func modulesOutsideKerasAndUnsafeDeserialisationAreFlagged() {
        let config = Array(
            #"{"class_name": "Functional", "config": {"layers": [{"class_name": "Custom", "module": "evil.layers", "registered_name": "evil>Custom"}]}}"#
                .utf8)
        let report = scan(hdf5File(attributes: [("model_config", config)]))
        #expect(report.has("keras.module", "evil.layers"))
        #expect(report.isRefusedByDefault)
    }

    @Test func aCleanConfigHasNoFinding() {
        let config = Array(#"{"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense"}]}}"#.utf8)
        let report = scan(hdf5File(attributes: [("model_config", config)]))
        #expect(report.findings.isEmpty, "\(report.findings)")
    }

    @Test func loopsTruncationAndWildAddressesAreFindingsNotCrashes() {
        // A continuation pointing back at its own block; one pointing past the end; a file cut in its header.
        let looping = hdf5File(attributes: [], extra: [hdf5Continuation(112, 24)])
        let wild = hdf5File(attributes: [], extra: [hdf5Continuation(1 << 60, 24)])
        let cut = Array(hdf5File(attributes: [("model_config", lambdaConfig)]).prefix(140))
        for bytes in [looping, wild, cut] {
            let report = scan(bytes)
            #expect(report.has("hdf5.unreadable"), "\(report.findings)")
        }
        // Cut after the Lambda bytes: the walker fails, the byte search still flags it.
        let lambdaCut = hdf5File(attributes: [("model_config", lambdaConfig)]).dropLast(4)
        #expect(scan(Array(lambdaCut)).has("keras.lambda"))
    }

    /// Files h5py writes (fixed and variable-length strings, the earliest and the latest format), as legacy Keras
    /// saving lays out `model_config`.
    @Test func filesWrittenByH5pyAreWalked() throws {
        guard Interop.pythonCanImport("h5py") else { try Interop.skipOrFail("python3 with h5py") }
        let directory = try TemporaryDirectory()
        let script = """
            import sys, os, json, h5py, numpy as np
            d = sys.argv[1]
            lam = {"class_name": "Sequential", "config": {"layers": [
                {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4]}},
                {"class_name": "Lambda", "config": {"function": ["4wEAAAAAAAAA", None, None], "module": "keras.layers"}}]}}
            clean = {"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense", "config": {"units": 2}}]}}
            for libver in ("earliest", "latest"):
                for name, config in (("lambda", lam), ("clean", clean)):
                    for kind in ("fixed", "vlen"):
                        with h5py.File(os.path.join(d, f"{name}-{kind}-{libver}.h5"), "w", libver=libver) as f:
                            text = json.dumps(config)
                            f.attrs["keras_version"] = "2.15.0"
                            f.attrs["backend"] = "tensorflow"
                            f.attrs["model_config"] = text.encode("utf8") if kind == "fixed" else text
                            w = f.create_group("model_weights")
                            w.attrs["layer_names"] = [b"dense"]
                            w.create_dataset("dense/kernel:0", data=np.ones((4, 2), dtype="float32"))
            """
        let result = try ChildProcess.python(script, arguments: [directory.url.path], mergesErrors: true).run()
        try #require(result.status == 0, "\(result.stdout)")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.url.path).sorted()
        #expect(files.count == 8)
        for file in files {
            let report = try ModelScanner().scan(path: directory.url.appendingPathComponent(file).path)
            #expect(report.formats.contains("keras-h5"), "\(file): \(report.formats) \(report.findings)")
            #expect(!report.has("hdf5.unreadable"), "\(file): \(report.findings)")
            if file.hasPrefix("lambda") {
                #expect(report.has("keras.lambda"), "\(file): \(report.findings)")
                #expect(report.findings.contains { $0.rule == "keras.lambda" && $0.member == "model_config" })
            } else {
                #expect(report.findings.isEmpty, "\(file): \(report.findings)")
            }
        }
    }
}
