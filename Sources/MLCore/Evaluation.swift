/// Classification metrics on a labelled set. Binary problems report precision, recall and F1 for the positive
/// class (the second label, e.g. "1") and ROC AUC; multiclass problems report macro averages.
public struct Evaluation: Codable, Sendable, Equatable {
    /// The class names, in the order of the confusion matrix.
    public var labelNames: [String]
    /// The number of rows evaluated.
    public var sampleCount: Int
    /// The fraction of rows predicted correctly.
    public var accuracy: Double
    /// Binary: precision of the positive class; multiclass: macro average.
    public var precision: Double
    /// Binary: recall of the positive class; multiclass: macro average.
    public var recall: Double
    /// Binary: F1 of the positive class; multiclass: macro average.
    public var f1: Double
    /// "binary" or "macro".
    public var averaging: String
    /// The positive class for binary metrics.
    public var positiveLabel: String?
    /// Area under the ROC curve (binary only).
    public var rocAUC: Double?
    /// counts[true class][predicted class].
    public var confusionMatrix: [[Int]]

    /// Computes the metrics from true class indices and predicted probabilities ([rows, classes]).
    public init(labels: [Int], probabilities: Tensor, labelNames: [String]) {
        let classes = labelNames.count
        precondition(probabilities.shape == [labels.count, classes], "probabilities do not match the labels")
        let predicted = probabilities.argmaxPerRow()
        var matrix = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        for (truth, guess) in zip(labels, predicted) { matrix[truth][guess] += 1 }
        let correct = (0..<classes).reduce(0) { $0 + matrix[$1][$1] }

        func ratio(_ numerator: Int, _ denominator: Int) -> Double {
            denominator == 0 ? 0 : Double(numerator) / Double(denominator)
        }
        func scores(_ c: Int) -> (precision: Double, recall: Double, f1: Double) {
            let truePositives = matrix[c][c]
            let predictedPositives = (0..<classes).reduce(0) { $0 + matrix[$1][c] }
            let actualPositives = matrix[c].reduce(0, +)
            let precision = ratio(truePositives, predictedPositives)
            let recall = ratio(truePositives, actualPositives)
            let f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
            return (precision, recall, f1)
        }

        self.labelNames = labelNames
        sampleCount = labels.count
        accuracy = ratio(correct, labels.count)
        confusionMatrix = matrix
        if classes == 2 {
            (precision, recall, f1) = scores(1)
            averaging = "binary"
            positiveLabel = labelNames[1]
            let positiveScores = (0..<labels.count).map { probabilities.scalars[$0 * 2 + 1] }
            rocAUC = Self.areaUnderROC(scores: positiveScores, positives: labels.map { $0 == 1 })
        } else {
            let all = (0..<classes).map(scores)
            precision = all.map(\.precision).reduce(0, +) / Double(classes)
            recall = all.map(\.recall).reduce(0, +) / Double(classes)
            f1 = all.map(\.f1).reduce(0, +) / Double(classes)
            averaging = "macro"
            positiveLabel = nil
            rocAUC = nil
        }
    }

    /// ROC AUC as the Mann-Whitney statistic: the probability a random positive outscores a random negative
    /// (ties count half). Nil when one class is absent.
    static func areaUnderROC(scores: [Float], positives: [Bool]) -> Double? {
        let positiveCount = positives.filter { $0 }.count
        let negativeCount = positives.count - positiveCount
        guard positiveCount > 0, negativeCount > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && scores[order[end + 1]] == scores[order[start]] { end += 1 }
            let averageRank = Double(start + end) / 2 + 1  // ranks are 1-based; ties share the mean rank
            for position in start...end where positives[order[position]] { rankSum += averageRank }
            start = end + 1
        }
        let u = rankSum - Double(positiveCount * (positiveCount + 1)) / 2
        return u / Double(positiveCount * negativeCount)
    }

    /// A human-readable report: the metrics, then the confusion matrix with true classes as rows.
    public var report: String {
        func percent(_ value: Double) -> String {
            let scaled = (value * 10000).rounded() / 100
            return "\(scaled)%"
        }
        var lines = ["rows evaluated: \(sampleCount)", "accuracy:  \(percent(accuracy))"]
        let suffix = averaging == "binary" ? " (positive class \(positiveLabel ?? "?"))" : " (macro average)"
        lines.append("precision: \(percent(precision))" + suffix)
        lines.append("recall:    \(percent(recall))" + suffix)
        lines.append("F1:        \(percent(f1))" + suffix)
        if let rocAUC { lines.append("ROC AUC:   \((rocAUC * 10000).rounded() / 10000)") }
        lines.append("confusion matrix (rows: true class, columns: predicted class):")
        let width = max(
            labelNames.map(\.count).max() ?? 1, confusionMatrix.flatMap { $0 }.map { String($0).count }.max() ?? 1, 4)
        func pad(_ text: String) -> String { String(repeating: " ", count: max(width - text.count, 0)) + text }
        lines.append(pad("") + " " + labelNames.map(pad).joined(separator: " "))
        for (index, row) in confusionMatrix.enumerated() {
            lines.append(pad(labelNames[index]) + " " + row.map { pad(String($0)) }.joined(separator: " "))
        }
        return lines.joined(separator: "\n")
    }
}
