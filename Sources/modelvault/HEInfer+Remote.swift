import Foundation
import Homomorphic
import Vault
import VaultClient

/// `he infer` in remote mode: the query and evaluation keys go to the server's private-inference route
/// (`POST /v1/models/{model}/private-infer`, `MVHE-PIR1`), which checks `model.private-infer` and its policy; the
/// encrypted scores come back into the same result file a local `he infer` writes, so `he decrypt` reads either.
/// The route evaluates the version the server serves, so a reference naming another version is refused.
extension HEInfer: RemoteCapable {
    func remote(_ client: VaultClient, _ reference: ModelReference) async throws {
        let (sections, context, keys, query) = try loadInputs()
        let model = try await client.servedModel(reference.name)
        let version: String?
        switch reference.selector {
        case .version(let number): version = model.versions.contains(String(number)) ? String(number) : nil
        case .alias(let alias): version = model.aliases[alias.lowercased()]
        case .latest: version = model.versions.compactMap { Int($0) }.max().map(String.init)
        }
        guard let version else { throw CLIError("no model version \(reference)", status: .notFound) }
        guard let served = model.served.first, served.versions.contains(version) else {
            let serving = model.served.first?.versions.first.map { " (it serves version \($0))" } ?? ""
            throw CLIError(
                "the server does not serve \(reference.name)@\(version) for private inference\(serving)",
                status: .notFound)
        }
        guard let labelNames = served.classNames, !labelNames.isEmpty else {
            throw CLIError("the server names no classes for \(reference.name)", status: .invalidInput)
        }
        let answer = try await client.privateInfer(
            reference.name, request: PrivateInferenceRequest(context: context, keys: keys, query: query).serialized())
        // Checked before it is written: `he decrypt` must get a result for these keys, not whatever came back.
        guard let result = try? context.deserializeResult([UInt8](answer)), result.rowCount == query.rowCount else {
            throw CLIError("the server's private-inference answer is not a result for this query")
        }
        try write(
            result, context: context,
            header: HEResultHeader(
                model: reference.description, labelNames: labelNames,
                keyFingerprint: HEFiles.keyFingerprint(evaluationKeys: sections), transform: nil))
    }
}
