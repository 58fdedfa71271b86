public import Foundation

/// A long-running child, such as `modelvault serve` or `witness serve`, started for one test: its standard output
/// and error go to a file in the test's directory, so the test can wait for a line (its "listening on" line) and
/// read the log afterwards. It is terminated when the test stops it or when the value goes away.
public final class BackgroundProcess {
    private let process = Process()
    private let handle: FileHandle
    /// The file holding everything the child has written so far.
    public let outputFile: URL

    /// Starts `executable arguments…` (the built `modelvault` unless told otherwise) in `directory` with exactly
    /// `environment`.
    public init(
        _ arguments: [String], executable: URL = ModelVaultBinary.url, in directory: URL,
        environment: [String: String]
    ) throws {
        outputFile = directory.appending(path: "background-\(UUID().uuidString).out")
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        handle = try FileHandle(forWritingTo: outputFile)
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = environment
        process.standardOutput = handle
        process.standardError = handle
        try process.runSerially()
    }

    deinit {
        if process.isRunning { process.terminate() }
        try? handle.close()
    }

    /// Everything the child has written so far.
    public var output: String { (try? String(contentsOf: outputFile, encoding: .utf8)) ?? "" }

    /// Whether the child is still running.
    public var isRunning: Bool { process.isRunning }

    /// The child's process ID.
    public var processIdentifier: Int32 { process.processIdentifier }

    /// The first output line starting with `prefix`, without the prefix; nil if the child exits or `timeout`
    /// passes first.
    public func line(startingWith prefix: String, timeout: Duration = .seconds(120)) async throws -> String? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = output.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) {
                return String(line.dropFirst(prefix.count))
            }
            guard process.isRunning else { return nil }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    /// The URL a server prints in its `listening on URL` line, once it prints it (nil if it exits or times out).
    public func listeningURL(timeout: Duration = .seconds(120)) async throws -> String? {
        try await line(startingWith: "listening on ", timeout: timeout)
    }

    /// Sends SIGTERM, waits up to 30 s for the child to exit and returns its status (nil if it is still running).
    @discardableResult
    public func stop() async throws -> Int32? {
        if process.isRunning { process.terminate() }
        for _ in 0..<300 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        return process.isRunning ? nil : process.terminationStatus
    }
}

extension ModelVaultBinary {
    /// The environment a child `modelvault` gets in the tests: the test's own without `MODELVAULT_IDENTITY_FILE`
    /// and `MODELVAULT_VAULT` (so a developer's settings cannot leak in), then `extra` on top.
    public static func environment(adding extra: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["MODELVAULT_IDENTITY_FILE"] = nil
        environment["MODELVAULT_VAULT"] = nil
        environment.merge(extra) { $1 }
        return environment
    }
}
