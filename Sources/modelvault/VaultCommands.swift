import ArgumentParser

/// Placeholder until implemented.
struct Init: AsyncParsableCommand {
    func run() async throws { throw CLIError("not implemented yet") }
}

/// Placeholder until implemented.
struct DataCommand: AsyncParsableCommand {
    func run() async throws { throw CLIError("not implemented yet") }
}

/// Placeholder until implemented.
struct ModelCommand: AsyncParsableCommand {
    func run() async throws { throw CLIError("not implemented yet") }
}

/// Placeholder until implemented.
struct KeysCommand: AsyncParsableCommand {
    func run() async throws { throw CLIError("not implemented yet") }
}
