import ArgumentParser
import Foundation
import ModelSigning

/// Options shared by `sign` and `verify`.
struct ModelPathOptions: ParsableArguments {
    @Argument(help: "The model: a file or a directory.")
    var path: String

    @Option(help: "The signature file (default: model.sig in the current directory, as model_signing).")
    var signature: String = ModelSignature.defaultSignatureName

    @Option(
        name: .customLong("ignore-paths"),
        help: "A path to leave out of the signature; relative to the current directory or the model. Repeatable.")
    var ignorePaths: [String] = []

    var modelURL: URL { URL(fileURLWithPath: path) }
    var signatureURL: URL { URL(fileURLWithPath: signature) }

    /// The ignored paths, model-relative. Like model_signing, a path is first taken relative to the current
    /// directory; one that does not land inside the model is taken as model-relative instead.
    var modelRelativeIgnorePaths: [String] {
        ignorePaths.map { ModelSignature.relativePath(of: URL(fileURLWithPath: $0), inside: modelURL) ?? $0 }
    }
}

/// Reads a PEM key file, with a fixed-text error that never echoes its content.
private func readKeyFile(_ path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
    else { throw CLIError("cannot read the key file \(path)") }
    return text
}

/// `modelvault sign`: an OpenSSF model signature, compatible with `model_signing verify key`.
struct Sign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign a model file or directory (OpenSSF model signing, ECDSA P-256/384/521).")

    @OptionGroup var model: ModelPathOptions

    @Option(name: .customLong("private-key"), help: "The signer's PEM private key (PKCS#8 or SEC1).")
    var privateKey: String
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        let key = try SigningKey(pem: readKeyFile(privateKey))
        let manifest = try ModelSignature.signModel(
            at: model.modelURL, with: key, signature: model.signatureURL, ignoring: model.modelRelativeIgnorePaths)
        if json {
            struct Output: Encodable { var signature: String, files: Int }
            return try printJSON(Output(signature: model.signature, files: manifest.entries.count))
        }
        print("signed \(manifest.entries.count) file(s) into \(model.signature)")
    }
}

/// `modelvault verify`: checks a model against an OpenSSF model signature (as `model_signing verify key`).
struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify a model file or directory against its OpenSSF model signature.")

    @OptionGroup var model: ModelPathOptions

    @Option(name: .customLong("public-key"), help: "The signer's PEM public key.")
    var publicKey: String
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        let key = try VerifyingKey(pem: readKeyFile(publicKey))
        let signed = try ModelSignature.verifyModel(
            at: model.modelURL, with: key, signature: model.signatureURL, ignoring: model.modelRelativeIgnorePaths)
        if json {
            struct Output: Encodable { var verified: Bool, model: String, files: Int }
            return try printJSON(
                Output(verified: true, model: signed.modelName, files: signed.manifest.entries.count))
        }
        print("verified \(signed.manifest.entries.count) file(s) of \(signed.modelName)")
    }
}
