import ArgumentParser

/// The `modelvault` command: a thin layer that wires the libraries together.
@main
struct ModelVaultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "modelvault",
        abstract: "Secure machine-learning models and data end to end.",
        version: "0.1.0",
        subcommands: []
    )
}
