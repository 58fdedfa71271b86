/// An error from MLCore. The description names what failed (a file, a row number, a column name, a tensor
/// name), never a data value.
public struct MLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The broad class of failure, for callers that branch on it.
    public enum Code: String, Sendable, Equatable {
        /// The CSV text is malformed or does not hold what was asked for.
        case invalidCSV
        /// A data set cannot be used as asked (too few rows, one class, unknown column or label).
        case invalidDataset
        /// A safetensors buffer is malformed.
        case invalidSafetensors
        /// A model configuration is malformed or does not match its weights.
        case invalidConfiguration
        /// Training options are out of range.
        case invalidOptions
        /// Prediction input does not match the model.
        case invalidInput
        /// Training ran but its loss stopped being a finite number.
        case trainingDiverged
        /// The job was cancelled (its ``JobCancellation`` was set, e.g. the client went away).
        case cancelled
    }

    /// The class of failure.
    public let code: Code
    private let detail: String

    init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// A fixed-form message: the failure class and what failed.
    public var description: String {
        let prefix: String
        switch code {
        case .invalidCSV: prefix = "invalid CSV"
        case .invalidDataset: prefix = "unusable data set"
        case .invalidSafetensors: prefix = "invalid safetensors file"
        case .invalidConfiguration: prefix = "invalid model configuration"
        case .invalidOptions: prefix = "invalid training options"
        case .invalidInput: prefix = "invalid prediction input"
        case .trainingDiverged: prefix = "training diverged"
        case .cancelled: prefix = "cancelled"
        }
        return "\(prefix): \(detail)"
    }
}
