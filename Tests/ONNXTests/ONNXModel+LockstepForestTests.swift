import Foundation
import ProtobufWire
import Testing

@testable import ONNX

/// The lockstep tree walk (`LockstepForest`, taken for batches of 8 rows or more) against the general walk
/// (taken row by row): random forests of uneven depth, NaN features, several classes and the binary form.
@Suite struct ONNXModelLockstepForestTests {
    typealias Random = ONNXModelFastKernelTests.Random

    static func attribute(_ name: String, floats: [Float]) -> ProtobufWriter {
        var writer = ProtobufWriter()
        writer.string(1, name)
        writer.int(20, 6)
        writer.packedFloats(7, floats)
        return writer
    }

    static func attribute(_ name: String, strings: [String]) -> ProtobufWriter {
        var writer = ProtobufWriter()
        writer.string(1, name)
        writer.int(20, 8)
        for value in strings { writer.string(9, value) }
        return writer
    }

    /// A TreeEnsembleClassifier over `features` inputs: `trees` random trees up to `depth` deep, leaves weighted
    /// for `classes` classes (one class id only for the binary form). `mode` is every branch's mode.
    static func forest(
        _ random: inout Random, trees: Int, depth: Int, features: Int, classes: Int, binary: Bool,
        mode: String = "BRANCH_LEQ", transform: String = "NONE"
    ) -> ModelBuilder {
        var nodes: [(tree: Int, id: Int, feature: Int, mode: String, yes: Int, no: Int, value: Float)] = []
        var weights: [(tree: Int, id: Int, target: Int, weight: Float)] = []
        for tree in 0..<trees {
            var next = 0
            func grow(_ level: Int) -> Int {
                let id = next
                next += 1
                let index = nodes.count
                nodes.append((tree, id, 0, "LEAF", 0, 0, 0))
                if level < depth && random.int(0...3) > 0 {
                    let yes = grow(level + 1)
                    let no = grow(level + 1)
                    let threshold = Float(random.int(-100...100)) / 50
                    nodes[index] = (tree, id, random.int(0...(features - 1)), mode, yes, no, threshold)
                } else {
                    for target in 0..<(binary ? 1 : classes) {
                        weights.append((tree, id, binary ? 1 : target, Float(random.int(0...100)) / 100))
                    }
                }
                return id
            }
            _ = grow(0)
        }
        var builder = ModelBuilder()
        builder.opsets = [("", 17), ("ai.onnx.ml", 3)]
        builder.inputs = [("x", .float, [nil, Int64(features)])]
        builder.outputs = [("label", .int64, [nil]), ("probabilities", .float, [nil, Int64(classes)])]
        builder.nodes = [
            .init(
                op: "TreeEnsembleClassifier", inputs: ["x"], outputs: ["label", "probabilities"], name: "forest",
                domain: "ai.onnx.ml",
                attributes: [
                    ModelBuilder.intsAttribute("classlabels_int64s", (0..<classes).map(Int64.init)),
                    ModelBuilder.intsAttribute("nodes_treeids", nodes.map { Int64($0.tree) }),
                    ModelBuilder.intsAttribute("nodes_nodeids", nodes.map { Int64($0.id) }),
                    ModelBuilder.intsAttribute("nodes_featureids", nodes.map { Int64($0.feature) }),
                    attribute("nodes_modes", strings: nodes.map(\.mode)),
                    ModelBuilder.intsAttribute("nodes_truenodeids", nodes.map { Int64($0.yes) }),
                    ModelBuilder.intsAttribute("nodes_falsenodeids", nodes.map { Int64($0.no) }),
                    attribute("nodes_values", floats: nodes.map(\.value)),
                    ModelBuilder.intsAttribute("class_treeids", weights.map { Int64($0.tree) }),
                    ModelBuilder.intsAttribute("class_nodeids", weights.map { Int64($0.id) }),
                    ModelBuilder.intsAttribute("class_ids", weights.map { Int64($0.target) }),
                    attribute("class_weights", floats: weights.map(\.weight)),
                    ONNXModelFastKernelTests.stringAttribute("post_transform", transform),
                ])
        ]
        return builder
    }

