import Foundation

extension ChildProcess {
    /// Runs the command to completion, blocking the calling thread.
    ///
    /// Output goes to temporary files rather than pipes, so a chatty child can never block on a full pipe while
    /// the test waits for it.
    public func run() throws -> Output {
        let files = try Files()
        defer { files.remove() }
        let process = try files.prepare(self)
        try process.runSerially()
        process.waitUntilExit()
        return try files.output(status: process.terminationStatus)
    }

    /// Runs the command to completion without blocking a concurrency thread.
    public func runAsync() async throws -> Output {
        let files = try Files()
        defer { files.remove() }
        let process = try files.prepare(self)
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.runSerially()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        return try files.output(status: status)
    }

    /// Runs the command and returns its stdout; throws `Failure` (with its stderr) on a non-zero exit.
    public func output() throws -> String {
        let result = try run()
        guard result.status == 0 else {
            let name = executable.lastPathComponent == "env" ? (arguments.first ?? "env") : executable.lastPathComponent
            throw Failure(description: "\(name) exited \(result.status): \(result.stderr)")
        }
        return result.stdout
    }

    /// The child's stdin, stdout and stderr as files in a fresh temporary folder.
    private struct Files {
        let folder: URL
        let stdin: URL
        let stdout: URL
        let stderr: URL

        init() throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            stdin = folder.appendingPathComponent("stdin")
            stdout = folder.appendingPathComponent("stdout")
            stderr = folder.appendingPathComponent("stderr")
        }

        func prepare(_ command: ChildProcess) throws -> Process {
            let process = Process()
            process.executableURL = command.executable
            process.arguments = command.arguments
            process.environment = command.environment
            if let directory = command.directory { process.currentDirectoryURL = directory }
            if let input = command.input {
                try input.write(to: stdin)
                process.standardInput = try FileHandle(forReadingFrom: stdin)
            } else {
                process.standardInput = FileHandle.nullDevice
            }
            _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
            _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
            let out = try FileHandle(forWritingTo: stdout)
            process.standardOutput = out
            process.standardError = command.mergesErrors ? out : try FileHandle(forWritingTo: stderr)
            return process
        }

        func output(status: Int32) throws -> Output {
            Output(status: status, stdoutData: try Data(contentsOf: stdout), stderrData: try Data(contentsOf: stderr))
        }

        func remove() {
            try? FileManager.default.removeItem(at: folder)
        }
    }
}
