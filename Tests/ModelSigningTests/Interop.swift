import Foundation
import Testing

/// External peers for interop tests: skipped with a visible message when missing, unless
/// MODELVAULT_REQUIRE_INTEROP=1, in which case a missing peer fails the test.
enum Interop {
    static var required: Bool { ProcessInfo.processInfo.environment["MODELVAULT_REQUIRE_INTEROP"] == "1" }

    /// Whether `tool` runs (`tool PROBE...` exits 0; the probe defaults to `--help`).
    static func available(_ tool: String, probe: [String] = ["--help"]) -> Bool {
        (try? run([tool] + probe).status) == 0
    }

    /// Records an issue when interop is required; otherwise says on stderr that the test was skipped.
    static func skipOrFail(_ tool: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        if required {
            Issue.record(
                "\(tool) is required (MODELVAULT_REQUIRE_INTEROP=1) but not installed", sourceLocation: sourceLocation)
        } else {
            FileHandle.standardError.write(Data("SKIPPED: \(tool) not installed\n".utf8))
        }
    }

    /// What a finished command returned; stdout and stderr are merged.
    struct Output {
        var status: Int32
        var output: String
    }

    /// Runs a command through `/usr/bin/env`, with stdout and stderr on one pipe so one reader drains both.
    static func run(_ arguments: [String], in directory: URL? = nil) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }
}
