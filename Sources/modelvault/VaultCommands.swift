import ArgumentParser
import Foundation
import Vault

/// `--vault DIR` plus how to unlock the vault: `MODELVAULT_IDENTITY_FILE`, else the passphrase.
struct VaultOptions: ParsableArguments {
    @Option(name: .customLong("vault"), help: "The vault directory (default: $MODELVAULT_VAULT, else ./vault).")
    var vaultPath: String?

    @OptionGroup var passphrase: PassphraseOptions

    /// The vault directory.
    var root: URL {
        let path = vaultPath ?? ProcessInfo.processInfo.environment["MODELVAULT_VAULT"] ?? "vault"
        return URL(filePath: path, relativeTo: URL.currentDirectory()).absoluteURL
    }

    /// Opens the vault, unlocking it with an identity file when `MODELVAULT_IDENTITY_FILE` is set.
    func open() throws -> Vault {
        if let path = ProcessInfo.processInfo.environment["MODELVAULT_IDENTITY_FILE"], !path.isEmpty {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CLIError("cannot read the identity file named by MODELVAULT_IDENTITY_FILE")
            }
            return try Vault.open(at: root, unlockingWith: .identities(String(decoding: data, as: UTF8.self)))
        }
        guard FileManager.default.fileExists(atPath: root.appending(path: "vault.json").path) else {
            throw CLIError("no vault at \(root.path(percentEncoded: false)) (create one with `modelvault init`)")
        }
        return try Vault.open(at: root, unlockingWith: .passphrase(try passphrase.read(prompt: "Vault passphrase: ")))
    }
}

/// Prints a value as pretty JSON on stdout.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Writes a progress line on stderr.
func progress(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// `modelvault init`: creates a vault.
struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a vault: layout, catalog, vault identity and signing key.")

    @OptionGroup var options: VaultOptions

    @Flag(name: .customLong("pq"), help: "Use the post-quantum hybrid identity (ML-KEM-768+X25519).")
    var postQuantum = false

    func run() async throws {
        let passphrase = try options.passphrase.read(prompt: "New vault passphrase: ", confirm: true)
        progress("creating vault (deriving the key-file encryption from the passphrase)...")
        let vault = try Vault.create(at: options.root, passphrase: passphrase, postQuantum: postQuantum)
        print("created vault at \(vault.root.path(percentEncoded: false))")
        print("signing key fingerprint: \(vault.signerFingerprint)")
        if let key = try await vault.keyVersions().last {
            print("vault recipient (key version \(key.version)): \(key.recipient)")
        }
    }
}

/// `modelvault keys`: key versions and rotation.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Vault key versions: list, rotate.",
        subcommands: [KeysList.self, KeysRotate.self, KeysExportIdentity.self])
}
