import ArgumentParser
import Foundation
import VaultCrypto
import VaultServer

/// The `modelvault` command: a thin layer that wires the libraries together.
///
/// Exit codes are `ExitStatus`'s (ARCHITECTURE.md, "CLI conventions"): 0 success, 1 failure, 2 usage, 3 denied,
/// 4 not found, 5 invalid input, 6 integrity failure, 7 scanner findings.
@main
struct ModelVaultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "modelvault",
        abstract: "Secure machine-learning models and data end to end.",
        discussion: """
            Exit codes: 0 success, 1 failure, 2 usage error, 3 denied (no valid token, or the role does not allow \
            it), 4 not found, 5 invalid input, 6 integrity failure (signature, digest, audit log), 7 scanner \
            findings at or above the policy threshold.

            Every command takes --quiet (or MODELVAULT_QUIET=1): no progress lines on stderr; results, errors and \
            questions still print. Shell completion: modelvault --generate-completion-script bash|zsh|fish.
            """,
        version: BuildInfo.currentVersion,
        subcommands: [
            Keygen.self, Encrypt.self, Decrypt.self,
            Sign.self, Verify.self,
            Init.self, VaultCommand.self, DataCommand.self, ModelCommand.self, KeysCommand.self,
            UserCommand.self, RoleCommand.self, TokenCommand.self, AuditCommand.self, ReportCommand.self,
            Train.self, Evaluate.self, Predict.self, HECommand.self,
            DeployCommand.self, Serve.self, DemoCommand.self, ScanCommand.self, ConvertCommand.self,
            VersionCommand.self, WitnessCommand.self, WhoAmI.self,
        ]
    )

    static func main() async {
        // A closed pipe (a reader that stopped early) must surface as an error, not kill the process mid-write.
        signal(SIGPIPE, SIG_IGN)
        HeapTuning.keepFreedChunksForReuse()
        let arguments = Quiet.removingFlag(from: Array(CommandLine.arguments.dropFirst()))
        var command: any ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            if Self.exitCode(for: error) != .success, let suggestion = TypoSuggestions.message(for: arguments) {
                FileHandle.standardError.write(Data("modelvault: error: \(suggestion)\n".utf8))
                Foundation.exit(ExitStatus.usage.rawValue)
            }
            exit(withError: error)
        }
        do {
            try RemoteMode.refuseUnsupported(command)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            // Close (sign the final checkpoint) before reporting: the entries of a failed run are signed too.
            _ = await OpenVaults.closeAll()
            if let validation = error as? ValidationError {
                // Found while running, after parsing: one line naming the flag, not the top-level usage.
                FileHandle.standardError.write(Data("modelvault: error: \(validation.message)\n".utf8))
                Foundation.exit(ExitStatus.usage.rawValue)
            }
            exit(withError: error)
        }
        if let error = await OpenVaults.closeAll() {
            exit(withError: CLIError("cannot sign the final audit checkpoint: \(error)"))
        }
    }

    /// Prints a one-line error and exits with its `ExitStatus` code.
    static func exit(withError error: any Error) -> Never {
        let code = Self.exitCode(for: error)
        if code == .success {
            // --help and --version land here: ArgumentParser prints them.
            Self.exit(withError: error as any Error, code: code)
        }
        if error is CleanExit || error is ExitCode || code == .validationFailure {
            Self.exit(withError: error as any Error, code: code)
        }
        FileHandle.standardError.write(Data("modelvault: error: \(String(describing: error))\n".utf8))
        Foundation.exit(ExitStatus.code(for: error).rawValue)
    }

    private static func exit(withError error: any Error, code: ExitCode) -> Never {
        var message = Self.fullMessage(for: error)
        if code == .success, message.contains("USAGE:"),
            let examples = CommandExamples.section(
                forHelp: message, arguments: Quiet.removingFlag(from: Array(CommandLine.arguments.dropFirst())))
        {
            while message.last?.isNewline == true { message.removeLast() }
            message += "\n\n" + examples
        }
        if !message.isEmpty {
            let handle = code == .success ? FileHandle.standardOutput : FileHandle.standardError
            handle.write(Data((message + "\n").utf8))
        }
        if code == .validationFailure {
            Foundation.exit(ExitStatus.usage.rawValue)
        }
        Foundation.exit(code.rawValue)
    }
}
