import Foundation
import ONNX
import Testing

/// What `model push` records and the server reports: the signature, and recognising ONNX by content.
@Suite struct ONNXModelSignatureTests {
    @Test func signatureNamesInputsOutputsDatatypesAndDynamicDimensions() throws {
        let model = try ONNXModel(bytes: ModelBuilder.addRelu.bytes)
        let signature = model.signature
        #expect(signature.format == "onnx")
        #expect(signature.irVersion == 8)
        #expect(signature.opsets == ["ai.onnx": 17])
        #expect(signature.producer == "tests")
        #expect(signature.inputs == [.init(name: "x", datatype: "FP32", shape: [-1, 3], kind: "tensor")])
        #expect(signature.outputs == [.init(name: "y", datatype: "FP32", shape: [-1, 3], kind: "tensor")])
        // It round-trips through JSON, as the signed manifest stores it.
        let decoded = try JSONDecoder().decode(ONNXSignature.self, from: JSONEncoder().encode(signature))
        #expect(decoded == signature)
    }

    @Test func recognisesAModelByContentFromItsFirstBytes() {
        let bytes = ModelBuilder.addRelu.bytes
        #expect(ONNXModel.looksLikeModel(bytes))
        // The first few bytes (up to the graph's length) suffice when the file size is known.
        #expect(ONNXModel.looksLikeModel(prefix: Array(bytes.prefix(24)), fileSize: bytes.count))
        // A graph longer than the file is a truncated model, not ONNX.
        #expect(!ONNXModel.looksLikeModel(prefix: Array(bytes.prefix(24)), fileSize: 24))
    }

    @Test func otherFormatsAreNotTakenForONNX() {
        let safetensors: [UInt8] = [0x10, 0, 0, 0, 0, 0, 0, 0] + Array(#"{"a":{"dtype":"F32"}}"#.utf8)
        let pickle: [UInt8] = [0x80, 0x04, 0x95, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x7D, 0x94, 0x2E]
        let zip: [UInt8] = [0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0, count: 26)
        let json = Array(#"{"kind":"logistic"}"#.utf8)
        let csv = Array("a,b\n1,2\n".utf8)
        for sample in [[], safetensors, pickle, zip, json, csv, [0x08, 0x07], [0x08, 0x80]] {
            #expect(!ONNXModel.looksLikeModel(sample), "\(sample.prefix(8))")
        }
    }
}
