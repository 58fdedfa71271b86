import Foundation
import ONNX
import ProtobufWire
import TestSupport
import Testing

@Suite struct ONNXModelTests {
    @Test func parsesAndRunsASmallGraph() throws {
        let model = try ONNXModel(bytes: ModelBuilder.addRelu.bytes)
        #expect(model.opsets[""] == 17)
        #expect(model.producerName == "tests")
        #expect(model.graph.inputs.map(\.name) == ["x"])
        #expect(model.graph.inputs[0].type == .tensor(elementType: .float, shape: [.symbolic("batch"), .fixed(3)]))
        let outputs = try model.run(["x": Tensor(shape: [2, 3], floats: [0, 0, 0, -2, 2, -1])])
        #expect(outputs["y"] == Tensor(shape: [2, 3], floats: [1, 0, 0.5, 0, 1, 0]))
    }

    @Test func unsupportedOperatorIsRefusedAtLoadNamingNodeAndOperator() {
        var builder = ModelBuilder.addRelu
        builder.nodes[1].op = "NonMaxSuppression"
        #expect(throws: ONNXError.unsupportedOperator(node: "relu", op: "NonMaxSuppression", domain: "")) {
            try ONNXModel(bytes: builder.bytes)
        }
    }

    @Test func unsupportedOpsetIsRefusedAtLoad() {
        var builder = ModelBuilder.addRelu
        builder.opsets = [("", 99)]
        #expect(throws: ONNXError.unsupportedOpset(domain: "", version: 99)) { try ONNXModel(bytes: builder.bytes) }
    }

    @Test func truncatedModelIsAnErrorAtEveryCut() {
        let bytes = ModelBuilder.addRelu.bytes
        for cut in stride(from: 0, to: bytes.count, by: 3) {
            #expect(throws: ONNXError.self) { try ONNXModel(bytes: Array(bytes[0..<cut])) }
        }
    }

    @Test func garbageNeverCrashes() {
        let bytes = ModelBuilder.addRelu.bytes
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            var mutated = bytes
            for _ in 0..<4 {
                mutated[Int.random(in: 0..<mutated.count, using: &generator)] = UInt8.random(
                    in: 0...255, using: &generator)
            }
            if let model = try? ONNXModel(bytes: mutated) {
                _ = try? model.run(["x": Tensor(shape: [1, 3], floats: [1, 2, 3])])
            }
        }
    }

    @Test func cycleIsRefused() {
        var builder = ModelBuilder.addRelu
        // add reads relu's output, relu reads add's: no topological order exists.
        builder.nodes[0].inputs = ["x", "y"]
        #expect(throws: ONNXError.self) { try ONNXModel(bytes: builder.bytes) }
        do {
            _ = try ONNXModel(bytes: builder.bytes)
        } catch {
            #expect("\(error)".contains("before it is defined"))
        }
    }

    @Test func undefinedNameIsRefused() {
        var builder = ModelBuilder.addRelu
        builder.nodes[0].inputs = ["x", "missing"]
        #expect(
            throws: ONNXError.invalidGraph("node 'add' reads 'missing' before it is defined (cycle or undefined name)")
        ) {
            try ONNXModel(bytes: builder.bytes)
        }
    }

    @Test func nameDefinedTwiceIsRefused() {
        var builder = ModelBuilder.addRelu
        builder.nodes[1].outputs = ["sum"]
        builder.outputs = [("sum", .float, [nil, 3])]
        #expect(throws: ONNXError.invalidGraph("'sum' is defined more than once")) {
            try ONNXModel(bytes: builder.bytes)
        }
    }

    @Test func undefinedOutputIsRefused() {
        var builder = ModelBuilder.addRelu
        builder.outputs = [("nowhere", .float, [nil, 3])]
        #expect(throws: ONNXError.invalidGraph("output 'nowhere' is never defined")) {
            try ONNXModel(bytes: builder.bytes)
        }
    }

    @Test func hugeDeclaredDimensionsAreRefusedBeforeAllocation() {
        var builder = ModelBuilder.addRelu
        // 2^31 x 2^31 floats: refused from the dims alone, never allocated.
        builder.initializers = [ModelBuilder.floatTensor("bias", shape: [1 << 31, 1 << 31], values: [1])]
        #expect(throws: ONNXError.self) { try ONNXModel(bytes: builder.bytes) }
        var counts = ModelBuilder.addRelu
        counts.initializers = [ModelBuilder.floatTensor("bias", shape: [1 << 30, 4], values: [1, 2])]
        #expect(throws: ONNXError.malformed("tensor 'bias' has 2 values for 4294967296 elements")) {
            try ONNXModel(bytes: counts.bytes)
        }
    }

    @Test func requestShapeMismatchIsAClearError() throws {
        let model = try ONNXModel(bytes: ModelBuilder.addRelu.bytes)
        #expect(throws: ONNXError.invalidInput("'x' has shape [2, 2], declared [batch, 3]")) {
            try model.run(["x": Tensor(shape: [2, 2], floats: [0, 0, 0, 0])])
        }
        #expect(throws: ONNXError.invalidInput("'x' must be float, got int64")) {
            try model.run(["x": Tensor(shape: [1, 3], int64s: [0, 0, 0])])
        }
        #expect(throws: ONNXError.invalidInput("'x' is missing")) { try model.run([:]) }
        #expect(throws: ONNXError.invalidInput("'z' is not an input of the graph")) {
            try model.run(["x": Tensor(shape: [1, 3], floats: [0, 0, 0]), "z": Tensor(shape: [1], floats: [0])])
        }
    }
}
