import Foundation

/// The model architectures MLCore trains.
public enum ModelKind: String, Codable, Sendable, CaseIterable {
    /// Logistic regression: one sigmoid output for two classes, softmax (multinomial) for more.
    case logistic
    /// A multilayer perceptron: Dense + ReLU per hidden size, then Dense + softmax.
    case mlp
    /// The convolutional network for small images: Conv 32 3x3 → MaxPool → Conv 64 3x3 → MaxPool → Conv 64 3x3 →
    /// Flatten → Dense 64 → Dense N, every convolution padded to keep its input size.
    case cnn
    /// Dense → Square → Dense: a network a homomorphic (CKKS) evaluator can run on encrypted inputs.
    case heMLP = "he-mlp"
}

/// The shape of one input image, height × width × channels (pixels in row-major HWC order in the feature row).
public struct ImageShape: Codable, Sendable, Equatable, LosslessStringConvertible {
    /// Rows of pixels.
    public var height: Int
    /// Columns of pixels.
    public var width: Int
    /// Values per pixel.
    public var channels: Int

    /// Creates an image shape.
    public init(height: Int, width: Int, channels: Int) {
        self.height = height
        self.width = width
        self.channels = channels
    }

    /// Parses "HxWxC" (e.g. "8x8x1") or "HxW" (one channel); nil if malformed or not positive.
    public init?(_ description: String) {
        let parts = description.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 2 || parts.count == 3, parts.allSatisfy({ ($0 ?? 0) > 0 && ($0 ?? 0) <= 4096 }) else {
            return nil
        }
        self.init(height: parts[0]!, width: parts[1]!, channels: parts.count == 3 ? parts[2]! : 1)
    }

    /// "HxWxC".
    public var description: String { "\(height)x\(width)x\(channels)" }

    /// The number of values per image.
    public var count: Int { height * width * channels }
}

/// Hyperparameters for `Trainer.train`. `init(kind:)` fills in defaults that meet the acceptance targets for
/// that kind; override any field afterwards.
public struct TrainingOptions: Codable, Sendable, Equatable {
    /// The architecture.
    public var kind: ModelKind
    /// Hidden layer sizes (mlp: one Dense + ReLU each; he-mlp: the first is the width of the squared layer).
    public var hidden: [Int]
    /// The maximum number of passes over the training rows.
    public var epochs: Int
    /// Rows per gradient step.
    public var batchSize: Int
    /// The optimiser's step size.
    public var learningRate: Float
    /// Seeds the split, the initial weights and the shuffling: the same seed gives the same model.
    public var seed: UInt64
    /// The fraction of rows held out (stratified) for the final evaluation.
    public var testFraction: Double
    /// The fraction of the training rows held out (stratified) for early stopping; 0 disables early stopping.
    public var validationFraction: Double
    /// Stop after this many epochs without a lower validation loss (the best weights are restored).
    public var patience: Int
    /// L2 penalty on weights (not biases), added to the gradient as `l2 · w`.
    public var l2: Float
    /// The update rule.
    public var optimizer: Optimizer
    /// The image shape for `cnn` (default: square, one channel, inferred from the feature count).
    public var imageShape: ImageShape?
    /// The most trainable parameters the architecture may have (nil: ``defaultMaximumParameters``). Checked
    /// before anything is allocated; weights, gradients and optimizer state take about 16 bytes each.
    public var maximumParameters: Int?

    /// The default parameter cap: 2^24 (16.8 M parameters, about 256 MiB with gradients and Adam state).
    public static let defaultMaximumParameters = 1 << 24

    /// Defaults for `kind`.
    public init(kind: ModelKind) {
        self.kind = kind
        seed = 42
        testFraction = 0.2
        validationFraction = 0.1
        optimizer = .adam
        imageShape = nil
        switch kind {
        case .logistic:
            hidden = []
            epochs = 200
            batchSize = 32
            learningRate = 0.01
            patience = 30
            l2 = 1e-4
        case .mlp:
            hidden = [64, 32]
            epochs = 100
            batchSize = 32
            learningRate = 0.001
            patience = 15
            l2 = 1e-4
        case .cnn:
            hidden = [64]
            epochs = 30
            batchSize = 32
            learningRate = 0.001
            patience = 6
            l2 = 0
        case .heMLP:
            hidden = [16]
            epochs = 150
            batchSize = 32
            learningRate = 0.002
            patience = 25
            l2 = 1e-3
        }
    }

    /// Parses a comma-separated list of hidden layer sizes such as "64,32" (nil if malformed or not positive).
    public static func hiddenSizes(parsing text: String) -> [Int]? {
        let sizes = text.split(separator: ",", omittingEmptySubsequences: false).map {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 1 << 16 }) else { return nil }
        return sizes.map { $0! }
    }

    /// Checks every field's range.
    public func validate() throws(MLError) {
        guard epochs >= 1, epochs <= 100_000 else { throw MLError(.invalidOptions, "epochs must be 1...100000") }
        guard batchSize >= 1, batchSize <= 1 << 20 else {
            throw MLError(.invalidOptions, "batch size must be positive")
        }
        guard learningRate > 0, learningRate.isFinite else {
            throw MLError(.invalidOptions, "the learning rate must be a positive number")
        }
        guard testFraction > 0, testFraction < 1 else {
            throw MLError(.invalidOptions, "the test fraction must lie strictly between 0 and 1")
        }
        guard validationFraction >= 0, validationFraction < 1 else {
            throw MLError(.invalidOptions, "the validation fraction must lie in [0, 1)")
        }
        guard patience >= 1 else { throw MLError(.invalidOptions, "patience must be at least 1") }
        guard l2 >= 0, l2.isFinite else { throw MLError(.invalidOptions, "the L2 penalty must be non-negative") }
        guard hidden.allSatisfy({ $0 >= 1 && $0 <= 1 << 16 }) else {
            throw MLError(.invalidOptions, "hidden sizes must be 1...65536")
        }
        if kind == .heMLP, hidden.count != 1 {
            throw MLError(.invalidOptions, "he-mlp takes exactly one hidden size")
        }
    }
}

/// What the progress callback receives after each epoch.
public struct EpochReport: Sendable, Equatable, CustomStringConvertible {
    /// The epoch just finished, from 1.
    public var epoch: Int
    /// The maximum number of epochs (training may stop earlier).
    public var epochs: Int
    /// The mean training loss over the epoch.
    public var loss: Double
    /// Accuracy on the validation rows (on the training rows when there is no validation split).
    public var validationAccuracy: Double
    /// The loss on the validation rows, if there are any.
    public var validationLoss: Double?

    /// One status line, e.g. "epoch 3/30  loss 0.1234  validation accuracy 97.22%".
    public var description: String {
        let loss = (self.loss * 10000).rounded() / 10000
        let accuracy = (validationAccuracy * 10000).rounded() / 100
        return "epoch \(epoch)/\(epochs)  loss \(loss)  validation accuracy \(accuracy)%"
    }
}
