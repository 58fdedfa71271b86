import Foundation
import ONNX
import Vault
import VaultServing

/// `model push` of an ONNX model (``ONNXManifestExtension``), with a refusal as the CLI's invalid-input error.
enum ONNXPush {
    /// The manifest extensions for the model at `url`; see ``ONNXManifestExtension/extensions(forModelAt:)``.
    static func extensions(forModelAt url: URL) throws -> [String: JSONValue] {
        do {
            return try ONNXManifestExtension.extensions(forModelAt: url)
        } catch let refusal as ONNXPushRefusal {
            throw CLIError(refusal.description, status: .invalidInput)
        }
    }
}

extension ONNXPush {
    /// Prints the ONNX signature recorded in `extensions`, if any (`model show`).
    static func printSignature(from extensions: [String: JSONValue]?) {
        guard let extensions, let signature = ONNXSignature(extensions: extensions) else { return }
        signature.summaryLines.forEach { print($0) }
    }
}

extension ONNXSignature {
    /// The lines `model show` prints.
    var summaryLines: [String] {
        let opsets = opsets.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        func line(_ value: Value) -> String {
            "  \(value.name)  \(value.datatype) [\(value.shape.map(String.init).joined(separator: ", "))]"
                + (value.kind == "zipmap" ? "  (ZipMap, served as probabilities)" : "")
        }
        return ["format:    ONNX (IR \(irVersion); opsets \(opsets)\(producer.isEmpty ? "" : "; " + producer))"]
            + ["inputs:"] + inputs.map(line) + ["outputs:"] + outputs.map(line)
    }

    /// The signature recorded in a manifest's extensions, if any.
    init?(extensions: [String: JSONValue]) {
        guard let value = extensions[ONNXManifestExtension.key], let data = try? JSONEncoder().encode(value),
            let signature = try? JSONDecoder().decode(ONNXSignature.self, from: data)
        else { return nil }
        self = signature
    }
}
