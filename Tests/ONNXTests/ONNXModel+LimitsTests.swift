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

@Suite struct ONNXModelHostileShapeTests {
    @Test func emptyTensorWithHugeTrailingDimensionsIsRefused() throws {
        // [0, 2^40, 2^40] holds no element, but its trailing product overflows: refused, never multiplied.
        var builder = ModelBuilder()
        builder.inputs = [("x", .float, [nil]), ("shape", .int64, [3])]
        builder.outputs = [("y", .float, [nil, nil, nil])]
        builder.nodes = [
            .init(op: "Reshape", inputs: ["x", "shape"], outputs: ["r"], name: "reshape"),
            .init(op: "Softmax", inputs: ["r"], outputs: ["y"], name: "softmax"),
        ]
        let model = try ONNXModel(bytes: builder.bytes)
        #expect(throws: ONNXError.self) {
            try model.run([
                "x": Tensor(shape: [0], floats: []), "shape": Tensor(shape: [3], int64s: [0, 1 << 40, 1 << 40]),
            ])
        }
    }

    @Test func hugeKernelShapeIsRefused() throws {
        var builder = ModelBuilder()
        builder.inputs = [("x", .float, [1, 1, 4, 4])]
        builder.outputs = [("y", .float, [nil, nil, nil, nil])]
        builder.nodes = [
            .init(
                op: "MaxPool", inputs: ["x"], outputs: ["y"], name: "pool",
                attributes: [ModelBuilder.intsAttribute("kernel_shape", [Int64.max, 2])])
        ]
        let model = try ONNXModel(bytes: builder.bytes)
        #expect(throws: ONNXError.invalidNode(node: "pool", op: "MaxPool", reason: "invalid kernel shape")) {
            try model.run(["x": Tensor(shape: [1, 1, 4, 4], floats: Array(repeating: 1, count: 16))])
        }
    }
}
