import ArgumentParser

/// Placeholder until implemented.
struct Sign: AsyncParsableCommand {
    func run() async throws { throw CLIError("not implemented yet") }
}

/// Placeholder until implemented.
struct Verify: AsyncParsableCommand {
    func run() async throws { throw CLIError("not implemented yet") }
}
