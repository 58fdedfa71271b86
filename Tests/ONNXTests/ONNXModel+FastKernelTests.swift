import Foundation
import ProtobufWire
import TestSupport
import Testing

@testable import ONNX

/// The specialised kernels against the general path and a naive reference, on random shapes: the direct
/// convolution on packed weights (padding, strides, dilations, groups, odd sizes, 1-D), Conv+Relu folding,
/// the 2×2 MaxPool and the GEMM's padded column tail. A fast path that diverged would fail here rather than
/// only in the conformance data's few shapes.
@Suite struct ONNXModelFastKernelTests {
    /// A deterministic generator (SplitMix64), so a failure reproduces.
    struct Random {
        var generator: SplitMix64
        init(state: UInt64) { generator = SplitMix64(state: state) }
        mutating func next() -> UInt64 { generator.next() }
        mutating func int(_ range: ClosedRange<Int>) -> Int {
            range.lowerBound + Int(next() % UInt64(range.count))
        }
        mutating func floats(_ count: Int) -> [Float] {
            (0..<count).map { _ in Float(Int(next() % 2001) - 1000) / 500 }
        }
    }

    static func intAttribute(_ name: String, _ value: Int64) -> ProtobufWriter { TestONNXModels.int(name, value) }

    static func floatAttribute(_ name: String, _ value: Float) -> ProtobufWriter { TestONNXModels.float(name, value) }

    static func stringAttribute(_ name: String, _ value: String) -> ProtobufWriter {
        TestONNXModels.string(name, value)
    }

    /// One convolution's geometry; `spatial` has one entry per spatial axis (1 or 2).
    struct ConvCase: CustomStringConvertible {
        var n = 1, c = 1, m = 2, group = 1
        var spatial: [Int] = [5, 5], kernel: [Int] = [3, 3], strides: [Int] = [1, 1], dilations: [Int] = [1, 1]
        var pads: [Int] = [0, 0, 0, 0]
        var autoPad: String?
        var bias = true

        var description: String {
            "n\(n) c\(c) m\(m) g\(group) in\(spatial) k\(kernel) s\(strides) d\(dilations) p\(pads) "
                + "\(autoPad ?? "") bias \(bias)"
        }

        var weightShape: [Int] { [m, c / group] + kernel }

        /// Conv (then Relu when `relu`) with W and B as initializers (`packed`) or as graph inputs.
        func model(packed: Bool, relu: Bool = false, weights: [Float], biases: [Float]) -> ModelBuilder {
            var builder = ModelBuilder()
            let rank = spatial.count + 2
            builder.inputs = [("x", .float, Array(repeating: nil, count: rank))]
            builder.outputs = [("y", .float, Array(repeating: nil, count: rank))]
            let w = ModelBuilder.floatTensor("w", shape: weightShape.map(Int64.init), values: weights)
            let b = ModelBuilder.floatTensor("b", shape: [Int64(m)], values: biases)
            if packed {
                builder.initializers = bias ? [w, b] : [w]
            } else {
                builder.inputs.append(("w", .float, weightShape.map { Int64($0) }))
                if bias { builder.inputs.append(("b", .float, [Int64(m)])) }
            }
            var attributes = [
                ModelBuilder.intsAttribute("kernel_shape", kernel.map(Int64.init)),
                ModelBuilder.intsAttribute("strides", strides.map(Int64.init)),
                ModelBuilder.intsAttribute("dilations", dilations.map(Int64.init)),
                ONNXModelFastKernelTests.intAttribute("group", Int64(group)),
            ]
            if let autoPad {
                attributes.append(ONNXModelFastKernelTests.stringAttribute("auto_pad", autoPad))
            } else {
                attributes.append(ModelBuilder.intsAttribute("pads", pads.map(Int64.init)))
            }
            let inputs = bias ? ["x", "w", "b"] : ["x", "w"]
            builder.nodes = [
                .init(op: "Conv", inputs: inputs, outputs: [relu ? "z" : "y"], name: "conv", attributes: attributes)
            ]
            if relu { builder.nodes.append(.init(op: "Relu", inputs: ["z"], outputs: ["y"], name: "relu")) }
            return builder
        }

