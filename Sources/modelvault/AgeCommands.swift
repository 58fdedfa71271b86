import ArgumentParser

/// Placeholder until implemented.
struct Keygen: AsyncParsableCommand {
    func run() async throws { throw CLIError("not implemented yet") }
}

/// Placeholder until implemented.
struct Encrypt: AsyncParsableCommand {
    func run() async throws { throw CLIError("not implemented yet") }
}

/// Placeholder until implemented.
struct Decrypt: AsyncParsableCommand {
    func run() async throws { throw CLIError("not implemented yet") }
}
