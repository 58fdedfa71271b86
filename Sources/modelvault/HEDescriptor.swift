import ArgumentParser
import Foundation
import Homomorphic
import MLCore
import Vault
import VaultCrypto

/// A model's public private-inference descriptor (issue #20): what the data owner needs to encrypt rows for a
/// model and read its results, and nothing secret. The model owner exports it (`he export-descriptor`); the data
/// owner then runs `he encrypt --descriptor` with no vault, token or passphrase.
struct HEDescriptor: Codable, Equatable {
    static let currentFormat = 1

    /// The schema version; readers refuse a newer one.
    var format: Int
    /// The exact version (`NAME@V`) the descriptor was made from.
    var model: String
    /// `logistic`, `he-mlp` or `onnx-linear`.
    var kind: String
    var featureNames: [String]
    var labelNames: [String]
    /// The training-time standardisation the rows go through before encryption.
    var standardization: Standardization
    /// The hidden width of `he-mlp` (its shape, not its weights); `nil` for `logistic`.
    var hiddenCount: Int?
    /// The number of scores per row.
    var classCount: Int
    /// The declared input range: every standardised value must satisfy |z| ≤ inputBound (feature i's raw range
    /// is mean ± inputBound · std), so that the model's scores fit the encrypted circuit on every parameter set
    /// (`CKKSContext.inputBound(for:)`). `nil` in a descriptor exported before it was declared: refused.
    var inputBound: Double?

    init(model: String, subject: PrivateInferenceSubject) {
        self.format = Self.currentFormat
        self.model = model
        self.kind = subject.kind
        self.featureNames = subject.featureNames
        self.labelNames = subject.labelNames
        self.standardization = subject.standardization
        self.classCount = subject.model.classCount
        if case .squareMLP(let mlp) = subject.model { self.hiddenCount = mlp.hiddenCount }
    }

    /// The smallest input bound over the parameter sets that can run `model` (the data owner picks the set).
    static func inputBound(for model: PrivateModel) throws -> Double {
        var bounds: [Double] = []
        for named in CKKSParameters.namedSets {
            guard let context = try? CKKSContext(parameters: named.parameters()),
                let bound = try? context.inputBound(for: model)
            else { continue }
            bounds.append(bound)
        }
        guard let smallest = bounds.min() else {
            throw CLIError("no CKKS parameter set can run this model privately", status: .invalidInput)
        }
        return smallest
    }

    /// Refuses, naming the first row and column, a standardised value outside the declared input range: the
    /// model's scores could overflow the circuit and decrypt as noise. The same refusal (exit 5) as `--model`.
    func checkInputRange(_ rows: [[Double]], descriptorPath path: String) throws {
        guard let inputBound, inputBound.isFinite, inputBound > 0 else {
            throw CLIError(
                "the model descriptor \(path) declares no input range; ask the model owner to export it again "
                    + "(modelvault he export-descriptor)", status: .invalidInput)
        }
        for (index, row) in rows.enumerated() {
            guard let column = row.indices.first(where: { !(abs(row[$0]) <= inputBound) }) else { continue }
            let mean = Double(standardization.mean[column])
            let spread = inputBound * Double(standardization.std[column])
            throw CLIError(
                "row \(index + 1): \(column < featureNames.count ? featureNames[column] : "column \(column + 1)") is outside the range the model accepts ("
                    + "\(Self.format(mean - spread)) to \(Self.format(mean + spread)), from the descriptor \(path))",
                status: .invalidInput)
        }
    }

    private static func format(_ value: Double) -> String { String(format: "%.6g", value) }

    static func read(_ path: String) throws -> HEDescriptor {
        let data = try HEFiles.read(HEFiles.url(path), "the model descriptor \(path)")
        guard let descriptor = try? JSONDecoder().decode(HEDescriptor.self, from: data) else {
            throw CLIError("the model descriptor \(path) is malformed", status: .invalidInput)
        }
        guard descriptor.format <= currentFormat else {
            throw CLIError(
                "the model descriptor \(path) has format \(descriptor.format); this modelvault reads up to "
                    + "\(currentFormat)", status: .invalidInput)
        }
        // An ONNX model may name no features: the CSV's columns are then taken in header order.
        let features =
            descriptor.featureNames.isEmpty && descriptor.kind == "onnx-linear"
            ? descriptor.standardization.mean.count : descriptor.featureNames.count
        guard features > 0, descriptor.standardization.mean.count == features,
            descriptor.standardization.std.count == features, descriptor.classCount > 0,
            descriptor.classCount <= 1024, (descriptor.hiddenCount ?? 1) > 0, (descriptor.hiddenCount ?? 1) <= 4096
        else { throw CLIError("the model descriptor \(path) is inconsistent", status: .invalidInput) }
        return descriptor
    }

    /// A model of the descriptor's shape with zero weights: enough to lay out and range-check the query (the
    /// encoder's bound on each value); the weights stay with the model owner.
    func shapeModel() throws -> PrivateModel {
        let features = standardization.mean.count
        switch (kind, hiddenCount) {
        case ("logistic", nil), ("onnx-linear", nil):
            return .linear(
                try LinearModel(
                    weights: Array(repeating: Array(repeating: 0, count: features), count: classCount),
                    bias: Array(repeating: 0, count: classCount)))
        case ("he-mlp", let hidden?):
            return .squareMLP(
                try SquareMLP(
                    w1: Array(repeating: Array(repeating: 0, count: features), count: hidden),
                    b1: Array(repeating: 0, count: hidden),
                    w2: Array(repeating: Array(repeating: 0, count: hidden), count: classCount),
                    b2: Array(repeating: 0, count: classCount)))
        default:
            throw CLIError("the model descriptor names an unsupported model kind \(kind)", status: .invalidInput)
        }
    }

    /// The standardised rows of a CSV, columns matched by name (the model's feature order).
    func standardizedRows(csv data: Data) throws -> [[Double]] {
        try PrivateInferenceSubject.standardizedRows(
            csv: data, featureNames: featureNames, standardization: standardization)
    }
}

/// `modelvault he export-descriptor NAME[@V|:ALIAS] -o FILE`.
struct HEExportDescriptor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-descriptor",
        abstract: "Model owner: write the public descriptor the data owner encrypts against (no weights).",
        discussion: """
            The descriptor holds the model's feature names, standardisation, class names and shape: what \\
            `he encrypt --descriptor` needs, so the data owner needs no vault, token or passphrase.

            Examples:
              modelvault he export-descriptor classifier:production -o classifier.descriptor.json
            """)

    @OptionGroup var options: VaultOptions
    @Argument(help: "NAME, NAME@VERSION or NAME:ALIAS.") var reference: String
    @Option(name: .shortAndLong, help: "The descriptor file to write (JSON).") var output: String

    func run() async throws {
        let reference = try ModelReference(parsing: reference)
        let subject = try PrivateInferenceSubject(
            files: try await options.open().privateInferenceModel(reference), reference: reference)
        var descriptor = HEDescriptor(model: reference.description, subject: subject)
        descriptor.inputBound = try HEDescriptor.inputBound(for: subject.model)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(descriptor), to: HEFiles.url(output))
        progress("wrote \(output) (\(descriptor.kind), \(descriptor.featureNames.count) features)")
    }
}
