public import Foundation

/// The debug `modelvault` executable this package builds, run end to end by the CLI tests.
public enum ModelVaultBinary {
    /// The package's root directory (this file is `Tests/TestSupport/ModelVaultBinary.swift`).
    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Where `swift build` puts the debug executable.
    public static let url = packageRoot.appendingPathComponent(".build/debug/modelvault")

    /// Whether the executable is built; when it is not, says on stderr that the test was skipped.
    public static var isBuilt: Bool {
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            FileHandle.standardError.write(Data("SKIPPED: modelvault binary not built\n".utf8))
            return false
        }
        return true
    }

    /// Runs `modelvault arguments…` in `directory` and waits for it.
    ///
    /// The child gets the test's environment without `MODELVAULT_IDENTITY_FILE` and `MODELVAULT_VAULT` (so a
    /// developer's own settings cannot leak in), then `extra` on top.
    public static func run(
        _ arguments: [String], environment extra: [String: String] = [:], in directory: URL
    ) throws -> ChildProcess.Output {
        var environment = ProcessInfo.processInfo.environment
        environment["MODELVAULT_IDENTITY_FILE"] = nil
        environment["MODELVAULT_VAULT"] = nil
        environment.merge(extra) { $1 }
        return try ChildProcess(url, arguments, in: directory, environment: environment).run()
    }
}
