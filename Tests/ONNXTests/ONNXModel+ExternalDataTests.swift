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

    @Test func bytesWithoutADirectoryRefuseExternalData() {
        #expect(throws: ONNXError.self) { try ONNXModel(bytes: Self.model(location: "weights.bin").bytes) }
    }
}
