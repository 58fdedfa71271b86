import Foundation
import TestSupport

extension Interop {
    /// Where `tool` is: the `modelvault` binary built next to this test bundle, or an executable on `PATH`.
    static func path(of tool: String) -> String? {
        if tool == "modelvault" {
            // The test bundle's resources sit next to the built products.
            let binary = Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("modelvault")
            return FileManager.default.isExecutableFile(atPath: binary.path) ? binary.path : nil
        }
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `tool` (see `path(of:)`) with `arguments`, feeding `input` on stdin, with `environment` on top of the
    /// test's.
    @discardableResult
    static func run(
        _ tool: String, _ arguments: [String], input: Data = Data(), environment: [String: String] = [:]
    ) throws -> ChildProcess.Output {
        guard let path = path(of: tool) else { throw VectorError("\(tool) not found") }
        return try ChildProcess(
            URL(fileURLWithPath: path), arguments, input: input,
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 }
        ).run()
    }
}
