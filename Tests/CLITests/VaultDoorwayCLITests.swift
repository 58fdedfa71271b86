import Foundation
import TestSupport
import Testing

/// Issues #14 and #18: the CLI reaches vault state through `VaultSession` (authorise, audit, act). A raw `Vault` or
/// `VaultAccess` is opened only by the commands listed here, each for a reason no token can serve; every other
/// command goes through `VaultOptions.open()`, which returns a session. A new command that opens the vault any other
/// way fails this test and has to say why here.
@Suite struct VaultDoorwayCLITests {
    /// File → why it opens the vault without a session of the caller's.
    static let allowed: [String: String] = [
        "AccessOptions.swift": "VaultOptions.open(): the doorway itself, returns the caller's VaultSession",
        "VaultCommands.swift": "init creates the vault; unlock() feeds the doorway and the break-glass commands",
        "UserCommands.swift": "user bootstrap: the first admin, or --break-glass, before any token exists",
        "KeysCommands.swift": "keys rotate needs the passphrase itself; the vault goes straight into a session",
        "VaultPassphraseCommand.swift": "passphrase change: whoever holds the passphrase (break-glass, audited)",
        "VaultCheckCommand.swift": "vault check: a read-only integrity check that must work when tokens cannot",
        "ServeCommand.swift": "serve: the server, which authenticates each request into a session",
        "DemoRun+Steps.swift": "the demo creates its vault and first admin; its reads go through sessions",
        "DemoRun+Attack.swift": "the demo's attacker edits files and re-checks the state with no token",
    ]

    static let patterns = ["Vault.open(", "Vault.create(", "Vault.checkState(", "VaultAccess.open(", ".unlock()"]

    @Test func onlyTheListedCommandsOpenTheVaultWithoutASession() throws {
        let sources = ModelVaultBinary.packageRoot.appending(path: "Sources/modelvault")
        let files = try FileManager.default.contentsOfDirectory(atPath: sources.path).filter { $0.hasSuffix(".swift") }
        #expect(files.count > 20, "the CLI's sources are not where this test looks")
        var opening: Set<String> = []
        for file in files {
            let text = try String(contentsOf: sources.appending(path: file), encoding: .utf8)
            if Self.patterns.contains(where: { text.contains($0) }) { opening.insert(file) }
        }
        #expect(opening.subtracting(Self.allowed.keys).isEmpty, "opens the vault outside VaultSession: \(opening)")
        // A listed file that no longer opens the vault drops out of the list, so the list stays true.
        #expect(Set(Self.allowed.keys).subtracting(opening).isEmpty)
    }
}
