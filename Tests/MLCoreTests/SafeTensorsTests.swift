import Foundation
import TestSupport
import Testing

@testable import MLCore

/// A safetensors buffer with a hand-written header, to build malformed files.
private func file(header: String, dataBytes: Int, declaredLength: UInt64? = nil) -> Data {
    let json = Data(header.utf8)
    var out = Data()
    withUnsafeBytes(of: (declaredLength ?? UInt64(json.count)).littleEndian) { out.append(contentsOf: $0) }
    out.append(json)
    out.append(Data(repeating: 0, count: dataBytes))
    return out
}

private func expectRefused(_ data: Data, _ fragment: String) {
    do {
        _ = try SafeTensors.decode(data)
        Issue.record("a malformed file was accepted (\(fragment))")
    } catch {
        #expect(error.code == .invalidSafetensors)
        #expect(error.description.contains(fragment), "\(error.description)")
    }
}

@Test func safetensorsRoundTripsValuesShapesAndMetadata() throws {
    var generator = SeededGenerator(seed: 1)
    let tensors = [
        "a": Tensor(randomUniform: [3, 4], in: -5...5, using: &generator),
        "b.bias": Tensor(shape: [2], scalars: [.leastNonzeroMagnitude, -.greatestFiniteMagnitude]),
        "scalar": Tensor(shape: [], scalars: [42]),
        "empty": Tensor(zeros: [0, 3]),
    ]
    let data = SafeTensors.encode(tensors, metadata: ["format": "test"])
    let decoded = try SafeTensors.decode(data)
    #expect(decoded.metadata == ["format": "test"])
    #expect(try decoded.float32Tensors() == tensors)
    // The header is padded so the data starts 8-byte aligned.
    let length = data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
    #expect((8 + length) % 8 == 0)
}

@Test func malformedSafetensorsHeadersAreRefused() {
    let entry = #""dtype":"F32","shape":[2]"#
    expectRefused(Data([1, 2, 3]), "shorter than its header")
    expectRefused(file(header: "{}", dataBytes: 0, declaredLength: UInt64.max), "100 MB")
    expectRefused(file(header: "{}", dataBytes: 0, declaredLength: 200_000_000), "100 MB")
    expectRefused(file(header: "{}", dataBytes: 0, declaredLength: 4096), "past the end")
    expectRefused(file(header: "[1,2]", dataBytes: 0), "does not start")
    expectRefused(file(header: "{\"a\":", dataBytes: 0), "not a JSON object")
    // Overlapping: b starts inside a.
    expectRefused(
        file(
            header: "{\"a\":{\(entry),\"data_offsets\":[0,8]},\"b\":{\(entry),\"data_offsets\":[4,12]}}", dataBytes: 12),
        "overlaps")
    // A gap, and data left over at the end.
    expectRefused(file(header: "{\"a\":{\(entry),\"data_offsets\":[8,16]}}", dataBytes: 16), "gap")
    expectRefused(file(header: "{\"a\":{\(entry),\"data_offsets\":[0,8]}}", dataBytes: 12), "does not end")
    // Out of bounds, and offsets that disagree with the shape.
    expectRefused(file(header: "{\"a\":{\(entry),\"data_offsets\":[0,8]}}", dataBytes: 4), "past the end")
    expectRefused(file(header: "{\"a\":{\(entry),\"data_offsets\":[0,4]}}", dataBytes: 4), "do not match")
    // Shape products and byte sizes that overflow 64 bits.
    expectRefused(
        file(
            header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}",
            dataBytes: 4), "overflows")
    expectRefused(
        file(
            header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,4]}}", dataBytes: 4),
        "overflows")
    expectRefused(
        file(header: "{\"a\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,4]}}", dataBytes: 4), "dtype")
    expectRefused(
        file(header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", dataBytes: 4), "shape")
    expectRefused(file(header: "{\"a\":{\(entry),\"data_offsets\":[8,0]}}", dataBytes: 8), "data_offsets")
    expectRefused(file(header: "{\"__metadata__\":{\"k\":1}}", dataBytes: 0), "__metadata__")
    // Truncation anywhere in a valid file.
    let valid = SafeTensors.encode(["w": Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])])
    for cut in [4, 8, 20, valid.count - 1] {
        #expect(throws: MLError.self) { try SafeTensors.decode(valid.prefix(cut)) }
    }
}

@Test func safetensorsWrittenHereLoadInPythonWithIdenticalValues() throws {
    guard Interop.pythonCanImport("safetensors", "numpy") else {
        try Interop.skipOrFail("python3 safetensors+numpy")
    }
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    var generator = SeededGenerator(seed: 2)
    let tensors = [
        "layers.0.weight": Tensor(randomUniform: [5, 3], in: -2...2, using: &generator),
        "layers.0.bias": Tensor(randomUniform: [3], in: -2...2, using: &generator),
    ]
    let path = directory.url.appendingPathComponent("ours.safetensors")
    try SafeTensors.encode(tensors, metadata: ["kind": "test"]).write(to: path)
    // Python prints each tensor's shape and the exact bit patterns of its values.
    let script = """
        import sys
        from safetensors.numpy import load_file
        from safetensors import safe_open
        t = load_file(sys.argv[1])
        with safe_open(sys.argv[1], framework="numpy") as f:
            print("meta", f.metadata()["kind"])
        for name in sorted(t):
            a = t[name]
            assert str(a.dtype) == "float32", a.dtype
            print(name, list(a.shape), " ".join(str(v) for v in a.view("<u4").ravel()))
        """
    let lines = try ChildProcess.python(script, arguments: [path.path]).output().split(separator: "\n").map(String.init)
    var expected = ["meta test"]
    for name in tensors.keys.sorted() {
        let tensor = tensors[name]!
        expected.append(
            "\(name) \(tensor.shape) " + tensor.scalars.map { String($0.bitPattern) }.joined(separator: " "))
    }
    #expect(lines == expected)
}

@Test func safetensorsWrittenByPythonLoadHere() throws {
    guard Interop.pythonCanImport("safetensors", "numpy") else {
        try Interop.skipOrFail("python3 safetensors+numpy")
    }
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let path = directory.url.appendingPathComponent("python.safetensors")
    let script = """
        import sys, numpy as np
        from safetensors.numpy import save_file
        rng = np.random.default_rng(5)
        t = {"conv": rng.standard_normal((3, 3, 2, 4)).astype(np.float32),
             "bias": rng.standard_normal(4).astype(np.float32),
             "ids": np.arange(6, dtype=np.int64)}
        save_file(t, sys.argv[1], metadata={"origin": "numpy"})
        for name in ("conv", "bias"):
            print(name, " ".join(str(v) for v in t[name].view("<u4").ravel()))
        """
    let output = try ChildProcess.python(script, arguments: [path.path]).output().split(separator: "\n").map(
        String.init)
    let file = try SafeTensors.decode(Data(contentsOf: path))
    #expect(file.metadata["origin"] == "numpy")
    #expect(file.tensors["ids"]?.dtype == "I64")
    #expect(file.tensors["ids"]?.shape == [6])
    #expect(throws: MLError.self) { try file.float32("ids") }
    let conv = try file.float32("conv")
    let bias = try file.float32("bias")
    #expect(conv.shape == [3, 3, 2, 4])
    #expect(output[0] == "conv " + conv.scalars.map { String($0.bitPattern) }.joined(separator: " "))
    #expect(output[1] == "bias " + bias.scalars.map { String($0.bitPattern) }.joined(separator: " "))
}