    @Test func lockstepSumsMatchTheRowByRowWalk() throws {
        var random = Random(state: 3)
        for index in 0..<12 {
            let classes = index % 3 == 0 ? 2 : 3
            let features = random.int(1...6)
            let builder = Self.forest(
                &random, trees: random.int(1...30), depth: random.int(0...9), features: features, classes: classes,
                binary: classes == 2, transform: index % 2 == 0 ? "NONE" : "SOFTMAX")
            let model = try ONNXModel(bytes: builder.bytes)
            guard case .trees(let trees) = model.graph.nodes[0].prepared, trees.lockstep != nil else {
                Issue.record("no lockstep layout")
                continue
            }
            let n = random.int(8...70)
            var values = (0..<(n * features)).map { _ in Float(random.int(-120...120)) / 50 }
            // Thresholds hit exactly, and NaN (which goes the false way without missing-value tracking).
            for position in values.indices where position % 11 == 4 { values[position] = .nan }
            for position in values.indices where position % 13 == 6 { values[position] = 1 }
            let batch = try model.run(["x": Tensor(shape: [n, features], floats: values)])
            for row in 0..<n {
                let single = try model.run([
                    "x": Tensor(shape: [1, features], floats: Array(values[(row * features)..<((row + 1) * features)]))
                ])
                #expect(single["label"]?.int64s?.first == batch["label"]?.int64s?[row])
                let probabilities = batch["probabilities"]?.floats ?? []
                #expect(
                    single["probabilities"]?.floats == Array(probabilities[(row * classes)..<((row + 1) * classes)]),
                    "forest \(index) row \(row)")
            }
        }
    }

    @Test func otherModesAndCyclesKeepTheGeneralWalk() throws {
        var random = Random(state: 9)
        let less = try ONNXModel(
            bytes: Self.forest(&random, trees: 3, depth: 4, features: 3, classes: 3, binary: false, mode: "BRANCH_LT")
                .bytes)
        guard case .trees(let trees) = less.graph.nodes[0].prepared else {
            Issue.record("not prepared")
            return
        }
        #expect(trees.lockstep == nil)
        let x = Tensor(shape: [16, 3], floats: (0..<48).map { Float($0 % 7) - 3 })
        #expect(try less.run(["x": x])["probabilities"]?.shape == [16, 3])
        // Node 1 of a tree branching back to node 0: the general walk reports the cycle.
        var builder = ModelBuilder()
        builder.opsets = [("", 17), ("ai.onnx.ml", 3)]
        builder.inputs = [("x", .float, [nil, 1])]
        builder.outputs = [("label", .int64, [nil]), ("probabilities", .float, [nil, 2])]
        builder.nodes = [
            .init(
                op: "TreeEnsembleClassifier", inputs: ["x"], outputs: ["label", "probabilities"], name: "loop",
                domain: "ai.onnx.ml",
                attributes: [
                    ModelBuilder.intsAttribute("classlabels_int64s", [0, 1]),
                    ModelBuilder.intsAttribute("nodes_treeids", [0, 0, 0]),
                    ModelBuilder.intsAttribute("nodes_nodeids", [0, 1, 2]),
                    ModelBuilder.intsAttribute("nodes_featureids", [0, 0, 0]),
                    Self.attribute("nodes_modes", strings: ["BRANCH_LEQ", "BRANCH_LEQ", "LEAF"]),
                    ModelBuilder.intsAttribute("nodes_truenodeids", [1, 0, 0]),
                    ModelBuilder.intsAttribute("nodes_falsenodeids", [2, 2, 0]),
                    Self.attribute("nodes_values", floats: [1, 1, 0]),
                    ModelBuilder.intsAttribute("class_treeids", [0]),
                    ModelBuilder.intsAttribute("class_nodeids", [2]),
                    ModelBuilder.intsAttribute("class_ids", [1]),
                    Self.attribute("class_weights", floats: [1]),
                ])
        ]
        let cyclic = try ONNXModel(bytes: builder.bytes)
        guard case .trees(let looping) = cyclic.graph.nodes[0].prepared else {
            Issue.record("not prepared")
            return
        }
        #expect(looping.lockstep == nil)
        #expect(throws: ONNXError.self) {
            try cyclic.run(["x": Tensor(shape: [16, 1], floats: Array(repeating: 0, count: 16))])
        }
    }
}
