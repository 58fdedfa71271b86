import Foundation
import Hummingbird
import Testing

@testable import VaultServer

@Suite struct InferenceCodecTests {
    let model = LinearModel.make()

    func buffer(_ json: String, binary: [UInt8] = []) -> ByteBuffer {
        ByteBuffer(bytes: Array(json.utf8) + binary)
    }

    static func littleEndian(_ values: [Float]) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
    }

    @Test func decodesNestedJSONTensorsAndDefaultsOutputsToJSON() throws {
        let body = buffer(
            #"{"id":"r1","inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[[1,2,3,4],[5,6,7,8]]}]}"#)
        let decoded = try InferenceCodec.decode(body: body, headerLength: nil, for: model)
        #expect(decoded.id == "r1")
        #expect(decoded.inputs["input"] == Tensor(shape: [2, 4], scalars: [1, 2, 3, 4, 5, 6, 7, 8]))
        #expect(decoded.outputs.map(\.name) == ["scores", "label"])
        #expect(decoded.outputs.allSatisfy { !$0.binary })
    }

    /// The exact body `tritonclient.http` 2.73.0 sends for JSON inputs with JSON outputs requested.
    @Test func decodesTritonClientJSONRequest() throws {
        let json =
            #"{"inputs":[{"name":"input","shape":[3,4],"datatype":"FP32","data":[1.0,2.0,3.0,4.0,-1.0,0.5,0.0,2.0,0.25,-3.0,1.5,0.75]}],"outputs":[{"name":"scores","parameters":{"binary_data":false}},{"name":"label","parameters":{"binary_data":false}}]}"#
        let decoded = try InferenceCodec.decode(body: buffer(json), headerLength: nil, for: model)
        #expect(decoded.inputs["input"]?.scalars == [1, 2, 3, 4, -1, 0.5, 0, 2, 0.25, -3, 1.5, 0.75])
        #expect(decoded.outputs.map(\.name) == ["scores", "label"])
        #expect(decoded.outputs.allSatisfy { !$0.binary })
    }

    /// tritonclient.http 2.73.0 writes `Inference-Header-Content-Length` into the caller's headers dictionary,
    /// so a JSON-only call after a binary one arrives with a stale length, shorter or longer than the body.
    @Test(arguments: [40, 139, 214])
    func decodesJSONOnlyRequestWithStaleHeaderLength(_ staleLength: Int) throws {
        let json =
            #"{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[1.0,2.0,3.0,4.0,-1.0,0.5,0.0,2.0]}],"parameters":{"binary_data_output":true}}"#
        let decoded = try InferenceCodec.decode(body: buffer(json), headerLength: staleLength, for: model)
        #expect(decoded.inputs["input"]?.scalars == [1, 2, 3, 4, -1, 0.5, 0, 2])
        #expect(decoded.outputs.map(\.name) == ["scores", "label"])
        #expect(decoded.outputs.allSatisfy { $0.binary })
    }

    /// A stale or wrong length never makes binary data readable as something else: the JSON-only reading
    /// must itself be a complete, valid request.
    @Test func refusesBinaryRequestWithWrongHeaderLength() throws {
        let json =
            #"{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}]}"#
        let body = buffer(json, binary: Self.littleEndian([1, 2, 3, 4]))
        for length in [json.utf8.count - 1, json.utf8.count + 1, 10_000] {
            #expect(throws: APIError.self) { try InferenceCodec.decode(body: body, headerLength: length, for: model) }
        }
        let decoded = try InferenceCodec.decode(body: body, headerLength: json.utf8.count, for: model)
        #expect(decoded.inputs["input"]?.scalars == [1, 2, 3, 4])
    }

    /// Binary input with mixed outputs, as tritonclient sends it.
    @Test func decodesTritonClientMixedOutputs() throws {
        let json =
            #"{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}],"outputs":[{"name":"scores","parameters":{"binary_data":true}},{"name":"label","parameters":{"binary_data":false}}]}"#
        let decoded = try InferenceCodec.decode(
            body: buffer(json, binary: Self.littleEndian([1, -2, 0.5, 4])), headerLength: json.utf8.count, for: model)
        #expect(decoded.inputs["input"]?.scalars == [1, -2, 0.5, 4])
        #expect(decoded.outputs.map(\.name) == ["scores", "label"])
        #expect(decoded.outputs.map(\.binary) == [true, false])
    }

    /// Rows, deeper nesting and a flat list all flatten row-major to the same tensor.
    @Test(arguments: [
        "[[1,2],[3,4],[5,6],[7,8]]", "[[[1,2],[3,4]],[[5,6],[7,8]]]", "[1,2,3,4,5,6,7,8]", "[[1,2,3,4],5,6,7,8]",
    ])
    func flattensNestedDataRowMajor(_ data: String) throws {
        let json = #"{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":"# + data + "}]}"
        let decoded = try InferenceCodec.decode(body: buffer(json), headerLength: nil, for: model)
        #expect(decoded.inputs["input"]?.scalars == [1, 2, 3, 4, 5, 6, 7, 8])
    }

    @Test func decodesBinaryTensorsAndConvertsFP64() throws {
        let values: [Double] = [1.5, -2, 3.25, 4]
        let bytes = values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
        let json =
            #"{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","parameters":{"binary_data_size":32}}],"parameters":{"binary_data_output":true}}"#
        let decoded = try InferenceCodec.decode(
            body: buffer(json, binary: bytes), headerLength: json.utf8.count, for: model)
        #expect(decoded.inputs["input"]?.scalars == [1.5, -2, 3.25, 4])
        #expect(decoded.outputs.allSatisfy { $0.binary })
    }

    @Test(arguments: [
        #"{"inputs":[{"name":"input","shape":[1,4],"datatype":"BYTES","data":[1,2,3,4]}]}"#,  // wrong dtype
        #"{"inputs":[{"name":"input","shape":[1,5],"datatype":"FP32","data":[1,2,3,4,5]}]}"#,  // wrong shape
        #"{"inputs":[{"name":"input","shape":[4],"datatype":"FP32","data":[1,2,3,4]}]}"#,  // wrong rank
        #"{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[1,2,3,4]}]}"#,  // element count
        #"{"inputs":[{"name":"other","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}"#,  // unknown input
        #"{"inputs":[]}"#,  // missing input
        #"{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}],"outputs":[{"name":"x"}]}"#,
        #"{"inputs":[{"name":"input","shape":[1,-4],"datatype":"FP32","data":[]}]}"#,  // negative dimension
        #"{"inputs":"#,  // malformed
    ])
    func refusesInvalidRequests(_ json: String) throws {
        #expect(throws: APIError.self) { try InferenceCodec.decode(body: buffer(json), headerLength: nil, for: model) }
    }

    /// Non-finite inputs are the client's error (400), whichever way they arrive.
    @Test func refusesNonFiniteValues() throws {
        for value in [Float.nan, .infinity, -.infinity] {
            let json =
                #"{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}]}"#
            let error = #expect(throws: APIError.self) {
                try InferenceCodec.decode(
                    body: buffer(json, binary: Self.littleEndian([1, value, 3, 4])), headerLength: json.utf8.count,
                    for: model)
            }
            #expect(error?.status == .badRequest)
        }
        let overflowing = #"{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,1e300,4]}]}"#
        #expect(throws: APIError.self) {
            try InferenceCodec.decode(body: buffer(overflowing), headerLength: nil, for: model)
        }
    }

    @Test func refusesBinarySizeMismatchAndUnclaimedBytes() throws {
        let json =
            #"{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":12}}]}"#
        #expect(throws: APIError.self) {
            try InferenceCodec.decode(
                body: buffer(json, binary: Self.littleEndian([1, 2, 3])), headerLength: json.utf8.count, for: model)
        }
        let good =
            #"{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}]}"#
        let extra = Self.littleEndian([1, 2, 3, 4, 5])
        #expect(throws: APIError.self) {
            try InferenceCodec.decode(body: buffer(good, binary: extra), headerLength: good.utf8.count, for: model)
        }
        #expect(throws: APIError.self) {
            try InferenceCodec.decode(body: buffer(good, binary: extra), headerLength: 10_000, for: model)
        }
    }

    @Test func encodesBinaryOutputsAfterTheJSONHeader() throws {
        let request = DecodedInference(id: "7", inputs: [:], outputs: [("scores", true), ("label", false)])
        let results = [
            "scores": Tensor(shape: [1, 3], scalars: [0.5, -1, 2]), "label": Tensor(shape: [1, 1], scalars: [2]),
        ]
        let (body, headerLength) = try InferenceCodec.encode(results, for: request, model: model)
        let length = try #require(headerLength)
        let bytes = Array(body.readableBytesView)
        let header = try #require(JSONSerialization.jsonObject(with: Data(bytes[..<length])) as? [String: Any])
        #expect(header["model_name"] as? String == "iris")
        #expect(header["id"] as? String == "7")
        let outputs = try #require(header["outputs"] as? [[String: Any]])
        #expect((outputs[0]["parameters"] as? [String: Any])?["binary_data_size"] as? Int == 12)
        #expect(outputs[1]["data"] as? [Double] == [2])
        #expect(Array(bytes[length...]) == Self.littleEndian([0.5, -1, 2]))
    }

    @Test func refusesMalformedModelOutputs() throws {
        let request = DecodedInference(id: nil, inputs: [:], outputs: [("scores", false)])
        #expect(throws: APIError.self) {
            try InferenceCodec.encode(["scores": Tensor(shape: [2, 3], scalars: [1])], for: request, model: model)
        }
    }
}
