import Foundation
import TestSupport
import Testing

/// What the CLI tests share beyond `ModelVaultBinary`: a vault with an exported identity, CSV columns, and the
/// private-inference round trip.
enum CLI {
    static let breastCancerCSV = ModelVaultBinary.packageRoot.appending(
        path: "Sources/SampleData/Resources/breast_cancer.csv")

    /// Creates a vault and exports its identity, so later commands skip the passphrase's scrypt (slow in debug).
    static func makeVault(in work: URL) throws -> [String: String] {
        let passphrase = ["MODELVAULT_PASSPHRASE": "cli test passphrase", "MODELVAULT_VAULT": "v"]
        let created = try ModelVaultBinary.run(
            ["init", "-o", "admin.token"], environment: passphrase, in: work)
        #expect(created.status == 0, "\(created.stderr)")
        let token = try String(contentsOf: work.appending(path: "admin.token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let exported = try ModelVaultBinary.run(
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
        model: String, rows: String, expecting classes: [String], env: [String: String], in work: URL,
        parameters: String? = nil
    ) throws {
        let keys = "keys-\(model)"
        let keygen = try ModelVaultBinary.run(
            ["he", "keygen", "-o", keys] + (parameters.map { ["--params", $0] } ?? []), in: work)
        #expect(keygen.status == 0, "\(keygen.stderr)")
        let secret = try FileManager.default.attributesOfItem(atPath: work.appending(path: "\(keys)/secret.key").path)
        #expect((secret[.posixPermissions] as? Int) == 0o600)
        let query = "query-\(model).bin"
        let encrypted = try ModelVaultBinary.run(
            ["he", "encrypt", "--keys", keys, "--model", model, "--input", rows, "-o", query], environment: env,
            in: work)
        #expect(encrypted.status == 0, "\(encrypted.stderr)")
        let result = "result-\(model).bin"
        let inferred = try ModelVaultBinary.run(
            ["he", "infer", model, query, "--eval-keys", "\(keys)/evaluation.keys", "-o", result], environment: env,
            in: work)
        #expect(inferred.status == 0, "\(inferred.stderr)")
        let decrypted = try ModelVaultBinary.run(
            ["he", "decrypt", "--keys", keys, result, "-o", "private-\(model).csv"], in: work)
        #expect(decrypted.status == 0, "\(decrypted.stderr)")
        let privateClasses = try firstColumn(work.appending(path: "private-\(model).csv"))
        #expect(privateClasses == classes)
    }
}