        /// The convolution in double, straight from the definition (explicit pads only).
        func reference(_ x: [Float], _ weights: [Float], _ biases: [Float]) -> [Double] {
            let two = spatial.count == 2
            let (h, w) = two ? (spatial[0], spatial[1]) : (1, spatial[0])
            let (kh, kw) = two ? (kernel[0], kernel[1]) : (1, kernel[0])
            let (sh, sw) = two ? (strides[0], strides[1]) : (1, strides[0])
            let (dh, dw) = two ? (dilations[0], dilations[1]) : (1, dilations[0])
            let (ph, pw) = two ? (pads[0], pads[1]) : (0, pads[0])
            let (eh, ew) = two ? (pads[2], pads[3]) : (0, pads[1])
            let oh = (h + ph + eh - ((kh - 1) * dh + 1)) / sh + 1
            let ow = (w + pw + ew - ((kw - 1) * dw + 1)) / sw + 1
            let perIn = c / group
            let perOut = m / group
            var out = [Double](repeating: 0, count: n * m * oh * ow)
            for image in 0..<n {
                for channel in 0..<m {
                    let g = channel / perOut
                    for y in 0..<oh {
                        for xo in 0..<ow {
                            var sum = bias ? Double(biases[channel]) : 0
                            for inner in 0..<perIn {
                                for ky in 0..<kh {
                                    for kx in 0..<kw {
                                        let iy = y * sh - ph + ky * dh
                                        let ix = xo * sw - pw + kx * dw
                                        guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                        let input = x[((image * c + g * perIn + inner) * h + iy) * w + ix]
                                        let weight = weights[((channel * perIn + inner) * kh + ky) * kw + kx]
                                        sum += Double(input) * Double(weight)
                                    }
                                }
                            }
                            out[((image * m + channel) * oh + y) * ow + xo] = sum
                        }
                    }
                }
            }
            return out
        }
    }

    static func randomCase(_ random: inout Random, twoD: Bool) -> ConvCase {
        var test = ConvCase()
        test.group = random.int(1...3) == 3 ? 2 : 1
        test.c = test.group * random.int(1...3)
        test.m = test.group * random.int(2...9)
        test.n = random.int(1...3)
        let axes = twoD ? 2 : 1
        test.kernel = (0..<axes).map { _ in random.int(1...3) }
        test.dilations = (0..<axes).map { _ in random.int(1...4) == 4 ? 2 : 1 }
        // Horizontal stride 1 is the direct kernel's; 2 exercises its fallback.
        test.strides = (0..<axes).map { axis in axis == axes - 1 && random.int(1...4) < 4 ? 1 : random.int(1...2) }
        test.pads = (0..<(2 * axes)).map { _ in random.int(0...2) }
        test.spatial = (0..<axes).map { axis in
            let extent = (test.kernel[axis] - 1) * test.dilations[axis] + 1
            return max(extent, 1) + random.int(0...8) - min(test.pads[axis] + test.pads[axis + axes], extent - 1)
        }
        test.bias = random.int(1...4) < 4
        if random.int(1...6) == 6 { test.autoPad = "SAME_UPPER" }
        return test
    }

    @Test func directConvolutionMatchesTheGeneralPathAndTheDefinition() throws {
        var random = Random(state: 17)
        var direct = 0
        for index in 0..<160 {
            let test = Self.randomCase(&random, twoD: index % 4 != 0)
            let weightCount = test.weightShape.reduce(1, *)
            let weights = random.floats(weightCount)
            let biases = random.floats(test.m)
            let x = Tensor(
                shape: [test.n, test.c] + test.spatial,
                floats: random.floats(test.n * test.c * test.spatial.reduce(1, *)))
            let packed = try ONNXModel(bytes: test.model(packed: true, weights: weights, biases: biases).bytes)
            guard case .conv = packed.graph.nodes[0].prepared else {
                Issue.record("W was not packed: \(test)")
                continue
            }
            let general = try ONNXModel(bytes: test.model(packed: false, weights: weights, biases: biases).bytes)
            var feeds = ["x": x, "w": Tensor(shape: test.weightShape, floats: weights)]
            if test.bias { feeds["b"] = Tensor(shape: [test.m], floats: biases) }
            let fast = try #require(try packed.run(["x": x])["y"])
            let slow = try #require(try general.run(feeds)["y"])
            #expect(fast == slow, "\(test)")
            if test.strides.last == 1 { direct += 1 }
            guard test.autoPad == nil, let values = fast.floats else { continue }
            let expected = test.reference(x.floats ?? [], weights, biases)
            #expect(values.count == expected.count, "\(test)")
            for (got, want) in zip(values, expected) where abs(Double(got) - want) > 1e-5 * max(1, abs(want)) {
                Issue.record("\(test): \(got) vs \(want)")
                break
            }
        }
        #expect(direct > 80, "most cases take the direct kernel")
    }

