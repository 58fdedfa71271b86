import Foundation
import TestSupport
import Testing

/// Defect 13 of issue #15: the passphrase stayed in the server's `/proc/PID/environ` for the process's whole
/// life (`unsetenv` alone leaves the bytes there). It is read, then overwritten in place.
@Suite struct ServeCommandEnvironmentTests {
    static let canReadEnviron = FileManager.default.fileExists(atPath: "/proc/self/environ")

    @Test(.enabled(if: canReadEnviron), .timeLimit(.minutes(5)))
    func thePassphraseIsGoneFromTheServersEnvironment() async throws {
        let work = try TemporaryDirectory()
        var env = try CLI.makeVault(in: work.url)
        env["MODELVAULT_IDENTITY_FILE"] = nil
        env["MODELVAULT_PASSPHRASE"] = "cli test passphrase"
        let process = Process()
        process.executableURL = ModelVaultBinary.url
        process.arguments = ["serve", "--self-signed", "--port", "0"]
        process.currentDirectoryURL = work.url
        var environment = ProcessInfo.processInfo.environment
        environment["MODELVAULT_IDENTITY_FILE"] = nil
        for (key, value) in env { environment[key] = value }
        process.environment = environment
        let out = work.url.appending(path: "serve.out")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        let handle = try FileHandle(forWritingTo: out)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        var listening = false
        for _ in 0..<600 where !listening {
            try await Task.sleep(for: .milliseconds(100))
            listening = ((try? String(contentsOf: out, encoding: .utf8)) ?? "").contains("listening on https://")
        }
        #expect(listening, "\((try? String(contentsOf: out, encoding: .utf8)) ?? "")")
        let environ = FileManager.default.contents(atPath: "/proc/\(process.processIdentifier)/environ") ?? Data()
        process.terminate()
        for _ in 0..<300 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        try handle.close()
        #expect(!environ.isEmpty)
        #expect(environ.range(of: Data("cli test passphrase".utf8)) == nil, "the passphrase is still in environ")
        // Other variables are untouched.
        #expect(environ.range(of: Data("MODELVAULT_VAULT=v".utf8)) != nil)
    }
}
