import Testing

@testable import MLCore

/// Finite-difference checks of every layer's backward pass. The probe loss is L = Σ wᵢ·yᵢ with fixed random
/// weights, so dL/dy = w; the forward passes are Float32, so the step and tolerance suit single precision.
private struct GradientCheck {
    static let step: Float = 4e-3

    static func probeLoss(_ output: Tensor, _ weights: Tensor) -> Double {
        zip(output.scalars, weights.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    static func close(_ analytic: Float, _ numeric: Double) -> Bool {
        abs(Double(analytic) - numeric) <= 2e-2 * max(1, abs(numeric))
    }

    /// Checks dL/dx and every dL/dparameter of `layer` at `input`.
    static func run(_ layer: any Layer, input: Tensor, seed: UInt64 = 1) {
        var layer = layer
        var generator = SeededGenerator(seed: seed)
        let output = layer.forward(input)
        let weights = Tensor(randomUniform: output.shape, in: -1...1, using: &generator)
        let inputGradient = layer.backward(weights)
        let parameterGradients = layer.gradients
        #expect(inputGradient.shape == input.shape)

        for index in sampledIndices(input.count, using: &generator) {
            var plus = input
            plus.scalars[index] += step
            var minus = input
            minus.scalars[index] -= step
            let numeric = (probeLoss(layer(plus), weights) - probeLoss(layer(minus), weights)) / Double(2 * step)
            #expect(
                close(inputGradient.scalars[index], numeric),
                "\(layer.spec.type) input[\(index)]: analytic \(inputGradient.scalars[index]) numeric \(numeric)")
        }
        let parameters = layer.parameters
        for position in parameters.indices {
            #expect(parameterGradients[position].shape == parameters[position].shape)
            for index in sampledIndices(parameters[position].count, using: &generator) {
                var probe = layer
                var changed = parameters
                changed[position].scalars[index] += step
                probe.parameters = changed
                let up = probeLoss(probe(input), weights)
                changed[position].scalars[index] -= 2 * step
                probe.parameters = changed
                let down = probeLoss(probe(input), weights)
                let numeric = (up - down) / Double(2 * step)
                let analytic = parameterGradients[position].scalars[index]
                #expect(
                    close(analytic, numeric),
                    "\(layer.spec.type) parameter \(position)[\(index)]: analytic \(analytic) numeric \(numeric)")
            }
        }
    }

    static func sampledIndices(_ count: Int, using generator: inout SeededGenerator) -> [Int] {
        count <= 40 ? Array(0..<count) : (0..<40).map { _ in Int.random(in: 0..<count, using: &generator) }
    }

    /// Random values kept at least 0.05 away from zero, so ReLU's kink is never within a step.
    static func input(_ shape: [Int], seed: UInt64) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return Tensor(randomUniform: shape, in: 0.05...1, using: &generator).map { value in
            Bool.random(using: &generator) ? value : -value
        }
    }
}

@Test func denseGradientsMatchFiniteDifferences() {
    var generator = SeededGenerator(seed: 3)
    GradientCheck.run(Dense(inputs: 5, outputs: 4, using: &generator), input: GradientCheck.input([3, 5], seed: 4))
}

@Test(arguments: [(1, 1), (1, 0), (2, 1)])
func conv2DGradientsMatchFiniteDifferences(_ geometry: (stride: Int, padding: Int)) {
    var generator = SeededGenerator(seed: 5)
    var layer = Conv2D(
        inputChannels: 2, outputChannels: 3, kernelSize: 3, stride: geometry.stride, padding: geometry.padding,
        using: &generator)
    layer.bias = Tensor(randomUniform: [3], in: -0.5...0.5, using: &generator)
    GradientCheck.run(layer, input: GradientCheck.input([2, 5, 5, 2], seed: 6))
}

@Test func maxPoolGradientsMatchFiniteDifferences() {
    // Distinct values spaced far wider than the step, so no window has a near-tie.
    var generator = SeededGenerator(seed: 7)
    let count = 96
    var values: [Float] = (0..<count).map { (index: Int) -> Float in Float(index) / 10 - 4 }
    values.shuffle(using: &generator)
    GradientCheck.run(MaxPool2D(size: 2), input: Tensor(shape: [2, 4, 4, 3], scalars: values))
}

@Test func activationGradientsMatchFiniteDifferences() {
    let input = GradientCheck.input([3, 6], seed: 8)
    GradientCheck.run(ReLU(), input: input)
    GradientCheck.run(Sigmoid(), input: input)
    GradientCheck.run(Softmax(), input: input)
    GradientCheck.run(Square(), input: input)
    GradientCheck.run(Flatten(), input: GradientCheck.input([2, 3, 2, 2], seed: 9))
}

@Test(arguments: [Loss.binaryCrossEntropy, .categoricalCrossEntropy, .meanSquaredError])
func lossGradientsMatchFiniteDifferences(_ loss: Loss) {
    var generator = SeededGenerator(seed: 10)
    let predictions = Tensor(randomUniform: [4, 3], in: 0.1...0.9, using: &generator)
    var targets = Tensor(zeros: [4, 3])
    for row in 0..<4 { targets.scalars[row * 3 + row % 3] = 1 }
    let analytic = loss.gradient(predictions, targets)
    for index in 0..<predictions.count {
        var plus = predictions
        plus.scalars[index] += 1e-3
        var minus = predictions
        minus.scalars[index] -= 1e-3
        let numeric = (loss.value(plus, targets) - loss.value(minus, targets)) / 2e-3
        #expect(abs(Double(analytic.scalars[index]) - numeric) <= 1e-2 * max(1, abs(numeric)))
    }
}

/// The fused (p − t)/n gradient of softmax + cross-entropy and sigmoid + binary cross-entropy must equal the
/// finite-difference gradient of the whole network's loss.
@Test(arguments: [(LayerSpec.Kind.softmax, Loss.categoricalCrossEntropy, 3), (.sigmoid, .binaryCrossEntropy, 1)])
func fusedOutputGradientsMatchFiniteDifferences(_ setup: (LayerSpec.Kind, Loss, Int)) throws {
    let (activation, loss, outputs) = setup
    var generator = SeededGenerator(seed: 11)
    var network = try Network(
        specs: [LayerSpec(type: .dense, inputs: 4, outputs: outputs), LayerSpec(type: activation)],
        using: &generator)
    let input = GradientCheck.input([5, 4], seed: 12)
    var targets = Tensor(zeros: [5, outputs])
    for row in 0..<5 { targets.scalars[row * outputs + row % outputs] = outputs == 1 ? Float(row % 2) : 1 }
    let output = network.forward(input)
    network.backward(output: output, targets: targets, loss: loss)
    let analytic = network.layers[0].gradients[0]
    for index in 0..<analytic.count {
        var probe = network
        var parameters = probe.layers[0].parameters
        parameters[0].scalars[index] += 1e-2
        probe.layers[0].parameters = parameters
        let up = loss.value(probe(input), targets)
        parameters[0].scalars[index] -= 2e-2
        probe.layers[0].parameters = parameters
        let down = loss.value(probe(input), targets)
        let numeric = (up - down) / 2e-2
        #expect(abs(Double(analytic.scalars[index]) - numeric) <= 1e-2 * max(1, abs(numeric)))
    }
}
