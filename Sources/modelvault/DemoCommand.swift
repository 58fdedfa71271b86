import ArgumentParser
import Foundation

/// `modelvault demo [--dir DIR] [--keep] [--remote]`: every practice, end to end, on the shipped data.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole pipeline in a fresh vault and narrate every security practice.",
        discussion: """
            data → train → evaluate → encrypt → sign → register → promote → serve over TLS → infer (authorised, \
            unauthorised, forbidden) → private inference under CKKS → tamper detection → key rotation → audit \
            verification and compliance report. Exits 0 only if every step did what it says; a failure names \
            the step. The vault passphrase comes from MODELVAULT_PASSPHRASE, else one is generated and shown once. \
            A kept vault's admin token is written beside it to DIR.admin-token (mode 0600), never printed.

            --remote walks the personas through the server instead: `modelvault serve` starts on 127.0.0.1 with \
            TLS and alone holds the passphrase; each persona then runs this CLI in remote mode with only the \
            server's URL, its certificate and its own token (data add, train, alias, verify, pull, predict, \
            refusals, audit verify, audit tail, report).

            Examples:
              modelvault demo
              modelvault demo --dir demo-vault
              modelvault demo --remote
            """)

    @Option(help: "Create the vault here (must not exist or be empty) instead of a temporary directory.")
    var dir: String?

    @Flag(help: "Keep the temporary vault afterwards (a --dir vault is always kept).")
    var keep = false

    @Flag(help: "Run the personas through a TLS server on 127.0.0.1, each holding only its token (remote mode).")
    var remote = false

    func run() async throws {
        let root: URL
        if let dir {
            root = URL(filePath: dir, relativeTo: URL.currentDirectory()).absoluteURL
            let existing = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
            guard existing.isEmpty else {
                throw CLIError("--dir must name a new or empty directory", status: .invalidInput)
            }
        } else {
            root = FileManager.default.temporaryDirectory.appending(
                path: "modelvault-demo-\(UUID().uuidString.prefix(8))")
        }
        let removeAfter = dir == nil && !keep
        let tokenFile = removeAfter ? nil : DemoRun.adminTokenFile(for: root)
        if let tokenFile, FileManager.default.fileExists(atPath: tokenFile.path) {
            throw CLIError(
                "\(tokenFile.lastPathComponent) already exists beside the vault; move it away first",
                status: .invalidInput)
        }
        let demo = DemoRun(root: root, keepsVault: !removeAfter, adminTokenFile: tokenFile, remote: remote)
        let succeeded = await demo.run()
        if removeAfter { try? FileManager.default.removeItem(at: root) }
        if !succeeded { throw ExitCode(1) }
    }
}
