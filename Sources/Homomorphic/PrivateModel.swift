/// A linear model in plain weights: scores = W x + b (logistic regression, binary with one class row or
/// multiclass with one row per class). The client applies the sigmoid or argmax to the decrypted scores.
public struct LinearModel: Sendable, Hashable {
    /// classes x features.
    public let weights: [[Double]]
    /// One bias per class.
    public let bias: [Double]

    /// Validates that every weight row has the same length and there is one bias per row.
    public init(weights: [[Double]], bias: [Double]) throws {
        guard !weights.isEmpty, let features = weights.first?.count, features > 0,
            weights.allSatisfy({ $0.count == features }), bias.count == weights.count
        else { throw HEError.modelShapeMismatch }
        self.weights = weights
        self.bias = bias
    }

    /// Number of input features.
    public var featureCount: Int { weights[0].count }
    /// Number of score outputs.
    public var classCount: Int { weights.count }

    /// The plaintext scores of one row.
    public func scores(_ row: [Double]) -> [Double] {
        zip(weights, bias).map { w, b in zip(w, row).reduce(b) { $0 + $1.0 * $1.1 } }
    }
}

/// A two-layer network with the square activation, the one CKKS evaluates exactly:
/// scores = W2 (W1 x + b1)^2 + b2.
public struct SquareMLP: Sendable, Hashable {
    /// hidden x features.
    public let w1: [[Double]]
    /// One bias per hidden unit.
    public let b1: [Double]
    /// classes x hidden.
    public let w2: [[Double]]
    /// One bias per class.
    public let b2: [Double]

    /// Validates the shapes.
    public init(w1: [[Double]], b1: [Double], w2: [[Double]], b2: [Double]) throws {
        guard !w1.isEmpty, let features = w1.first?.count, features > 0, w1.allSatisfy({ $0.count == features }),
            b1.count == w1.count, !w2.isEmpty, w2.allSatisfy({ $0.count == w1.count }), b2.count == w2.count
        else { throw HEError.modelShapeMismatch }
        self.w1 = w1
        self.b1 = b1
        self.w2 = w2
        self.b2 = b2
    }

    /// Number of input features.
    public var featureCount: Int { w1[0].count }
    /// Number of hidden units.
    public var hiddenCount: Int { w1.count }
    /// Number of score outputs.
    public var classCount: Int { w2.count }

    /// The plaintext scores of one row.
    public func scores(_ row: [Double]) -> [Double] {
        let hidden = zip(w1, b1).map { w, b in
            let h = zip(w, row).reduce(b) { $0 + $1.0 * $1.1 }
            return h * h
        }
        return zip(w2, b2).map { w, b in zip(w, hidden).reduce(b) { $0 + $1.0 * $1.1 } }
    }
}

/// A model the server can evaluate on encrypted rows.
public enum PrivateModel: Sendable, Hashable {
    /// Linear scores (logistic regression).
    case linear(LinearModel)
    /// The square-activation MLP.
    case squareMLP(SquareMLP)

    /// Number of input features.
    public var featureCount: Int {
        switch self {
        case .linear(let model): model.featureCount
        case .squareMLP(let model): model.featureCount
        }
    }

    /// Number of score outputs.
    public var classCount: Int {
        switch self {
        case .linear(let model): model.classCount
        case .squareMLP(let model): model.classCount
        }
    }

    /// The packing the client must use for this model.
    public var packing: QueryPacking {
        switch self {
        case .linear: .coefficientRows
        case .squareMLP: .slotPerFeature
        }
    }

    /// The plaintext scores of one row.
    public func scores(_ row: [Double]) -> [Double] {
        switch self {
        case .linear(let model): model.scores(row)
        case .squareMLP(let model): model.scores(row)
        }
    }
}

/// How rows are laid out in the query's ciphertexts.
public enum QueryPacking: UInt8, Sendable, Hashable {
    /// Coefficient encoding, row r's feature f at coefficient r*S + f (S = features rounded up to a power of two),
    /// N/S rows per ciphertext. A linear score is one plaintext-polynomial product: the weights sit reversed in
    /// the first S coefficients, so coefficient r*S + S - 1 of the product is exactly w·x_r (other coefficients
    /// hold cross terms, which the server masks with uniform noise). No rotation, no key, one level.
    case coefficientRows = 1
    /// One ciphertext per feature, row r in slot r (N/2 rows per ciphertext set). Every layer is plaintext-scalar
    /// multiplies and additions; only the square needs a ciphertext product. No rotation.
    case slotPerFeature = 2
}
