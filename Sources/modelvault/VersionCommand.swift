import ArgumentParser
import Foundation
import VaultServer

/// `modelvault version [--json]`: what this binary was built from.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the version, source commit, build date, toolchain and resolved dependency versions.",
        discussion: """
            The commit, build date and dependency versions come from build-info.json beside the executable, which \
            the Dockerfile's build stage writes; without it they read "unknown". The server reports the same in \
            GET /v2 ("build") and the modelvault_build_info metric.
            """)

    @Flag(help: "Print JSON (sorted keys) instead of text.")
    var json = false

    @Option(
        name: .customLong("record-resolved"),
        help: ArgumentHelp(
            "Build step: print the record for the dependencies pinned in this Package.resolved.", visibility: .hidden))
    var recordResolved: String?

    @Option(help: ArgumentHelp("Build step, with --record-resolved: the source commit.", visibility: .hidden))
    var commit: String?

    func run() throws {
        var info = BuildInfo.current
        if let recordResolved {
            let resolved: Data
            do {
                resolved = try Data(contentsOf: URL(fileURLWithPath: recordResolved))
            } catch {
                throw CLIError("version: cannot read the Package.resolved file", status: .notFound)
            }
            do {
                info = try BuildInfo.record(resolvedFile: resolved, commit: commit ?? BuildInfo.unknown)
            } catch {
                throw CLIError("version: the Package.resolved file is not valid", status: .invalidInput)
            }
        }
        if json {
            FileHandle.standardOutput.write(try info.json() + Data("\n".utf8))
            return
        }
        var lines = [
            "modelvault \(info.version)", "commit: \(info.commit)", "built: \(info.buildDate)",
            "toolchain: \(info.toolchain)",
        ]
        for (name, version) in info.dependencies.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(name) \(version)")
        }
        print(lines.joined(separator: "\n"))
    }
}
