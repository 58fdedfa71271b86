import ArgumentParser
import Foundation
import Vault
import VaultCrypto

/// `modelvault keys list`.
struct KeysList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Show key versions, when they were made and how many files use each.")

    @OptionGroup var options: VaultOptions
    @Flag(name: .long, help: "Print JSON.") var json = false
    @Flag(name: .long, help: "Also list the files still wrapped for older key versions.") var files = false

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        let vault = try await options.open()
        let versions = try await vault.keyVersions()
        try show(versions)
        guard files, let current = versions.last(where: { $0.state == "active" }) else { return }
        for key in versions where key.version < current.version && key.fileCount > 0 {
            print("files still wrapped for v\(key.version):")
            for path in try await vault.files(wrappedFor: key.version) { print("  \(path)") }
        }
    }

    func show(_ versions: [KeyVersionInfo]) throws {
        if json { return try printJSON(versions) }
        print("VERSION  STATE     FILES  CREATED               RECIPIENT")
        for key in versions {
            let state = key.state.padding(toLength: 9, withPad: " ", startingAt: 0)
            let count = String(key.fileCount).padding(toLength: 6, withPad: " ", startingAt: 0)
            print(
                "v\(key.version)".padding(toLength: 9, withPad: " ", startingAt: 0)
                    + "\(state) \(count) \(key.createdAt)  \(key.recipient)")
        }
    }
}

/// `modelvault keys rotate [--reencrypt]`.
struct KeysRotate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Make a new vault key version and re-wrap every stored file for it (resumes an interrupted run).")

    @OptionGroup var options: VaultOptions
    @Flag(
        name: .long,
        help: """
            Also re-encrypt payloads under fresh file keys and re-seal every key file under a new passphrase \
            (after a suspected compromise).
            """)
    var reencrypt = false
    @Option(
        name: .customLong("new-passphrase-file"),
        help: "With --reencrypt: read the new vault passphrase from the first line of FILE.")
    var newPassphraseFile: String?
    @Flag(name: .long, help: "Print JSON.") var json = false

    /// `--json`'s shape.
    struct Output: Encodable {
        var keyVersion: Int
        var filesMoved: Int
        var reencrypted: Bool
        var retiredVersions: [Int]
        var resumed: Bool
    }

    func run() async throws {
        if reencrypt, options.isRemote {
            // The new passphrase must never travel to a server; the recovery runs where the vault is.
            throw CLIError(
                "keys rotate --reencrypt needs a new vault passphrase: run it on the vault host, not with --remote",
                status: .usage)
        }
        guard reencrypt || newPassphraseFile == nil else {
            throw CLIError("--new-passphrase-file goes with --reencrypt", status: .usage)
        }
        if try await options.whenRemote({ try await remote($0) }) { return }
        let passphrase = try options.passphrase.read(prompt: "Vault passphrase: ")
        // After a suspected compromise, copies of the old key files open with the old passphrase: `--reencrypt`
        // re-seals every key file under a new one (review 5, F1 and F2). A resumed run takes the same new passphrase.
        let newPassphrase = reencrypt ? try readNewPassphrase() : nil
        if let newPassphrase { try PassphrasePolicy.check(newPassphrase) }
        // A resumed `--reencrypt` sealed its new key version under the new passphrase: the vault opens with both.
        let opened = try Vault.open(
            at: options.root,
            unlockingWith: newPassphrase.map { .passphrases([passphrase, $0]) } ?? .passphrase(passphrase))
        if !reencrypt, try await opened.hasUnfinishedReencryptingRotation() {
            // Finished without the new passphrase, the key files would stay sealed under the old one.
            throw CLIError(
                "a `keys rotate --reencrypt` is unfinished: resume it with `keys rotate --reencrypt` and the same new passphrase",
                status: .usage)
        }
        let vault = try await options.session(opened, token: try options.token.read())
        let report = try await ProgressReporter(
            reencrypt ? "re-encrypting" : "re-wrapping", summary: reencrypt ? "re-encrypted" : "re-wrapped"
        ).run {
            try await vault.rotateKeys(
                passphrase: passphrase, reencrypt: reencrypt, newPassphrase: newPassphrase, progress: $0)
        }
        try present(
            Output(
                keyVersion: report.keyVersion, filesMoved: report.filesMoved, reencrypted: report.reencrypted,
                retiredVersions: report.retiredVersions, resumed: report.resumed))
    }

    /// The new passphrase: `--new-passphrase-file`, `MODELVAULT_NEW_PASSPHRASE` or the terminal (asked twice).
    private func readNewPassphrase() throws -> String {
        if let newPassphraseFile {
            var file = PassphraseOptions()
            file.passphraseFile = newPassphraseFile
            return try file.read()
        }
        if let value = environmentNewPassphrase, !value.isEmpty { return value }
        let first = try Terminal.readSecret(prompt: "New vault passphrase: ")
        let second = try Terminal.readSecret(prompt: "Confirm new passphrase: ")
        guard first == second else { throw CLIError("the new passphrases do not match", status: .invalidInput) }
        return first
    }

    /// Prints a rotation's result, local or from the server.
    func present(_ report: Output) throws {
        if json { return try printJSON(report) }
        print(
            "\(report.resumed ? "resumed rotation: " : "")key version v\(report.keyVersion): "
                + "\(report.filesMoved) files \(report.reencrypted ? "re-encrypted" : "re-wrapped")"
                + (report.retiredVersions.isEmpty
                    ? "" : "; retired " + report.retiredVersions.map { "v\($0)" }.joined(separator: ", ")))
    }
}

/// `modelvault keys export-identity -o FILE`.
struct KeysExportIdentity: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-identity",
        abstract: "Write the vault identities to a new 0600 file, for MODELVAULT_IDENTITY_FILE in deployments.")

    @OptionGroup var options: VaultOptions
    @Option(name: .shortAndLong, help: "The identity file to create (must not exist).") var output: String

    func run() async throws {
        let url = URL(filePath: output, relativeTo: .currentDirectory()).absoluteURL
        guard !FileManager.default.fileExists(atPath: url.path) else {
            throw CLIError("the output file exists; refusing to overwrite it")
        }
        let text = try await options.open().identityFile()
        try AtomicFile.write(Data(text.utf8), to: url, permissions: 0o600)
        progress("wrote the vault identities to \(url.lastPathComponent) (a secret: keep it out of the vault)")
    }
}
