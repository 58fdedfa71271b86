import Foundation
import ONNX
import Testing

/// Buffer reuse in `run`: values no later node reads are written over in place or pooled, never a graph input,
/// output or initializer, and never a value a later node still reads.
@Suite struct ONNXModelBufferReuseTests {
    static let width = 2048

    /// A chain where every kind of value meets an in-place-capable operator: a graph input (Relu), a graph
    /// output read later (Neg), a value read again later (Exp), a value read twice by one node (Add(c, c)),
    /// dead intermediates (Relu, Add with an initializer), and a dead value at a binary operator's first input.
    static var chain: ModelBuilder {
        var builder = ModelBuilder()
        builder.inputs = [("x", .float, [nil, Int64(width)])]
        builder.outputs = [("a", .float, [nil, Int64(width)]), ("g", .float, [nil, Int64(width)])]
        builder.initializers = [
            ModelBuilder.floatTensor(
                "bias", shape: [Int64(width)], values: (0..<width).map { Float($0 % 7) - 3 })
        ]
        builder.nodes = [
            .init(op: "Relu", inputs: ["x"], outputs: ["a"], name: "relu_input"),
            .init(op: "Neg", inputs: ["a"], outputs: ["b"], name: "neg_output"),
            .init(op: "Exp", inputs: ["b"], outputs: ["c"], name: "exp_live"),
            .init(op: "Add", inputs: ["c", "c"], outputs: ["d"], name: "add_twice"),
            .init(op: "Relu", inputs: ["d"], outputs: ["e"], name: "relu_dead"),
            .init(op: "Add", inputs: ["e", "bias"], outputs: ["f"], name: "add_initializer"),
            .init(op: "Mul", inputs: ["b", "f"], outputs: ["g"], name: "mul_dead_first"),
        ]
        return builder
    }

    static func expected(_ x: [Float]) -> (a: [Float], g: [Float]) {
        let a = x.map { max($0, 0) }
        let b = a.map { -$0 }
        let c = b.map { Float(Foundation.exp(Double($0))) }
        let f = c.enumerated().map { max($1 + $1, 0) + (Float($0 % width % 7) - 3) }
        return (a, zip(b, f).map { $0 * $1 })
    }

    @Test func inPlaceAndPooledBuffersNeverChangeInputsOutputsOrInitializers() throws {
        let model = try ONNXModel(bytes: Self.chain.bytes)
        for seed in 0..<3 {
            let values = (0..<(2 * Self.width)).map { Float(($0 * 37 + seed * 11) % 19) / 4 - 2 }
            let x = Tensor(shape: [2, Self.width], floats: values)
            let outputs = try model.run(["x": x])
            let (a, g) = Self.expected(values)
            #expect(x.floats == values, "the caller's input is unchanged")
            #expect(outputs["a"] == Tensor(shape: [2, Self.width], floats: a))
            #expect(outputs["g"]?.shape == [2, Self.width])
            let got = outputs["g"]?.floats ?? []
            #expect(got.count == g.count)
            #expect(zip(got, g).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
        }
        // The initializer is unchanged after the runs: a fresh model gives the same answer.
        let x = Tensor(shape: [2, Self.width], floats: (0..<(2 * Self.width)).map { Float($0 % 5) - 2 })
        #expect(try model.run(["x": x]) == (try ONNXModel(bytes: Self.chain.bytes).run(["x": x])))
    }
}
