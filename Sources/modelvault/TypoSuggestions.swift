import ArgumentParser
import Foundation

/// "Did you mean …?" for a mistyped command or flag (issue #20), as git and kubectl offer: the closest name within
/// two edits among the commands or flags that exist at that point of the command line.
enum TypoSuggestions {
    /// A one-line usage error for `arguments` (without the program name), or `nil` when nothing looks mistyped.
    static func message(for arguments: [String]) -> String? {
        var command: any ParsableCommand.Type = ModelVaultCommand.self
        var path: [String] = []
        for argument in arguments {
            if argument == "--" { return nil }
            if argument.hasPrefix("--") {
                let name = String(argument.prefix { $0 != "=" })
                let known = flags(of: command, path: path)
                guard !known.contains(name), name != "--help", name != "--quiet", name != "--version",
                    name != "--generate-completion-script", let near = closest(to: name, in: known)
                else { continue }
                return "unknown option '\(name)'; did you mean '\(near)'?"
            }
            let subcommands = Self.subcommands(of: command)
            guard !subcommands.isEmpty, !argument.hasPrefix("-") else { continue }
            var names: [String] = []
            var next: (any ParsableCommand.Type)?
            for subcommand in subcommands {
                let name = Self.name(of: subcommand)
                names.append(name)
                if name == argument { next = subcommand }
            }
            if let next {
                command = next
                path.append(argument)
                continue
            }
            guard argument != "help" else { return nil }
            guard let near = closest(to: argument, in: names) else { return nil }
            let prefix = (["modelvault"] + path).joined(separator: " ")
            return "unknown command '\(argument)' for '\(prefix)'; did you mean '\(near)'?"
        }
        return nil
    }

    // Generic, so that the static members are read on a concrete type (Swift 6.3.1's SILGen crashed on reading
    // them through an existential metatype here).
    private static func subcommands<Command: ParsableCommand>(of _: Command.Type) -> [any ParsableCommand.Type] {
        Command.configuration.subcommands
    }

    private static func name<Command: ParsableCommand>(of _: Command.Type) -> String {
        Command._commandName
    }

    /// The long flags a command's help lists.
    static func flags(of command: any ParsableCommand.Type, path: [String]) -> [String] {
        let help = ModelVaultCommand.helpMessage(for: command, columns: 1000)
        var flags: Set<String> = []
        var current = ""
        for character in help + " " {
            if character.isLetter || character.isNumber || character == "-" {
                current.append(character)
            } else {
                if current.hasPrefix("--"), current.count > 2 { flags.insert(current) }
                current = ""
            }
        }
        return flags.sorted()
    }

    /// The candidate within two edits of `name` (and closer than half its length), if there is exactly one best.
    static func closest(to name: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, distance(name, $0)) }.filter { $0.1 <= min(2, max(1, name.count / 2)) }
        guard let best = scored.map(\.1).min() else { return nil }
        let winners = scored.filter { $0.1 == best }
        return winners.count == 1 ? winners[0].0 : nil
    }

    /// Levenshtein distance with adjacent transpositions counted as one edit.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }
}
