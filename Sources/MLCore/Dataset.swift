public import Foundation

/// A labelled numeric data set: one row per example, raw (unstandardised) feature values and a class per row.
public struct Dataset: Sendable, Equatable {
    /// The feature column names, in column order.
    public var featureNames: [String]
    /// The name of the label column.
    public var labelColumn: String
    /// The class names; a row's class is an index into this list. Numeric labels are ordered by value, other
    /// labels alphabetically.
    public var labelNames: [String]
    /// The raw feature values, [rows, features].
    public var features: Tensor
    /// The class index of each row.
    public var labels: [Int]

    /// The number of rows.
    public var count: Int { labels.count }

    /// Creates a data set from feature rows and the text label of each row.
    public init(
        features rows: [[Float]], labels: [String], featureNames: [String], labelColumn: String = "label"
    ) throws(MLError) {
        guard rows.count == labels.count else {
            throw MLError(.invalidDataset, "the number of label values differs from the number of rows")
        }
        for (index, row) in rows.enumerated() where row.count != featureNames.count {
            throw MLError(.invalidDataset, "row \(index + 1) has the wrong number of features")
        }
        for (index, row) in rows.enumerated() where !row.allSatisfy(\.isFinite) {
            throw MLError(.invalidDataset, "row \(index + 1) holds a value that is not a finite number")
        }
        let (names, classes) = try Self.encode(labels: labels, column: labelColumn)
        self.init(
            featureNames: featureNames, labelColumn: labelColumn, labelNames: names,
            features: Tensor(shape: [rows.count, featureNames.count], scalars: rows.flatMap { $0 }),
            labels: classes)
    }

    /// Creates a data set from already encoded parts.
    public init(featureNames: [String], labelColumn: String, labelNames: [String], features: Tensor, labels: [Int]) {
        precondition(features.rank == 2 && features.shape == [labels.count, featureNames.count], "shape mismatch")
        precondition(labels.allSatisfy { (0..<labelNames.count).contains($0) }, "class index out of range")
        self.featureNames = featureNames
        self.labelColumn = labelColumn
        self.labelNames = labelNames
        self.features = features
        self.labels = labels
    }

    /// Loads a CSV file with a header: the column named `label` holds the classes, every other column must be
    /// numeric.
    public static func csv(_ data: Data, label: String) throws(MLError) -> Dataset {
        try csv(CSVTable.parse(data), label: label)
    }

    /// Names what is there when the label is not: a column differing only in case first, then the columns (the
    /// first 12 of a wide table).
    static func noSuchLabel(_ label: String, in header: [String]) -> String {
        var message = "there is no label column '\(label)'"
        if let other = header.first(where: { $0.lowercased() == label.lowercased() }) {
            message += " (did you mean '\(other)'?)"
        }
        let shown = header.prefix(12).map { "'\($0)'" }.joined(separator: ", ")
        return message + "; the columns are \(shown)" + (header.count > 12 ? ", … (\(header.count) in all)" : "")
    }

    /// Builds a data set from a parsed CSV table.
    public static func csv(_ table: CSVTable, label: String) throws(MLError) -> Dataset {
        guard let labelPosition = table.header.firstIndex(of: label) else {
            throw MLError(.invalidDataset, Self.noSuchLabel(label, in: table.header))
        }
        let featureNames = table.header.enumerated().filter { $0.offset != labelPosition }.map(\.element)
        guard !featureNames.isEmpty else { throw MLError(.invalidDataset, "there are no feature columns") }
        let features = try table.numericColumns(featureNames)
        var labels: [String] = []
        labels.reserveCapacity(table.rows.count)
        for (index, row) in table.rows.enumerated() {
            let text = row[labelPosition].trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty else { throw MLError(.invalidDataset, "row \(index + 1) has an empty label") }
            labels.append(text)
        }
        let (names, classes) = try encode(labels: labels, column: label)
        return Dataset(
            featureNames: featureNames, labelColumn: label, labelNames: names, features: features, labels: classes)
    }

