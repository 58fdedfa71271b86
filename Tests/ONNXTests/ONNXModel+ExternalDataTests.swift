import Foundation
import ONNX
import TestSupport
import Testing

/// External data may only be read from inside the model's own directory.
@Suite struct ONNXExternalDataTests {
    static func model(location: String) -> ModelBuilder {
        var builder = ModelBuilder.addRelu
        builder.initializers = [ModelBuilder.externalTensor("bias", count: 3, location: location)]
        return builder
    }

    static func floats(_ values: [Float]) -> Data {
        var data = Data()
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    @Test func dataInsideTheDirectoryIsRead() throws {
        let directory = try TemporaryDirectory()
        try Self.floats([1, 2, 3]).write(to: directory.url.appendingPathComponent("weights.bin"))
        let file = directory.url.appendingPathComponent("model.onnx")
        try Data(Self.model(location: "weights.bin").bytes).write(to: file)
        let model = try ONNXModel(contentsOf: file)
        #expect(model.graph.initializers["bias"] == Tensor(shape: [3], floats: [1, 2, 3]))
    }

    @Test func absoluteEscapingAndSymlinkedLocationsAreRefused() throws {
        let outside = try TemporaryDirectory()
        let secret = outside.url.appendingPathComponent("secret.bin")
        try Self.floats([7, 7, 7]).write(to: secret)
        let directory = try TemporaryDirectory()
        let model = directory.url.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: model.appendingPathComponent("link.bin"), withDestinationURL: secret)
        let relative = "../../\(outside.url.lastPathComponent)/secret.bin"
        for (location, reason) in [
            (secret.path, "location is absolute"), (relative, "escapes the model directory"),
            ("link.bin", "is a symbolic link"), ("missing.bin", "does not exist"),
        ] {
            let file = model.appendingPathComponent("model.onnx")
            try Data(Self.model(location: location).bytes).write(to: file)
            #expect {
                try ONNXModel(contentsOf: file)
            } throws: { error in
                guard case ONNXError.externalData(let text) = error else { return false }
                return text.contains(reason)
            }
        }
    }

    @Test func rangePastTheFileIsRefused() throws {
        let directory = try TemporaryDirectory()
        try Self.floats([1, 2]).write(to: directory.url.appendingPathComponent("short.bin"))
        let file = directory.url.appendingPathComponent("model.onnx")
        try Data(Self.model(location: "short.bin").bytes).write(to: file)
        #expect(throws: ONNXError.self) { try ONNXModel(contentsOf: file) }
    }

    /// Attack: a version's files as the server holds them in memory. External data resolves only to other files of
    /// the version, relative to the model's folder; escaping, absolute, missing and out-of-range locations are
    /// refused, with checked arithmetic on the untrusted offset and length.
    @Test func versionFilesConfineExternalData() throws {
        let weights = Data(TestONNXModels.linearClassifierWeights)
        let expected = Tensor(shape: [2, 2], floats: [1, -1, 2, 0.5])
        func files(_ model: [UInt8], at path: String = "model.onnx", _ extra: [String: Data]) -> [String: Data] {
            extra.merging([path: Data(model)]) { $1 }
        }
        let beside = try ONNXModel(
            file: "model.onnx",
            in: files(TestONNXModels.linearClassifier(externalAt: "weights.bin"), ["weights.bin": weights]))
        #expect(beside.graph.initializers["W"] == expected)
        let nested = try ONNXModel(
            file: "m/model.onnx",
            in: files(
                TestONNXModels.linearClassifier(externalAt: "data/w.bin", offset: 4, length: 16), at: "m/model.onnx",
                ["m/data/w.bin": Data([0, 0, 0, 0]) + weights]))
        #expect(nested.graph.initializers["W"] == expected)

        let top = ["weights.bin": weights, "m/weights.bin.txt": weights]
        let cases: [([UInt8], String)] = [
            (TestONNXModels.linearClassifier(externalAt: "../weights.bin"), "escapes the model directory"),
            (TestONNXModels.linearClassifier(externalAt: "./../weights.bin"), "escapes the model directory"),
            (TestONNXModels.linearClassifier(externalAt: "/weights.bin"), "location is absolute"),
            (TestONNXModels.linearClassifier(externalAt: "weights.bin"), "not among the model's files"),
            (
                TestONNXModels.linearClassifier(externalAt: "weights.bin.txt", offset: 8, length: 16),
                "past the file's end"
            ),
            (
                TestONNXModels.linearClassifier(externalAt: "weights.bin.txt", offset: Int.max, length: 16),
                "past the file's end"
            ),
            (TestONNXModels.linearClassifier(externalAt: "weights.bin.txt", length: -1), "invalid offset or length"),
        ]
        for (model, reason) in cases {
            #expect {
                try ONNXModel(file: "m/model.onnx", in: files(model, at: "m/model.onnx", top))
            } throws: { error in
                guard case ONNXError.externalData(let text) = error else { return false }
                return text.contains(reason)
            }
        }
    }

    @Test func bytesWithoutADirectoryRefuseExternalData() {
        #expect(throws: ONNXError.self) { try ONNXModel(bytes: Self.model(location: "weights.bin").bytes) }
    }
}
