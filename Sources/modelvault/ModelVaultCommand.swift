import ArgumentParser
import Foundation

/// The `modelvault` command: a thin layer that wires the libraries together.
///
/// Exit codes follow DESIGN.md: 0 success, 1 refused or failed check, 2 usage error.
@main
struct ModelVaultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "modelvault",
        abstract: "Secure machine-learning models and data end to end.",
        version: "0.1.0",
        subcommands: [
            Keygen.self, Encrypt.self, Decrypt.self,
            Sign.self, Verify.self,
            Init.self, DataCommand.self, ModelCommand.self, KeysCommand.self,
            UserCommand.self, RoleCommand.self, TokenCommand.self, AuditCommand.self, ReportCommand.self,
            Train.self, Evaluate.self, Predict.self, HECommand.self,
            DeployCommand.self, Serve.self, DemoCommand.self, ScanCommand.self,
        ]
    )

    static func main() async {
        // A closed pipe (a reader that stopped early) must surface as an error, not kill the process mid-write.
        signal(SIGPIPE, SIG_IGN)
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }

    /// Prints a one-line error and exits with the DESIGN.md code for it.
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
        Foundation.exit(1)
    }

    private static func exit(withError error: any Error, code: ExitCode) -> Never {
        let message = Self.fullMessage(for: error)
        if !message.isEmpty {
            let handle = code == .success ? FileHandle.standardOutput : FileHandle.standardError
            handle.write(Data((message + "\n").utf8))
        }
        if code == .validationFailure {
            Foundation.exit(2)
        }
        Foundation.exit(code.rawValue)
    }
}