    /// Maps text labels to class indices. All-numeric labels are canonicalised ("1.0" and "1" are one class) and
    /// ordered by value, so the digits 0–9 become classes 0–9.
    static func encode(labels: [String], column: String) throws(MLError) -> (names: [String], classes: [Int]) {
        let numbers = labels.map { Double($0) }
        if !labels.isEmpty, numbers.allSatisfy({ $0?.isFinite == true }) {
            let values = numbers.map { $0! }
            let distinct = Array(Set(values)).sorted()
            let names = distinct.map(canonicalName)
            let index = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, $0) })
            return (names, values.map { index[$0]! })
        }
        let names = Array(Set(labels)).sorted()
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        return (names, labels.map { index[$0]! })
    }

    static func canonicalName(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    /// The rows at `indices`, in that order.
    public func subset(_ indices: [Int]) -> Dataset {
        Dataset(
            featureNames: featureNames, labelColumn: labelColumn, labelNames: labelNames,
            features: features.gatherRows(indices), labels: indices.map { labels[$0] })
    }

    /// A stratified split: each class contributes `fraction` of its rows (rounded, at least one when it has two or
    /// more) to the second part, chosen by a generator seeded with `seed`.
    public func stratifiedSplit(fraction: Double, seed: UInt64) throws(MLError) -> (train: Dataset, test: Dataset) {
        guard fraction > 0, fraction < 1 else {
            throw MLError(.invalidOptions, "the split fraction must lie strictly between 0 and 1")
        }
        var generator = SeededGenerator(seed: seed)
        var train: [Int] = []
        var test: [Int] = []
        for label in labelNames.indices {
            var members = labels.indices.filter { labels[$0] == label }
            members.shuffle(using: &generator)
            var take = Int((Double(members.count) * fraction).rounded())
            if members.count >= 2 { take = min(max(take, 1), members.count - 1) } else { take = 0 }
            test += members[..<take]
            train += members[take...]
        }
        guard !train.isEmpty, !test.isEmpty else {
            throw MLError(.invalidDataset, "too few rows to split")
        }
        return (subset(train.sorted()), subset(test.sorted()))
    }

    /// The data set as CSV (features, then the label column with label names).
    public func csvData() -> Data {
        let columns = featureNames.count
        let rows = (0..<count).map { row in
            (0..<columns).map { "\(features.scalars[row * columns + $0])" } + [labelNames[labels[row]]]
        }
        return Data(CSVTable(header: featureNames + [labelColumn], rows: rows).text().utf8)
    }

    /// Re-expresses this data set's classes in the order of `names` (e.g. a model's label names); fails if a
    /// label is unknown there.
    public func relabeled(as names: [String]) throws(MLError) -> Dataset {
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        var mapping: [Int] = []
        for name in labelNames {
            guard let position = index[name] else {
                throw MLError(.invalidDataset, "the data set has a label the model does not know")
            }
            mapping.append(position)
        }
        return Dataset(
            featureNames: featureNames, labelColumn: labelColumn, labelNames: names, features: features,
            labels: labels.map { mapping[$0] })
    }
}

/// Per-feature standardisation, (x − mean) / std, fitted on training rows only and stored with the model.
public struct Standardization: Codable, Sendable, Equatable {
    /// The mean of each feature.
    public var mean: [Float]
    /// The standard deviation of each feature (1 where a feature is constant, so it maps to 0).
    public var std: [Float]

    /// Creates a standardisation from its parameters.
    public init(mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
    }

    /// Fits mean and (population) standard deviation per column of a [rows, features] tensor.
    public init(fitting features: Tensor) {
        let (rows, columns) = (features.shape[0], features.shape[1])
        var sums = [Double](repeating: 0, count: columns)
        var squares = [Double](repeating: 0, count: columns)
        for row in 0..<rows {
            for column in 0..<columns {
                let value = Double(features.scalars[row * columns + column])
                sums[column] += value
                squares[column] += value * value
            }
        }
        let n = Double(max(rows, 1))
        mean = sums.map { Float($0 / n) }
        std = zip(sums, squares).map { sum, square in
            let variance = max(square / n - (sum / n) * (sum / n), 0)
            let deviation = variance.squareRoot()
            return deviation > 1e-8 ? Float(deviation) : 1
        }
    }

    /// The standardised copy of a [rows, features] tensor.
    public func apply(to features: Tensor) -> Tensor {
        let columns = mean.count
        precondition(features.shape.last == columns, "feature count differs from the standardisation")
        var out = features
        out.scalars.withUnsafeMutableBufferPointer { buffer in
            var offset = 0
            while offset < buffer.count {
                for column in 0..<columns {
                    buffer[offset + column] = (buffer[offset + column] - mean[column]) / std[column]
                }
                offset += columns
            }
        }
        return out
    }
}
