/// Trains models: split, standardise, build the architecture, run mini-batch gradient descent with early
/// stopping, and evaluate on the held-out rows.
public enum Trainer {
    /// Splits `dataset` (stratified, `options.testFraction`, seeded), trains on the training part and evaluates
    /// on the held-out part. `progress` is called after every epoch; `cancellation`, when set, stops training at the
    /// next mini-batch with `MLError(.cancelled)`.
    public static func train(
        _ dataset: Dataset, options: TrainingOptions, cancellation: JobCancellation? = nil,
        progress: (EpochReport) -> Void = { _ in }
    ) throws(MLError) -> (model: TrainedModel, evaluation: Evaluation) {
        try options.validate()
        let (train, test) = try dataset.stratifiedSplit(fraction: options.testFraction, seed: options.seed)
        let model = try fit(train, options: options, cancellation: cancellation, progress: progress)
        return (model, try model.evaluate(test))
    }

    /// Trains on every row of `train` (apart from the validation rows early stopping holds out).
    public static func fit(
        _ train: Dataset, options: TrainingOptions, cancellation: JobCancellation? = nil,
        progress: (EpochReport) -> Void = { _ in }
    ) throws(MLError) -> TrainedModel {
        try options.validate()
        guard train.labelNames.count >= 2, Set(train.labels).count >= 2 else {
            throw MLError(.invalidDataset, "training needs at least two classes")
        }
        let standardization = Standardization(fitting: train.features)
        let (specs, inputShape, loss) = try architecture(
            for: options, features: train.featureNames.count, classes: train.labelNames.count)
        try checkParameterCount(specs, limit: options.maximumParameters ?? TrainingOptions.defaultMaximumParameters)

        var fitting = train
        var validation: Dataset?
        if options.validationFraction > 0, train.count >= 20 {
            if let parts = try? train.stratifiedSplit(fraction: options.validationFraction, seed: options.seed &+ 1) {
                (fitting, validation) = (parts.train, parts.test)
            }
        }

        var generator = SeededGenerator(seed: options.seed)
        var network = try Network(specs: specs, using: &generator)
        let sigmoidOutput = specs.last?.type == .sigmoid
        let exampleShape = inputShape
        func prepare(_ data: Dataset) -> (inputs: Tensor, targets: Tensor) {
            let inputs = standardization.apply(to: data.features)
            let classes = data.labelNames.count
            var targets: Tensor
            if sigmoidOutput {
                targets = Tensor(shape: [data.count, 1], scalars: data.labels.map { Float($0) })
            } else {
                targets = Tensor(zeros: [data.count, classes])
                for (row, label) in data.labels.enumerated() { targets.scalars[row * classes + label] = 1 }
            }
            return (inputs, targets)
        }
        let (inputs, targets) = prepare(fitting)
        let held = validation.map(prepare)

        var state = OptimizerState(options.optimizer, for: network)
        var order = Array(0..<fitting.count)
        var best: (loss: Double, network: Network)?
        var sinceBest = 0
        for epoch in 1...options.epochs {
            order.shuffle(using: &generator)
            var total = 0.0
            for start in stride(from: 0, to: order.count, by: options.batchSize) {
                try cancellation?.check()
                let batch = Array(order[start..<min(start + options.batchSize, order.count)])
                let x = inputs.gatherRows(batch)
                let output = network.forward(x.reshaped([batch.count] + exampleShape))
                let value = network.backward(output: output, targets: targets.gatherRows(batch), loss: loss)
                state.update(&network, learningRate: options.learningRate, l2: options.l2)
                total += value * Double(batch.count)
            }
            let trainLoss = total / Double(max(order.count, 1))
            guard trainLoss.isFinite else {
                throw MLError(.trainingDiverged, "the loss became non-finite; lower the learning rate")
            }
            let check = held ?? (inputs, targets)
            let output = network(check.inputs.reshaped([check.inputs.shape[0]] + exampleShape))
            let accuracy = Self.accuracy(output, check.targets)
            let validationLoss = held.map { loss.value(output, $0.targets) }
            progress(
                EpochReport(
                    epoch: epoch, epochs: options.epochs, loss: trainLoss, validationAccuracy: accuracy,
                    validationLoss: validationLoss))
            if let validationLoss {
                if best == nil || validationLoss < best!.loss {
                    best = (validationLoss, network)
                    sinceBest = 0
                } else {
                    sinceBest += 1
                    if sinceBest >= options.patience { break }
                }
            }
        }
        if let best { network = best.network }

        let config = ModelConfig(
            kind: options.kind, layers: specs, inputShape: inputShape, featureNames: train.featureNames,
            labelColumn: train.labelColumn, labelNames: train.labelNames, standardization: standardization,
            loss: loss, training: options)
        return try TrainedModel(config: config, network: network)
    }

