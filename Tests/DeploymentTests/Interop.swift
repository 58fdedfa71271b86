import Foundation
import Testing

/// External tools for interop tests: skipped with a message when missing, a failure when
/// `MODELVAULT_REQUIRE_INTEROP=1` (as in CI).
enum Interop {
    static var required: Bool { ProcessInfo.processInfo.environment["MODELVAULT_REQUIRE_INTEROP"] == "1" }

    /// Whether `tool` is an executable on `PATH`.
    static func available(_ tool: String) -> Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)")
        }
    }

    /// Whether `python3` can import `module`.
    static func pythonModuleAvailable(_ module: String) -> Bool {
        guard available("python3"), let result = try? run("python3", ["-c", "import \(module)"]) else { return false }
        return result.status == 0
    }

    /// Records a failure if interop is required, otherwise prints a visible skip notice.
    static func skipOrFail(_ tool: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        if required {
            Issue.record(
                "\(tool) is required (MODELVAULT_REQUIRE_INTEROP=1) but not installed", sourceLocation: sourceLocation)
        } else {
            FileHandle.standardError.write(Data("SKIPPED: \(tool) not installed\n".utf8))
        }
    }

    /// Runs `tool` (found on `PATH` through `/usr/bin/env`) and collects its exit status and output.
    ///
    /// Output goes to temporary files rather than pipes, so a chatty tool can never block on a full pipe.
    static func run(_ tool: String, _ arguments: [String]) throws -> (status: Int32, stdout: Data, stderr: Data) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("interop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outURL = folder.appendingPathComponent("stdout")
        let errURL = folder.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return (process.terminationStatus, try Data(contentsOf: outURL), try Data(contentsOf: errURL))
    }
}