    @Test func reluFoldsIntoAPackedConvOnlyWhenItAloneReadsTheOutput() throws {
        var random = Random(state: 5)
        for index in 0..<24 {
            let test = Self.randomCase(&random, twoD: index % 3 != 0)
            let weights = random.floats(test.weightShape.reduce(1, *))
            let biases = random.floats(test.m)
            let x = Tensor(
                shape: [test.n, test.c] + test.spatial,
                floats: random.floats(test.n * test.c * test.spatial.reduce(1, *)))
            let folded = try ONNXModel(
                bytes: test.model(packed: true, relu: true, weights: weights, biases: biases).bytes)
            guard case .conv(let packed) = folded.graph.nodes[0].prepared, packed.relu,
                case .foldedRelu = folded.graph.nodes[1].prepared
            else {
                Issue.record("Relu was not folded: \(test)")
                continue
            }
            let general = try ONNXModel(
                bytes: test.model(packed: false, relu: true, weights: weights, biases: biases).bytes)
            var feeds = ["x": x, "w": Tensor(shape: test.weightShape, floats: weights)]
            if test.bias { feeds["b"] = Tensor(shape: [test.m], floats: biases) }
            let fast = try #require(try folded.run(["x": x])["y"])
            #expect(fast == (try general.run(feeds)["y"]), "\(test)")
            #expect(fast.floats?.allSatisfy { $0 >= 0 } == true)
        }
        // The Conv's output also read elsewhere (here: a graph output): no folding, both values right.
        var test = ConvCase()
        test.c = 2
        test.m = 4
        test.pads = [1, 1, 1, 1]
        let weights = random.floats(test.weightShape.reduce(1, *))
        let biases = random.floats(test.m)
        var builder = test.model(packed: true, relu: true, weights: weights, biases: biases)
        builder.outputs.append(("z", .float, [nil, nil, nil, nil]))
        let model = try ONNXModel(bytes: builder.bytes)
        guard case .conv(let packed) = model.graph.nodes[0].prepared else {
            Issue.record("W was not packed")
            return
        }
        #expect(!packed.relu)
        let x = Tensor(shape: [1, 2, 5, 5], floats: random.floats(50))
        let outputs = try model.run(["x": x])
        let z = try #require(outputs["z"]?.floats)
        #expect(z.contains { $0 < 0 })
        #expect(outputs["y"]?.floats == z.map { $0 < 0 ? 0 : $0 })
    }

    /// MaxPool's fold, `Swift.max(best, value)` from -∞ over the window in order.
    static func maxPoolReference(_ x: [Float], planes: Int, h: Int, w: Int, oh: Int, ow: Int) -> [Float] {
        var out: [Float] = []
        for plane in 0..<planes {
            for y in 0..<oh {
                for xo in 0..<ow {
                    var best = -Float.infinity
                    for ky in 0..<2 {
                        for kx in 0..<2 where 2 * y + ky < h && 2 * xo + kx < w {
                            best = Swift.max(best, x[(plane * h + 2 * y + ky) * w + 2 * xo + kx])
                        }
                    }
                    out.append(best)
                }
            }
        }
        return out
    }

    @Test func maxPool2x2MatchesTheWindowFoldBitForBit() throws {
        var random = Random(state: 29)
        for ceil in [false, true] {
            for (h, w) in [(2, 2), (4, 8), (5, 9), (7, 11), (8, 16), (3, 17)] {
                var builder = ModelBuilder()
                builder.inputs = [("x", .float, [nil, nil, nil, nil])]
                builder.outputs = [("y", .float, [nil, nil, nil, nil])]
                builder.nodes = [
                    .init(
                        op: "MaxPool", inputs: ["x"], outputs: ["y"], name: "pool",
                        attributes: [
                            ModelBuilder.intsAttribute("kernel_shape", [2, 2]),
                            ModelBuilder.intsAttribute("strides", [2, 2]),
                            Self.intAttribute("ceil_mode", ceil ? 1 : 0),
                        ])
                ]
                let model = try ONNXModel(bytes: builder.bytes)
                var values = random.floats(2 * 3 * h * w)
                // NaN is skipped and the sign of a zero follows the fold's order.
                for index in values.indices where index % 7 == 3 { values[index] = .nan }
                for index in values.indices where index % 5 == 1 { values[index] = index % 2 == 0 ? 0 : -0.0 }
                let out = try #require(try model.run(["x": Tensor(shape: [2, 3, h, w], floats: values)])["y"])
                let (oh, ow) = ceil ? ((h + 1) / 2, (w + 1) / 2) : (h / 2, w / 2)
                #expect(out.shape == [2, 3, oh, ow])
                let expected = Self.maxPoolReference(values, planes: 6, h: h, w: w, oh: oh, ow: ow)
                let got = out.floats ?? []
                #expect(got.map(\.bitPattern) == expected.map(\.bitPattern), "\(h)×\(w) ceil \(ceil)")
            }
        }
    }