    /// The fraction of rows whose largest output matches the target (a single sigmoid output compares with 0.5).
    static func accuracy(_ output: Tensor, _ targets: Tensor) -> Double {
        let rows = output.shape[0]
        guard rows > 0 else { return 0 }
        if output.shape[1] == 1 {
            let correct = zip(output.scalars, targets.scalars).filter { ($0 >= 0.5) == ($1 >= 0.5) }.count
            return Double(correct) / Double(rows)
        }
        let correct = zip(output.argmaxPerRow(), targets.argmaxPerRow()).filter { $0 == $1 }.count
        return Double(correct) / Double(rows)
    }

    /// Refuses an architecture with more than `limit` parameters (checked arithmetic), before any allocation.
    static func checkParameterCount(_ specs: [LayerSpec], limit: Int) throws(MLError) {
        var total = 0
        for spec in specs {
            for shape in spec.parameterShapes {
                guard let count = shape.checkedProduct(limit: limit) else {
                    throw MLError(.invalidOptions, "the model would have more than \(limit) parameters")
                }
                let (sum, overflow) = total.addingReportingOverflow(count)
                guard !overflow, sum <= limit else {
                    throw MLError(.invalidOptions, "the model would have more than \(limit) parameters")
                }
                total = sum
            }
        }
    }

    /// The layer list, per-example input shape and loss for a model kind.
    public static func architecture(
        for options: TrainingOptions, features: Int, classes: Int
    ) throws(MLError) -> (layers: [LayerSpec], inputShape: [Int], loss: Loss) {
        func dense(_ inputs: Int, _ outputs: Int) -> LayerSpec {
            LayerSpec(type: .dense, inputs: inputs, outputs: outputs)
        }
        let head = [dense(0, classes), LayerSpec(type: .softmax)]  // inputs filled in below
        switch options.kind {
        case .logistic:
            if classes == 2 {
                return ([dense(features, 1), LayerSpec(type: .sigmoid)], [features], .binaryCrossEntropy)
            }
            return ([dense(features, classes), LayerSpec(type: .softmax)], [features], .categoricalCrossEntropy)
        case .mlp:
            var layers: [LayerSpec] = []
            var width = features
            for size in options.hidden {
                layers += [dense(width, size), LayerSpec(type: .relu)]
                width = size
            }
            var output = head
            output[0].inputs = width
            return (layers + output, [features], .categoricalCrossEntropy)
        case .heMLP:
            let size = options.hidden.first ?? 16
            return (
                [dense(features, size), LayerSpec(type: .square), dense(size, classes), LayerSpec(type: .softmax)],
                [features], .categoricalCrossEntropy
            )
        case .cnn:
            let image: ImageShape
            if let given = options.imageShape {
                image = given
            } else {
                let side = Int(Double(features).squareRoot().rounded())
                image = ImageShape(height: side, width: side, channels: 1)
            }
            guard image.count == features else {
                throw MLError(.invalidOptions, "the image shape does not match the number of feature columns")
            }
            guard image.height >= 4, image.width >= 4 else {
                throw MLError(.invalidOptions, "cnn needs images of at least 4x4 pixels")
            }
            func conv(_ inputs: Int, _ outputs: Int) -> LayerSpec {
                LayerSpec(type: .conv2D, inputs: inputs, outputs: outputs, kernelSize: 3, stride: 1, padding: 1)
            }
            let pool = LayerSpec(type: .maxPool2D, kernelSize: 2, stride: 2)
            let relu = LayerSpec(type: .relu)
            let finalHeight = image.height / 2 / 2
            let finalWidth = image.width / 2 / 2
            let hiddenSize = options.hidden.first ?? 64
            let layers = [
                conv(image.channels, 32), relu, pool, conv(32, 64), relu, pool, conv(64, 64), relu,
                LayerSpec(type: .flatten), dense(finalHeight * finalWidth * 64, hiddenSize), relu,
                dense(hiddenSize, classes), LayerSpec(type: .softmax),
            ]
            return (layers, [image.height, image.width, image.channels], .categoricalCrossEntropy)
        }
    }
}
