import ArgumentParser
import Foundation
import ModelScan

/// `modelvault convert`: a PyTorch state dict to safetensors, without running the pickle; no vault needed.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a PyTorch state dict (zip or legacy .pt/.bin) to safetensors without executing it.",
        discussion: """
            The checkpoint is scanned first (default policy); then only containers, storages and PyTorch's tensor \
            and parameter rebuilders are interpreted. Anything else (another global, a hook, a non-tensor entry) \
            is refused. Views are written as contiguous copies and shared storages as separate tensors, exactly as \
            torch.load followed by safetensors.torch.save_file writes them. The output is never overwritten.

            Exit codes: 0 converted; 7 the scanner refused the file; 5 not a plain tensor checkpoint, or the \
            output exists; 4 the input does not exist; 1 another failure; 2 usage error.
            """)

    @Argument(help: "The PyTorch checkpoint (.pt, .pth or .bin; recognised by content).")
    var checkpoint: String

    @Option(name: [.short, .customLong("output")], help: "The safetensors file to create.")
    var output: String
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() throws {
        do {
            let summary = try SafetensorsConverter().convert(checkpoint: checkpoint, to: output)
            if json {
                struct Output: Encodable { var output: String, tensors: Int, format: String, bytes: UInt64 }
                return try printJSON(
                    Output(output: output, tensors: summary.tensors, format: "\(summary.format)", bytes: summary.bytes))
            }
            print("converted \(summary.tensors) tensors (\(summary.format)) to \(output), \(summary.bytes) bytes")
        } catch let error as ConversionError {
            throw CLIError(error.description, status: Self.status(for: error))
        }
    }

    private static func status(for error: ConversionError) -> ExitStatus {
        switch error {
        case .refusedByScan: .findings
        case .notACheckpoint, .unsupported, .notATensor, .malformed, .outputExists: .invalidInput
        case .unreadable(let path, _): FileManager.default.fileExists(atPath: path) ? .failure : .notFound
        case .writeFailed: .failure
        }
    }
}
