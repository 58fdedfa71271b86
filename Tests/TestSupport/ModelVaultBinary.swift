public import Foundation

/// The `modelvault` executable this package builds, run end to end by the CLI tests: the one built in the same
/// configuration as the tests (`swift test` → `.build/debug`, `swift test -c release -Xswiftc -enable-testing` → `.build/release`), so
/// a test never runs a stale binary from the other configuration.
public enum ModelVaultBinary {
    /// The package's root directory (this file is `Tests/TestSupport/ModelVaultBinary.swift`).
    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    #if DEBUG
    static let configuration = "debug"
    #else
    static let configuration = "release"
    #endif

    /// Where `swift build` puts the executable for this configuration.
    public static let url = packageRoot.appendingPathComponent(".build/\(configuration)/modelvault")

    /// Fails the calling test unless the executable is built. The test targets that run it depend on the
    /// `modelvault` target, so `swift test` always builds it first; a missing binary is a broken build.
    public static func requireBuilt() throws {
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw Interop.MissingPeer(description: "the modelvault binary is not built at \(url.path)")
        }
    }

    /// Runs `modelvault arguments…` in `directory` and waits for it.
    ///
    /// The child gets the test's environment without `MODELVAULT_IDENTITY_FILE` and `MODELVAULT_VAULT` (so a
    /// developer's own settings cannot leak in), then `extra` on top.
    public static func run(
        _ arguments: [String], environment extra: [String: String] = [:], in directory: URL
    ) throws -> ChildProcess.Output {
        try ChildProcess(url, arguments, in: directory, environment: environment(adding: extra)).run()
    }
}
