import ArgumentParser
import Foundation
import Vault

/// `modelvault vault`: checks of the whole vault.
struct VaultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vault", abstract: "Whole-vault checks and the passphrase: check, passphrase change.",
        subcommands: [VaultCheck.self, VaultPassphrase.self])
}

/// `modelvault vault check`: verifies the authenticated state and lists every bad record.
///
/// Needs the unlocking secret (passphrase or identity file) but no API token: a tampered catalog could not
/// authenticate one, and this is the command that says what was tampered with.
struct VaultCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify the vault's authenticated state; list every bad record (exit 1 if there is any).")

    @OptionGroup var options: VaultOptions
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        let problems = try await Vault.checkState(
            at: options.root, unlockingWith: try options.unlockSecret(), highWaterMark: .standard)
        if json {
            struct Output: Encodable { var verified: Bool, problems: [String] }
            try printJSON(Output(verified: problems.isEmpty, problems: problems.map { "\($0)" }))
        }
        guard !problems.isEmpty else {
            if json { return }
            print("vault state verified: every catalog record, key pin and vault.json")
            return
        }
        if !json { for problem in problems { print(problem) } }
        throw CLIError(
            "\(problems.count) bad record\(problems.count == 1 ? "" : "s"): the vault state was changed outside the vault"
        )
    }
}
