import ArgumentParser
import Foundation
import Vault
import VaultCrypto

/// `modelvault keys export-verifier -o vault.pem`: the public key that verifies pulled versions offline.
struct KeysExportVerifier: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-verifier",
        abstract: "Write the vault's public signing key (PEM), to verify pulled model versions outside the vault.",
        discussion: """
            A pull writes the signed manifest and signature under DIR/.modelvault/, so both verifiers accept the \
            pulled directory as it is. Compare the printed fingerprint with the one `modelvault init` printed.

            Examples:
              modelvault keys export-verifier -o vault.pem
              modelvault model pull classifier:production -o pulled
              modelvault verify pulled --signature pulled/.modelvault/model.sig --public-key vault.pem
              model_signing verify key pulled --signature pulled/.modelvault/model.sig --public_key vault.pem
            """)

    @OptionGroup var options: VaultOptions
    @Option(name: .shortAndLong, help: "The PEM file to create (must not exist).") var output: String
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        let url = URL(filePath: output, relativeTo: .currentDirectory()).absoluteURL
        guard !FileManager.default.fileExists(atPath: url.path) else {
            throw CLIError("\(output) exists; refusing to overwrite it", status: .invalidInput)
        }
        let pem = try await options.open().verifierPublicKeyPEM()
        do {
            try AtomicFile.write(Data((pem.trimmingCharacters(in: .whitespacesAndNewlines) + "\n").utf8), to: url)
        } catch { throw CLIError("cannot write \(output)") }
        let fingerprint = VerificationKey(keyVersion: 1, publicKeyPEM: pem).fingerprint
        if json {
            struct Output: Encodable { var output: String, fingerprint: String }
            return try printJSON(Output(output: output, fingerprint: fingerprint))
        }
        print(
            "wrote the vault's verification key to \(output) (fingerprint \(VerificationKey(keyVersion: 1, publicKeyPEM: pem).fingerprint))"
        )
    }
}
