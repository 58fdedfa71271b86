import Foundation

extension CKKSContext {
    /// The largest bound B (standardised units, below 16) such that every query whose values all satisfy |x| ≤ B
    /// passes the range check of `PrivateInferenceClient.encrypt(rows:for:)` for `model` on this context, for any
    /// number of rows; 0 when not even a row of zeros fits.
    ///
    /// A model's public descriptor declares it, so that a data owner who has no weights can still refuse an input
    /// the circuit cannot hold instead of receiving noise as predictions. Each stage is bounded as `checkRange`
    /// bounds it, with |x_i| ≤ B in place of the row and the stage's sum taken over a full chunk of rows.
    public func inputBound(for model: PrivateModel) throws -> Double {
        let fits: (Double) -> Bool
        switch model {
        case .linear(let linear):
            let layout = try queryLayout(for: .coefficientRows)
            let limit = exp2(modulusBits(level: layout.level) - 2 - Double(LinearCircuit.resultScaleBits))
            let norms = linear.weights.map { $0.reduce(0) { $0 + abs($1) } }
            fits = { bound in zip(norms, linear.bias).allSatisfy { $0 * bound + abs($1) < limit } }
        case .squareMLP(let mlp):
            // The same budgets as `checkRange`, over a full chunk of rows.
            let limits = try mlpBudgets()
            let rows = Double(degree / 2)
            let norms = mlp.w1.map { $0.reduce(0) { $0 + abs($1) } }
            fits = { bound in
                let hidden = zip(norms, mlp.b1).map { $0 * bound + abs($1) }
                let squares = hidden.map { $0 * $0 }
                var output = 0.0
                var score = 0.0
                for (w, b) in zip(mlp.w2, mlp.b2) {
                    let out = zip(w, squares).reduce(0) { $0 + abs($1.0) * $1.1 }
                    output += out
                    score += out + abs(b)
                }
                return rows * squares.reduce(0, +) < limits.square && rows * output < limits.output
                    && rows * score < limits.score
            }
        }
        // The encoder's bound on a value at the linear query scale (|x| · 2^58 < 2^62), kept for both circuits.
        let ceiling = 0x1p62 / LinearCircuit.inputScale * (1 - 0x1p-20)
        guard fits(0) else { return 0 }
        if fits(ceiling) { return ceiling }
        var (low, high) = (0.0, ceiling)
        for _ in 0..<64 {
            let middle = (low + high) / 2
            if fits(middle) { low = middle } else { high = middle }
        }
        return low
    }
}

extension HEError {
    /// Whether the error refuses the caller's input rows as outside the range the circuit carries (bad input,
    /// not a failure of the library).
    public var isInputOutOfRange: Bool {
        if case .inputOutOfRange = code { return true }
        return false
    }
}
