import ArgumentParser
import Foundation
import ONNX
import Vault
import VaultCrypto

/// `modelvault model export NAME[@V|:ALIAS] --format onnx -o model.onnx`.
struct ModelExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a built-in model (logistic, mlp, cnn, he-mlp) as a plaintext ONNX file for other runtimes.",
        discussion: """
            The version is read through the verified path (signature and every digest checked) and needs the \
            model.pull permission, as a plaintext pull does; the export is audited as one. The file takes raw \
            features `input` [batch, F] and answers `probabilities` [batch, C] and `label` [batch] (standard \
            domain, opset 13), so onnxruntime and Triton serve it.

            Examples:
              modelvault model export classifier@3 --format onnx -o classifier.onnx
            """)

    @OptionGroup var options: VaultOptions
    @Argument(help: "NAME, NAME@VERSION or NAME:ALIAS.") var reference: String
    @Option(help: "The output format; only onnx.") var format: String
    @Option(name: .shortAndLong, help: "The file to write (new; atomically, mode 0600).") var output: String

    func validate() throws {
        guard format == "onnx" else { throw ValidationError("--format takes onnx") }
    }

    func run() async throws {
        let reference = try ModelReference(parsing: reference)
        let url = URL(filePath: output, relativeTo: .currentDirectory()).absoluteURL
        // As pull does: never replace an existing file (a typo must not cost data). Not followed: a symlink counts.
        guard (try? FileManager.default.attributesOfItem(atPath: url.path(percentEncoded: false))) == nil else {
            throw CLIError("the output file \(output) already exists", status: .invalidInput)
        }
        let files = try await options.open().loadModel(reference)
        if files.values.contains(where: { ONNXModel.looksLikeModel([UInt8]($0)) }) {
            throw CLIError(
                "model \(reference) is already ONNX: `model pull` writes its file as it was pushed",
                status: .invalidInput)
        }
        let trained = try trainedModel(files, reference)
        let bytes = try trained.onnxExport(modelName: reference.name)
        do {
            try AtomicFile.write(Data(bytes), to: url, permissions: 0o600)
        } catch {
            throw CLIError("cannot write \(output)")
        }
        progress("exported \(reference) (\(trained.config.kind.rawValue)) to \(output) as ONNX (\(bytes.count) bytes)")
    }
}
