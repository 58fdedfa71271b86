public import Foundation

/// A command for a test to run as a child process: what to run, with which arguments, input, directory and
/// environment. `run()` waits on the calling thread; `runAsync()` suspends instead, for async tests.
public struct ChildProcess: Sendable {
    /// The executable, by absolute path.
    public var executable: URL
    /// The arguments after the executable's name.
    public var arguments: [String]
    /// Bytes fed on stdin; `nil` connects stdin to `/dev/null`.
    public var input: Data?
    /// The working directory; `nil` keeps the test process's.
    public var directory: URL?
    /// The complete environment of the child.
    public var environment: [String: String]
    /// Whether stderr goes to the same place as stdout (into `Output.stdout`), so the two interleave as a
    /// terminal would show them.
    public var mergesErrors: Bool

    /// A command running `executable` with `arguments`; by default no input, the test's directory and the test's
    /// environment, with stdout and stderr captured apart.
    public init(
        _ executable: URL, _ arguments: [String] = [], input: Data? = nil, in directory: URL? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment, mergesErrors: Bool = false
    ) {
        self.executable = executable
        self.arguments = arguments
        self.input = input
        self.directory = directory
        self.environment = environment
        self.mergesErrors = mergesErrors
    }

    /// A command running `tool`, found on `PATH` through `/usr/bin/env`.
    public static func tool(
        _ tool: String, _ arguments: [String] = [], input: Data? = nil, in directory: URL? = nil,
        mergesErrors: Bool = false
    ) -> ChildProcess {
        ChildProcess(
            URL(fileURLWithPath: "/usr/bin/env"), [tool] + arguments, input: input, in: directory,
            mergesErrors: mergesErrors)
    }

    /// What a finished child process returned.
    public struct Output: Sendable {
        /// The exit status (or the signal number when the child was killed).
        public var status: Int32
        /// Everything written on stdout (and on stderr when the command merges errors).
        public var stdoutData: Data
        /// Everything written on stderr; empty when the command merges errors.
        public var stderrData: Data

        /// stdout decoded as UTF-8 (invalid bytes replaced).
        public var stdout: String { String(decoding: stdoutData, as: UTF8.self) }
        /// stderr decoded as UTF-8 (invalid bytes replaced).
        public var stderr: String { String(decoding: stderrData, as: UTF8.self) }
    }

    /// A command that exited with a non-zero status where success was required.
    public struct Failure: Error, CustomStringConvertible {
        /// The command's name, its status and what it wrote on stderr.
        public var description: String
    }
}
