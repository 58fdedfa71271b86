import ArgumentParser
import Foundation
import Vault

/// `modelvault model alias NAME@VERSION ALIAS [--yes]` and `modelvault model alias --delete NAME ALIAS`.
struct ModelAlias: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alias",
        abstract: "Point an alias (staging, production, archived, ...) at a version, or remove one.",
        discussion: """
            The version must be named: an alias never follows the newest push. Alias names are case-insensitive
            and stored lowercase; a name too close to an existing alias of the model is refused. Moving
            `production` asks for confirmation on a terminal; scripts pass --yes.

            Examples:
              modelvault model alias breast-cancer@2 production --yes
              modelvault model alias --delete breast-cancer staging
            """)

    @OptionGroup var options: VaultOptions
    @Argument(help: "NAME@VERSION (with --delete: NAME).") var reference: String
    @Argument(help: "The alias.") var alias: String
    @Flag(name: .long, help: "Remove the alias instead of moving it.") var delete = false
    @Flag(name: [.short, .long], help: "Move production without asking.") var yes = false
    @Flag(name: .long, help: "Print JSON.") var json = false

    /// Aliases whose move changes what is served, so a slip must be confirmed.
    static let guarded: Set<String> = ["production"]

    func validate() throws {
        if delete {
            guard !reference.contains("@"), !reference.contains(":") else {
                throw ValidationError("--delete takes the model's name alone: model alias --delete NAME ALIAS")
            }
        } else if !reference.contains("@") {
            throw ValidationError(
                "name the version to point \(alias) at: \(reference)@VERSION (an alias never follows the newest push)"
            )
        }
    }

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        let vault = try await options.open()
        if delete {
            let version = try await vault.removeAlias(alias, ofModel: reference)
            try printResult(
                json: json, ["model": reference, "removed": alias.lowercased(), "version": "\(version)"],
                text: "removed \(reference):\(alias.lowercased()) (was version \(version))")
            return
        }
        let reference = try ModelReference(parsing: reference)
        let target = try await vault.model(reference)
        let name = alias.lowercased()
        if Self.guarded.contains(name), !yes, let current = try await vault.aliasTarget(name, ofModel: target.name),
            current != target.version
        {
            try Self.confirm("move \(target.name):\(name) from version \(current) to version \(target.version)?")
        }
        let previous = try await vault.setAlias(alias, to: reference)
        try Self.printMoved(json: json, model: target.name, alias: name, version: target.version, previous: previous)
    }

    /// `NAME:ALIAS -> V (was P)`, or its JSON.
    static func printMoved(
        json: Bool, model: String, alias: String, version: some CustomStringConvertible,
        previous: (some CustomStringConvertible)?
    ) throws {
        try printResult(
            json: json,
            MovedAlias(model: model, alias: alias, version: "\(version)", previous: previous.map { "\($0)" }),
            text: "\(model):\(alias) -> \(version)" + (previous.map { " (was \($0))" } ?? ""))
    }

    /// Asks on the terminal; without one, refuses (a script must say --yes).
    static func confirm(_ question: String) throws {
        guard isatty(STDIN_FILENO) != 0 else {
            throw CLIError("refusing to \(question.dropLast()) without confirmation: pass --yes", status: .usage)
        }
        FileHandle.standardError.write(Data("\(question) [y/N] ".utf8))
        let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased()
        guard answer == "y" || answer == "yes" else { throw CLIError("not moved", status: .failure) }
    }
}

/// `model alias --json`'s shape.
struct MovedAlias: Encodable {
    var model: String
    var alias: String
    var version: String
    var previous: String?
}
