import Foundation
import Testing

/// Runs the built `modelvault` binary as a child process (the pattern of the vault's CLI tests).
enum CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let root = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let binary = root.appending(path: ".build/debug/modelvault")
    static let breastCancerCSV = root.appending(path: "Sources/SampleData/Resources/breast_cancer.csv")

    static var binaryExists: Bool {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            FileHandle.standardError.write(Data("SKIPPED: modelvault binary not built\n".utf8))
            return false
        }
        return true
    }

    static func run(
        _ arguments: [String], environment extra: [String: String] = [:], in directory: URL
    ) throws
        -> Result
    {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["MODELVAULT_IDENTITY_FILE"] = nil
        environment["MODELVAULT_VAULT"] = nil
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let out = Pipe()
        // stderr goes to a file so a chatty child cannot block on a full pipe while stdout is read.
        let errURL = directory.appending(path: ".stderr-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let err = try FileHandle(forWritingTo: errURL)
        defer { try? FileManager.default.removeItem(at: errURL) }
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try err.close()
        let stderr = try Data(contentsOf: errURL)
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Creates a vault and exports its identity, so later commands skip the passphrase's scrypt (slow in debug).
    static func makeVault(in work: URL) throws -> [String: String] {
        let passphrase = ["MODELVAULT_PASSPHRASE": "cli test passphrase", "MODELVAULT_VAULT": "v"]
        let created = try run(["init", "--token-out", "admin.token"], environment: passphrase, in: work)
        #expect(created.status == 0, "\(created.stderr)")
        let token = try String(contentsOf: work.appending(path: "admin.token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let exported = try run(
            ["keys", "export-identity", "-o", "identity.txt"],
            environment: passphrase.merging(["MODELVAULT_TOKEN": token]) { $1 }, in: work)
        #expect(exported.status == 0, "\(exported.stderr)")
        return [
            "MODELVAULT_VAULT": "v", "MODELVAULT_IDENTITY_FILE": work.appending(path: "identity.txt").path,
            "MODELVAULT_TOKEN": token,
        ]
    }

    static func firstColumn(_ url: URL) throws -> [String] {
        try String(contentsOf: url, encoding: .utf8).split(whereSeparator: \.isNewline).dropFirst()
            .map { String($0.split(separator: ",")[0]) }
    }

    /// keygen → encrypt → infer → decrypt for `model`, expecting the plaintext classes.
    static func privateInference(
        model: String, rows: String, expecting classes: [String], env: [String: String], in work: URL
    ) throws {
        let keys = "keys-\(model)"
        let keygen = try run(["he", "keygen", "-o", keys], in: work)
        #expect(keygen.status == 0, "\(keygen.stderr)")
        let secret = try FileManager.default.attributesOfItem(atPath: work.appending(path: "\(keys)/secret.key").path)
        #expect((secret[.posixPermissions] as? Int) == 0o600)
        let query = "query-\(model).bin"
        let encrypted = try run(
            ["he", "encrypt", "--keys", keys, "--model", model, "--input", rows, "-o", query], environment: env,
            in: work)
        #expect(encrypted.status == 0, "\(encrypted.stderr)")
        let result = "result-\(model).bin"
        let inferred = try run(
            ["he", "infer", model, query, "--eval-keys", keys, "-o", result], environment: env, in: work)
        #expect(inferred.status == 0, "\(inferred.stderr)")
        let decrypted = try run(["he", "decrypt", "--keys", keys, result, "-o", "private-\(model).csv"], in: work)
        #expect(decrypted.status == 0, "\(decrypted.stderr)")
        let privateClasses = try firstColumn(work.appending(path: "private-\(model).csv"))
        #expect(privateClasses == classes)
    }
}

/// A directory removed when the value goes away.
final class TemporaryDirectory: Sendable {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appending(path: "modelvault-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}
