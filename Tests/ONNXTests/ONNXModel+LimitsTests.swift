import Foundation
import ONNX
import Testing

@Suite struct ONNXModelLimitsTests {
    /// `y = ConstantOfShape(shape)`: the request data alone decides how much is allocated.
    static var constantOfShape: ModelBuilder {
        var builder = ModelBuilder()
        builder.inputs = [("shape", .int64, [2])]
        builder.outputs = [("y", .float, [nil, nil])]
        builder.nodes = [.init(op: "ConstantOfShape", inputs: ["shape"], outputs: ["y"], name: "fill")]
        return builder
    }

    @Test func shapeFromRequestDataOverTheCapIsAnError() throws {
        let model = try ONNXModel(bytes: Self.constantOfShape.bytes)
        let small = try model.run(["shape": Tensor(shape: [2], int64s: [2, 3])])
        #expect(small["y"]?.shape == [2, 3])
        #expect(throws: ONNXError.allocationLimit(1 << 20)) {
            try model.run(
                ["shape": Tensor(shape: [2], int64s: [1 << 20, 1 << 20])], limits: .init(maximumBytes: 1 << 20))
        }
        #expect(throws: ONNXError.self) {
            try model.run(["shape": Tensor(shape: [2], int64s: [Int64.max, Int64.max])])
        }
        #expect(throws: ONNXError.self) {
            try model.run(["shape": Tensor(shape: [2], int64s: [-1, 4])])
        }
    }

    @Test func expandAndTileFromRequestDataAreCapped() throws {
        var builder = ModelBuilder()
        builder.inputs = [("x", .float, [1]), ("shape", .int64, [2])]
        builder.outputs = [("y", .float, [nil, nil])]
        builder.nodes = [.init(op: "Expand", inputs: ["x", "shape"], outputs: ["y"], name: "expand")]
        let model = try ONNXModel(bytes: builder.bytes)
        #expect(throws: ONNXError.allocationLimit(1 << 20)) {
            try model.run(
                ["x": Tensor(shape: [1], floats: [1]), "shape": Tensor(shape: [2], int64s: [1 << 16, 1 << 16])],
                limits: .init(maximumBytes: 1 << 20))
        }
    }

    @Test func deadlineIsEnforced() throws {
        let model = try ONNXModel(bytes: Self.constantOfShape.bytes)
        #expect(throws: ONNXError.deadlineExceeded) {
            try model.run(["shape": Tensor(shape: [2], int64s: [2, 2])], limits: .init(timeout: .seconds(-1)))
        }
    }
}
