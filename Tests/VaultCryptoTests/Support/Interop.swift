import Foundation
import Testing

/// Runs external peers (the `age` CLI, the built `modelvault` binary). A missing tool skips the test with a
/// visible message, unless MODELVAULT_REQUIRE_INTEROP=1 makes it a failure.
enum Interop {
    static var required: Bool { ProcessInfo.processInfo.environment["MODELVAULT_REQUIRE_INTEROP"] == "1" }

    static func path(of tool: String) -> String? {
        if tool == "modelvault" {
            // The test bundle's resources sit next to the built products.
            let binary = Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("modelvault")
            return FileManager.default.isExecutableFile(atPath: binary.path) ? binary.path : nil
        }
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func available(_ tool: String) -> Bool { path(of: tool) != nil }

    static func skipOrFail(_ tool: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        if required {
            Issue.record(
                "\(tool) is required (MODELVAULT_REQUIRE_INTEROP=1) but not installed", sourceLocation: sourceLocation)
        } else {
            FileHandle.standardError.write(Data("SKIPPED: \(tool) not installed\n".utf8))
        }
    }

    struct Output {
        let status: Int32
        let stdout: Data
        let stderr: String
    }

    /// Runs `tool` with `arguments`, feeding `input` on stdin.
    @discardableResult
    static func run(
        _ tool: String, _ arguments: [String], input: Data = Data(), environment: [String: String] = [:]
    ) throws -> Output {
        guard let path = path(of: tool) else { throw VectorError("\(tool) not found") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Read both pipes while writing, so a large output cannot block the child.
        let group = DispatchGroup()
        nonisolated(unsafe) var out = Data()
        nonisolated(unsafe) var err = Data()
        DispatchQueue.global().async(group: group) { out = stdout.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { err = stderr.fileHandleForReading.readDataToEndOfFile() }
        try? stdin.fileHandleForWriting.write(contentsOf: input)
        try? stdin.fileHandleForWriting.close()
        group.wait()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: out, stderr: String(decoding: err, as: UTF8.self))
    }
}
