import Foundation
import Testing

/// External peers for interop tests: skipped with a visible message when missing, unless
/// MODELVAULT_REQUIRE_INTEROP=1 makes a missing peer a failure.
enum Interop {
    static var required: Bool { ProcessInfo.processInfo.environment["MODELVAULT_REQUIRE_INTEROP"] == "1" }

    /// Whether `python3` can import every module in `modules`.
    static func pythonHas(_ modules: [String]) -> Bool {
        (try? python("import " + modules.joined(separator: ", "), arguments: [])) != nil
    }

    static func skipOrFail(_ tool: String) throws {
        if required {
            Issue.record("\(tool) is required (MODELVAULT_REQUIRE_INTEROP=1) but not installed")
        } else {
            FileHandle.standardError.write(Data("SKIPPED: \(tool) not installed\n".utf8))
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs a Python script with `/usr/bin/env python3 -c`; returns stdout, throws on a non-zero exit.
    @discardableResult
    static func python(_ script: String, arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(
                description: "python3 exited \(process.terminationStatus): "
                    + String(decoding: errorData, as: UTF8.self))
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mlcore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
