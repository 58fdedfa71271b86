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
        let server = try BackgroundProcess(
            ["serve", "--self-signed", "--port", "0"], in: work.url,
            environment: ModelVaultBinary.environment(adding: env))
        let listening = try await server.line(startingWith: "listening on https://")
        #expect(listening != nil, "\(server.output)")
        let environ = FileManager.default.contents(atPath: "/proc/\(server.processIdentifier)/environ") ?? Data()
        try await server.stop()
        #expect(!environ.isEmpty)
        #expect(environ.range(of: Data("cli test passphrase".utf8)) == nil, "the passphrase is still in environ")
        // Other variables are untouched.
        #expect(environ.range(of: Data("MODELVAULT_VAULT=v".utf8)) != nil)
    }
}
