public import Foundation
import ONNX
public import Vault

/// A refused ONNX push: the model is not one the interpreter can run in full; `description` says why.
public struct ONNXPushRefusal: Error, CustomStringConvertible, Sendable {
    /// Why the model is refused (no file contents, only names and the parser's reason).
    public let description: String
}

/// `model push` of an ONNX model, locally and through the server: recognised by content, checked in full before
/// anything is stored, and its signature recorded in the version's signed manifest under the `onnxSignature`
/// extension.
public enum ONNXManifestExtension {
    /// The manifest extension key the signature is recorded under.
    public static let key = "onnxSignature"
    /// How much of each file is read to recognise ONNX (the top-level fields before the graph).
    static let sniffLength = 64 * 1024

    /// The manifest extensions for the model at `url` (a file, or a directory holding one ONNX model at its top
    /// level): `[:]` when it is not ONNX. An ONNX model the interpreter cannot run in full (malformed,
    /// unsupported operator or opset, invalid graph, escaping external data) is refused with the reason.
    public static func extensions(forModelAt url: URL) throws -> [String: JSONValue] {
        let candidates = onnxFiles(at: url)
        guard !candidates.isEmpty else { return [:] }
        guard candidates.count == 1 else {
            throw ONNXPushRefusal(description: "the pushed directory holds more than one ONNX model")
        }
        let model: ONNXModel
        do {
            if candidates[0] == url {
                // A single file is stored alone: parse it as the server will, so external data beside it (which
                // would not be stored) is refused now rather than at load.
                let data = try? Data(contentsOf: url)
                guard let data else { throw ONNXError.malformed("the model file cannot be read") }
                model = try ONNXModel(file: url.lastPathComponent, in: [url.lastPathComponent: data])
            } else {
                model = try ONNXModel(contentsOf: candidates[0])
            }
        } catch ONNXError.externalData(let reason) where candidates[0] == url {
            throw ONNXPushRefusal(
                description: "refusing \(url.lastPathComponent): external data: \(reason); push the directory holding"
                    + " the model and its data files")
        } catch {
            throw ONNXPushRefusal(description: "refusing \(candidates[0].lastPathComponent): \(error)")
        }
        let encoded = try JSONEncoder().encode(model.signature)
        return [key: try JSONDecoder().decode(JSONValue.self, from: encoded)]
    }

    /// The regular files at `url` (itself, or its directory's top level) that are ONNX by content, or named
    /// `.onnx` (which must then be ONNX: a garbage `.onnx` file is refused rather than stored unrecognised).
    private static func onnxFiles(at url: URL) -> [URL] {
        let keys: Set<URLResourceKey> = [.isRegularFileKey, .isDirectoryKey, .isSymbolicLinkKey, .fileSizeKey]
        guard let values = try? url.resourceValues(forKeys: keys), values.isSymbolicLink != true else { return [] }
        var files: [URL] = []
        if values.isDirectory == true {
            let entries =
                (try? FileManager.default.contentsOfDirectory(
                    at: url, includingPropertiesForKeys: Array(keys), options: [.skipsHiddenFiles])) ?? []
            files = entries.filter {
                let entry = try? $0.resourceValues(forKeys: keys)
                return entry?.isRegularFile == true && entry?.isSymbolicLink != true
            }
        } else if values.isRegularFile == true {
            files = [url]
        }
        var found: [URL] = []
        for file in files.sorted(by: { $0.path < $1.path }) {
            let named = file.pathExtension.lowercased() == "onnx"
            let size = (try? file.resourceValues(forKeys: [.fileSizeKey]))?.fileSize ?? 0
            guard let handle = try? FileHandle(forReadingFrom: file) else { continue }
            let prefix = (try? handle.read(upToCount: sniffLength)) ?? Data()
            try? handle.close()
            // A file named .onnx is parsed whatever its content, so a broken one is refused with the parser's reason.
            if named || ONNXModel.looksLikeModel(prefix: [UInt8](prefix), fileSize: size) { found.append(file) }
        }
        return found
    }
}
