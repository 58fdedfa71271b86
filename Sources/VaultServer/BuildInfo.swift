public import Foundation

/// What a `modelvault` binary was built from: its version, the source commit, when and with which toolchain it was
/// built, and the dependency versions resolved at build time. `modelvault version --json` prints it and the server
/// reports it in `GET /v2` and as the `modelvault_build_info` metric.
///
/// The version and toolchain are compiled in. The rest comes from `build-info.json` beside the executable, which
/// the Dockerfile's build stage writes (`modelvault version --json --record-resolved Package.resolved`); a binary
/// built without it reports `unknown`, never a guess.
public struct BuildInfo: Sendable, Codable, Equatable {
    /// The ModelVault version.
    public var version: String
    /// The source commit, or `unknown`.
    public var commit: String
    /// When the binary was built (ISO 8601, UTC), or `unknown`.
    public var buildDate: String
    /// The Swift compiler the binary was built with.
    public var toolchain: String
    /// Each dependency's package identity and the version (or revision) resolved at build time.
    public var dependencies: [String: String]

    /// The ModelVault version compiled into this binary.
    public static let currentVersion = "0.1.0"
    /// The file beside the executable that records the build.
    public static let fileName = "build-info.json"
    /// Stand-in for what was not recorded.
    public static let unknown = "unknown"

    /// Creates build information.
    public init(version: String, commit: String, buildDate: String, toolchain: String, dependencies: [String: String]) {
        self.version = version
        self.commit = commit
        self.buildDate = buildDate
        self.toolchain = toolchain
        self.dependencies = dependencies
    }

    /// The compiler this binary was built with, as far as `#if compiler` can tell.
    public static var compiledToolchain: String {
        #if compiler(>=6.4)
        "Swift 6.4 or later"
        #elseif compiler(>=6.3)
        "Swift 6.3"
        #elseif compiler(>=6.2)
        "Swift 6.2"
        #else
        "Swift 6.1 or earlier"
        #endif
    }

    /// This binary's build information: `build-info.json` beside the executable if there is a readable one (at most
    /// 1 MiB), with the compiled-in version and toolchain; otherwise those two and `unknown`.
    public static let current: BuildInfo = {
        let compiled = BuildInfo(
            version: currentVersion, commit: unknown, buildDate: unknown, toolchain: compiledToolchain,
            dependencies: [:])
        guard let executable = Bundle.main.executableURL else { return compiled }
        let file = executable.deletingLastPathComponent().appendingPathComponent(fileName)
        guard let data = try? Data(contentsOf: file), data.count <= 1 << 20,
            var recorded = try? JSONDecoder().decode(BuildInfo.self, from: data)
        else { return compiled }
        recorded.version = currentVersion
        return recorded
    }()

    /// The record the build stage writes: the compiled-in version and toolchain, `commit`, the time now, and the
    /// versions pinned in `resolvedFile` (a SwiftPM `Package.resolved`, format 2 or 3).
    public static func record(resolvedFile: Data, commit: String = unknown, now: Date = Date()) throws -> BuildInfo {
        struct Resolved: Decodable {
            struct Pin: Decodable {
                struct State: Decodable {
                    var version: String?
                    var revision: String?
                    var branch: String?
                }
                var identity: String
                var state: State
            }
            var pins: [Pin]
        }
        let resolved = try JSONDecoder().decode(Resolved.self, from: resolvedFile)
        var dependencies: [String: String] = [:]
        for pin in resolved.pins {
            dependencies[pin.identity] = pin.state.version ?? pin.state.revision ?? pin.state.branch ?? unknown
        }
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return BuildInfo(
            version: currentVersion, commit: commit, buildDate: formatter.string(from: now),
            toolchain: compiledToolchain, dependencies: dependencies)
    }

    /// Sorted-key JSON.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }
}