    /// Packed B (constant, alpha 1) with its bias and folded Relu in the kernel's store, and the general path.
    @Test func gemmColumnTailsBiasAndReluMatchTheDefinition() throws {
        var random = Random(state: 41)
        for _ in 0..<60 {
            let (m, k, n) = (random.int(1...13), random.int(1...20), random.int(1...19))
            let transB = random.int(0...1) == 1
            let constant = random.int(0...1) == 1
            let relu = random.int(0...1) == 1
            let beta: Float = [1, 0.5, 0][random.int(0...2)]
            let alpha: Float = random.int(0...4) == 0 ? 2 : 1
            let a = random.floats(m * k)
            let b = random.floats(k * n)
            let c = random.floats(n)
            var builder = ModelBuilder()
            builder.inputs = [("a", .float, [nil, Int64(k)])]
            builder.outputs = [("y", .float, [nil, Int64(n)])]
            let bShape: [Int64] = transB ? [Int64(n), Int64(k)] : [Int64(k), Int64(n)]
            // B stored as its transpose when transB: element [j, p] holds b[p, j].
            let stored = transB ? (0..<(n * k)).map { b[($0 % k) * n + $0 / k] } : b
            builder.initializers = [ModelBuilder.floatTensor("c", shape: [Int64(n)], values: c)]
            if constant {
                builder.initializers.append(ModelBuilder.floatTensor("b", shape: bShape, values: stored))
            } else {
                builder.inputs.append(("b", .float, bShape.map { $0 }))
            }
            builder.nodes = [
                .init(
                    op: "Gemm", inputs: ["a", "b", "c"], outputs: [relu ? "z" : "y"], name: "gemm",
                    attributes: [
                        Self.intAttribute("transB", transB ? 1 : 0), Self.floatAttribute("alpha", alpha),
                        Self.floatAttribute("beta", beta),
                    ])
            ]
            if relu { builder.nodes.append(.init(op: "Relu", inputs: ["z"], outputs: ["y"], name: "relu")) }
            let model = try ONNXModel(bytes: builder.bytes)
            if constant && alpha == 1 {
                guard case .gemm(let packed) = model.graph.nodes[0].prepared, packed.relu == relu else {
                    Issue.record("B was not packed, or Relu not folded")
                    continue
                }
            }
            var feeds = ["a": Tensor(shape: [m, k], floats: a)]
            if !constant { feeds["b"] = Tensor(shape: bShape.map { Int($0) }, floats: stored) }
            let got = try #require(try model.run(feeds)["y"]?.floats)
            #expect(got.count == m * n)
            for i in 0..<m {
                for j in 0..<n {
                    var sum = 0.0
                    for p in 0..<k { sum += Double(a[i * k + p]) * Double(b[p * n + j]) }
                    sum = Double(alpha) * sum + Double(beta) * Double(c[j])
                    if relu { sum = max(sum, 0) }
                    let value = Double(got[i * n + j])
                    #expect(abs(value - sum) <= 1e-5 * max(1, abs(sum)), "m\(m) k\(k) n\(n) [\(i), \(j)]")
                }
            }
        }
    }

    /// The executor walks nodes through a pointer: a graph with none (an input returned as the output) runs.
    @Test func aGraphWithoutNodesReturnsItsInput() throws {
        var builder = ModelBuilder()
        builder.inputs = [("x", .float, [nil, 2])]
        builder.outputs = [("x", .float, [nil, 2])]
        let x = Tensor(shape: [1, 2], floats: [1, -2])
        #expect(try ONNXModel(bytes: builder.bytes).run(["x": x]) == ["x": x])
    }
}
