import AccessControl
import ArgumentParser
import Foundation
import Vault

/// `--vault DIR` plus how to unlock the vault: `MODELVAULT_IDENTITY_FILE`, else the passphrase.
/// `init`'s options: the vault directory and the new passphrase only. A token, a server or its CA do not apply to
/// creating a vault, so `init` does not offer them (issue #20 point 11).
struct InitOptions: ParsableArguments {
    @Option(name: .customLong("vault"), help: "The vault directory (default: $MODELVAULT_VAULT, else ./vault).")
    var vaultPath: String?

    @OptionGroup var passphrase: PassphraseOptions

    /// The vault directory.
    var root: URL { VaultOptions.root(vaultPath) }
}

struct VaultOptions: ParsableArguments {
    @Option(name: .customLong("vault"), help: "The vault directory (default: $MODELVAULT_VAULT, else ./vault).")
    var vaultPath: String?

    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var token: TokenOptions
    @OptionGroup var remote: RemoteOptions

    /// The vault directory.
    var root: URL { Self.root(vaultPath) }

    /// The same vault directory as `options.root`, for `init`'s own option group.
    static func root(_ vaultPath: String?) -> URL {
        let path = vaultPath ?? ProcessInfo.processInfo.environment["MODELVAULT_VAULT"] ?? "vault"
        return URL(filePath: path, relativeTo: URL.currentDirectory()).absoluteURL
    }

    /// Unlocks the vault with an identity file when `MODELVAULT_IDENTITY_FILE` is set, else the passphrase.
    /// Commands reach it through `open()`, which also authenticates the caller.
    func unlock() throws -> Vault {
        try requireLocal()
        return try Vault.open(at: root, unlockingWith: try unlockSecret())
    }

    /// The secret that unlocks the vault: the identity file named by `MODELVAULT_IDENTITY_FILE`, else the passphrase.
    func unlockSecret() throws -> VaultUnlock {
        try requireLocal()
        if let path = ProcessInfo.processInfo.environment["MODELVAULT_IDENTITY_FILE"], !path.isEmpty {
            let data = try CLIFiles.read(path, what: "identity file (MODELVAULT_IDENTITY_FILE)")
            return .identities(String(decoding: data, as: UTF8.self))
        }
        guard FileManager.default.fileExists(atPath: root.appending(path: "vault.json").path) else {
            throw CLIError(
                "no vault at \(root.path(percentEncoded: false)) (create one with `modelvault init`)", status: .notFound
            )
        }
        return .passphrase(try passphrase.read(prompt: "Vault passphrase: "))
    }
}

/// Prints a value as pretty JSON on stdout.
/// Prints a command's result: `value` as JSON with `--json`, else `text`.
func printResult(json: Bool, _ value: some Encodable, text: String) throws {
    if json { try printJSON(value) } else { print(text) }
}

/// The result of a pull or a dataset get: `NAME@V -> DIR (N files)`, or its JSON.
func printPulled(json: Bool, _ reference: String, to directory: String, files: Int) throws {
    struct Output: Encodable { var reference: String, directory: String, files: Int }
    try printResult(
        json: json, Output(reference: reference, directory: directory, files: files),
        text: "\(reference) -> \(directory) (\(files) files)")
}

func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Writes a progress line on stderr.
func progress(_ line: String) {
    guard !Quiet.isRequested else { return }
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// `modelvault init`: creates a vault.
struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a vault: layout, catalog, vault identity and signing key.",
        discussion: """
            Examples:
              modelvault init --vault ./vault -o admin.token
              modelvault init --vault ./vault -o admin.token --token-expires 30d --pq
            """)

    @OptionGroup var options: InitOptions

    @Flag(name: .customLong("pq"), help: "Use the post-quantum hybrid identity (ML-KEM-768+X25519).")
    var postQuantum = false

    @Option(name: .shortAndLong, help: "Write the first admin's API token to this file (0600).") var output: String?
    @Option(name: .customLong("token-out"), help: .hidden) var legacyTokenOut: String?

    @Option(
        name: .customLong("token-expires"),
        help:
            "The first admin token's lifetime, e.g. 12h, 30d, 2w, or never (after it, `user bootstrap --break-glass`).")
    var tokenExpires = TokenLifetime.defaultText

    @Flag(name: .long, help: "Print JSON (the admin token is in it unless -o is given).") var json = false

    func validate() throws {
        do { _ = try TokenLifetime.parseOrNever(tokenExpires) } catch {
            throw ValidationError("--token-expires: \(error)")
        }
    }

    func run() async throws {
        // A server given (the environment; `init` has no --server) means remote mode, and a vault is not created
        // there: refused like every command the server has no route for.
        if let server = ProcessInfo.processInfo.environment["MODELVAULT_SERVER"], !server.isEmpty {
            throw CLIError.notInRemoteMode("`init`")
        }
        let passphrase = try options.passphrase.read(prompt: "New vault passphrase: ", confirm: true)
        progress("creating vault (deriving the key-file encryption from the passphrase)...")
        let vault = try Vault.create(at: options.root, passphrase: passphrase, postQuantum: postQuantum)
        let key = try await vault.keyVersions().last
        let result = InitResult(
            vault: vault.root.path(percentEncoded: false), signerFingerprint: vault.signerFingerprint,
            keyVersion: key?.version, recipient: key?.recipient)
        if !json {
            print("created vault at \(result.vault)")
            print("signing key fingerprint: \(result.signerFingerprint)")
            if let key { print("vault recipient (key version \(key.version)): \(key.recipient)") }
        }
        try await printFirstAdminToken(
            vault, tokenOut: output ?? legacyTokenOut, lifetime: try TokenLifetime.parseOrNever(tokenExpires),
            json: json, jsonPrefix: result)
    }
}

/// `init --json`'s shape: the new vault and its first admin.
struct InitResult: Encodable {
    var vault: String
    var signerFingerprint: String
    var keyVersion: Int?
    var recipient: String?
    /// SHA-256 of the audit verifier key: what `audit verify-proof --key-fingerprint` pins.
    var auditKeyFingerprint: String?
    var admin: IssuedAdminToken?
}

/// `modelvault keys`: key versions and rotation.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Vault key versions: list, rotate.",
        subcommands: [KeysList.self, KeysRotate.self, KeysExportIdentity.self, KeysExportVerifier.self])
}
