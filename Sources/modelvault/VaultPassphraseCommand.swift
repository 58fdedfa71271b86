import ArgumentParser
import Foundation
import Vault

#if canImport(Glibc)
import Glibc
#endif

/// `modelvault vault passphrase`: the vault passphrase.
struct VaultPassphrase: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passphrase", abstract: "The vault passphrase: change.", subcommands: [VaultPassphraseChange.self])
}

/// `modelvault vault passphrase change`: re-seals every key file under a new passphrase.
///
/// Needs the current passphrase (not an identity file: the files it re-seals are the ones the passphrase opens)
/// and no API token, like `user bootstrap --break-glass`.
struct VaultPassphraseChange: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "change",
        abstract: "Re-seal every key file under a new passphrase (refused while a key rotation is unfinished).",
        discussion: """
            The current passphrase comes from --passphrase-file, MODELVAULT_PASSPHRASE or the terminal; the new \
            one from --new-passphrase-file, MODELVAULT_NEW_PASSPHRASE or the terminal (asked twice). If the \
            command is interrupted, run it again with the same two passphrases to finish. Backups of keys/ made \
            before the change still open with the old passphrase.

            Examples:
              modelvault vault passphrase change
              modelvault vault passphrase change --passphrase-file old.txt --new-passphrase-file new.txt
            """)

    @Option(name: .customLong("vault"), help: "The vault directory (default: $MODELVAULT_VAULT, else ./vault).")
    var vaultPath: String?
    @OptionGroup var passphrase: PassphraseOptions
    @Option(name: .customLong("new-passphrase-file"), help: "Read the new passphrase from the first line of FILE.")
    var newPassphraseFile: String?
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        let path = vaultPath ?? ProcessInfo.processInfo.environment["MODELVAULT_VAULT"] ?? "vault"
        let root = URL(filePath: path, relativeTo: URL.currentDirectory()).absoluteURL
        guard FileManager.default.fileExists(atPath: root.appending(path: "vault.json").path) else {
            throw CLIError("no vault at \(root.path(percentEncoded: false))", status: .notFound)
        }
        let old = try passphrase.read(prompt: "Current vault passphrase: ")
        let new = try readNew()
        try PassphrasePolicy.check(new)
        let access = OpenVaults.register(
            try await VaultAccess.open(
                try Vault.open(at: root, unlockingWith: .passphrase(old)), highWaterMark: .standard))
        let report = try await access.changePassphrase(from: old, to: new)
        if json {
            struct Output: Encodable { var resealed: [String], alreadyResealed: [String] }
            return try printJSON(
                Output(
                    resealed: report.resealed.map { "\($0)" }, alreadyResealed: report.alreadyChanged.map { "\($0)" }))
        }
        for file in report.resealed { print("re-sealed \(file)") }
        for file in report.alreadyChanged { print("already re-sealed \(file)") }
        print("passphrase changed; copies of keys/ made before now still open with the old passphrase")
    }

    private func readNew() throws -> String {
        if let newPassphraseFile {
            var options = PassphraseOptions()
            options.passphraseFile = newPassphraseFile
            return try options.read()
        }
        if let value = environmentNewPassphrase, !value.isEmpty { return value }
        let first = try Terminal.readSecret(prompt: "New vault passphrase: ")
        let second = try Terminal.readSecret(prompt: "Confirm new passphrase: ")
        guard first == second else { throw CLIError("the new passphrases do not match", status: .invalidInput) }
        return first
    }
}

/// `MODELVAULT_NEW_PASSPHRASE`, read once and scrubbed from the process environment (as `environmentPassphrase`).
let environmentNewPassphrase: String? = {
    let name = "MODELVAULT_NEW_PASSPHRASE"
    guard let pointer = getenv(name) else { return nil }
    let value = String(cString: pointer)
    memset(pointer, 0, strlen(pointer))
    unsetenv(name)
    return value
}()
