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
    @Flag(name: .long, help: "Also re-encrypt payloads under fresh file keys (after a suspected compromise).")
    var reencrypt = false
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
        if try await options.whenRemote({ try await remote($0) }) { return }
        let passphrase = try options.passphrase.read(prompt: "Vault passphrase: ")
        let vault = try await options.session(
            try Vault.open(at: options.root, unlockingWith: .passphrase(passphrase)), token: try options.token.read())
        progress(reencrypt ? "re-encrypting every stored file..." : "re-wrapping every stored file...")
        let report = try await vault.rotateKeys(passphrase: passphrase, reencrypt: reencrypt)
        try present(
            Output(
                keyVersion: report.keyVersion, filesMoved: report.filesMoved, reencrypted: report.reencrypted,
                retiredVersions: report.retiredVersions, resumed: report.resumed))
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
