import Foundation
import TestSupport
import Testing

/// Tokens, roles, denials, the audit log and the report through the built `modelvault` binary (real age).
@Suite(.serialized) struct AccessCLITests {
    @Test func tokensRolesDenialsAuditAndTamperingThroughTheBinary() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        var base = ["MODELVAULT_PASSPHRASE": "cli access passphrase", "MODELVAULT_VAULT": "v"]
        var outputs: [String] = []
        func run(_ arguments: [String], token: String? = nil, tokenFile: String? = nil) throws -> ChildProcess.Output {
            var env = base
            env["MODELVAULT_TOKEN"] = token ?? ""
            let result = try ModelVaultBinary.run(
                arguments + (tokenFile.map { ["--token-file", $0] } ?? []), environment: env, in: work)
            outputs.append(result.stdout + result.stderr)
            return result
        }

        let created = try run(["init", "--token-out", "admin.token"])
        #expect(created.status == 0, "\(created.stderr)")
        let attributes = try FileManager.default.attributesOfItem(atPath: work.appending(path: "admin.token").path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let admin = try String(contentsOf: work.appending(path: "admin.token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(admin.hasPrefix("mvt_"))

        // The identity file spares every later run the passphrase's scrypt (slow in debug builds).
        let exported = try run(["keys", "export-identity", "-o", "identity.txt"], token: admin)
        #expect(exported.status == 0, "\(exported.stderr)")
        base["MODELVAULT_IDENTITY_FILE"] = work.appending(path: "identity.txt").path

        let missing = try run(["model", "list"])
        #expect(missing.status == 3)
        #expect(missing.stderr.contains("no API token"))
        let wrong = try run(["model", "list"], token: "mvt_" + String(repeating: "A", count: 43))
        #expect(wrong.status == 3)
        #expect(wrong.stderr.contains("invalid API token"))

        #expect(try run(["user", "add", "dana", "--role", "data-scientist"], token: admin).status == 0)
        #expect(try run(["user", "add", "olga", "--role", "compliance-officer"], token: admin).status == 0)
        let badRole = try run(["user", "add", "x", "--role", "wizard"], token: admin)
        #expect(badRole.status == 5)
        #expect(badRole.stderr.contains("unknown role"))
        #expect(
            try run(["token", "create", "dana", "--expires", "30d", "--out", "dana.token"], token: admin).status == 0)
        // Asked for explicitly (tokens expire by default): the report below flags it.
        let olgaIssued = try run(["token", "create", "olga", "--expires", "never"], token: admin)
        #expect(olgaIssued.status == 0, "\(olgaIssued.stderr)")
        let olga = olgaIssued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        outputs.removeLast()  // The one output that legitimately shows a token.
        let dana = try String(contentsOf: work.appending(path: "dana.token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)

        try Data("x,y\n1,2\n".utf8).write(to: work.appending(path: "train.csv"))
        let added = try run(["data", "add", "cancer", "train.csv"], tokenFile: "dana.token")
        #expect(added.stdout == "cancer@1\n", "\(added.stderr)")
        let rotate = try run(["keys", "rotate"], tokenFile: "dana.token")
        #expect(rotate.status == 3)
        #expect(rotate.stderr.contains("permission denied: keys.rotate on global"))
        let get = try run(["data", "get", "cancer", "-o", "out"], token: olga)
        #expect(get.status == 3)
        #expect(get.stderr.contains("permission denied: data.get on dataset:cancer"))
        #expect(!FileManager.default.fileExists(atPath: work.appending(path: "out").path))

        let tail = try run(["audit", "tail", "-n", "50"], token: olga)
        #expect(tail.status == 0, "\(tail.stderr)")
        #expect(tail.stdout.contains("dana  keys.rotate  keys  denied"))
        #expect(tail.stdout.contains("olga  data.get  dataset:cancer  denied"))
        #expect(tail.stdout.contains("anonymous  auth.token  vault  denied"))
        let csv = try run(["audit", "export", "--format", "csv", "--since", "1h"], token: olga)
        #expect(csv.stdout.hasPrefix("index,time,principal,action"))

        let report = try run(["report", "--format", "html", "-o", "report.html"], token: olga)
        #expect(report.status == 0, "\(report.stderr)")
        let html = try String(contentsOf: work.appending(path: "report.html"), encoding: .utf8)
        #expect(html.contains("<!DOCTYPE html>") && html.contains("token-without-expiry"))
        let markdown = try run(["report"], token: olga)
        #expect(markdown.stdout.contains("# ModelVault compliance report"))

        let list = try run(["token", "list"], token: admin)
        let danaLine = try #require(list.stdout.split(separator: "\n").first { $0.contains("dana") })
        let danaID = String(danaLine.split(separator: " ")[0])
        #expect(try run(["token", "revoke", danaID], token: admin).status == 0)
        let revoked = try run(["data", "list"], tokenFile: "dana.token")
        #expect(revoked.status == 3)
        #expect(revoked.stderr.contains("API token revoked"))

        let proof = try run(["audit", "prove", "2"], token: admin)
        #expect(proof.status == 0, "\(proof.stderr)")
        try Data(proof.stdout.utf8).write(to: work.appending(path: "proof.json"))
        let fingerprint = try #require(AuditVerifyProofCLITests.fingerprint(in: created.stdout))
        let checked = try run(["audit", "verify-proof", "proof.json", "--key-fingerprint", fingerprint])
        #expect(checked.status == 0, "\(checked.stderr)")
        #expect(checked.stdout.contains("proof verified: entry 2"))

        let verified = try run(["audit", "verify"], token: admin)
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("audit log verified"))
        #expect(AuditVerifyProofCLITests.fingerprint(in: verified.stdout) == fingerprint)

        // No token anywhere: vault files and every captured output line.
        for token in [admin, dana, olga] {
            for file in TestData.regularFiles(under: work.appending(path: "v")) {
                let data = try Data(contentsOf: file)
                #expect(data.range(of: Data(token.utf8)) == nil, "token found in \(file.lastPathComponent)")
            }
            #expect(!outputs.contains { $0.contains(token) })
        }

        // Tamper with entry 3: one byte inside its JSON.
        let entries = work.appending(path: "v/audit/entries.jsonl")
        var bytes = try Data(contentsOf: entries)
        var lineStart = 0
        for _ in 0..<3 { lineStart = bytes[lineStart...].firstIndex(of: 0x0A)! + 1 }
        let target = bytes[lineStart...].firstIndex(of: UInt8(ascii: "p"))!
        bytes[target] = UInt8(ascii: "q")
        try bytes.write(to: entries)
        let tampered = try run(["audit", "verify"], token: admin)
        #expect(tampered.status == 6)
        #expect(tampered.stderr.contains("first bad index 3"), "\(tampered.stdout) \(tampered.stderr)")
        #expect(tampered.stdout.contains("at entry 3"))
        // Review 6: a filtered tail read the file unchecked and showed the changed entry as logged.
        for filter in [["--outcome", "allowed"], ["--principal", "admin"], ["--action", "token."]] {
            let filtered = try run(["audit", "tail", "-n", "50"] + filter, token: admin)
            #expect(filtered.status != 0, "\(filter): \(filtered.stdout)")
        }
    }
    /// A token file that other users can read hands them the caller's identity: the CLI refuses it, as ssh refuses
    /// a private key file others can read, and names the file's problem without printing the token.
    @Test func aTokenFileReadableByOthersIsRefused() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        var env = [
            "MODELVAULT_PASSPHRASE": "cli token file passphrase", "MODELVAULT_VAULT": "v", "MODELVAULT_TOKEN": "",
        ]
        let created = try ModelVaultBinary.run(["init", "--token-out", "admin.token"], environment: env, in: work)
        #expect(created.status == 0, "\(created.stderr)")
        let tokenFile = work.appending(path: "admin.token").path
        let admin = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        // The identity file spares the later runs the passphrase's scrypt (slow in debug builds).
        env["MODELVAULT_TOKEN"] = admin
        let exported = try ModelVaultBinary.run(
            ["keys", "export-identity", "-o", "identity.txt"], environment: env, in: work)
        #expect(exported.status == 0, "\(exported.stderr)")
        env["MODELVAULT_TOKEN"] = ""
        env["MODELVAULT_IDENTITY_FILE"] = work.appending(path: "identity.txt").path

        for mode in [0o644, 0o640, 0o604, 0o660] {
            #expect(chmod(tokenFile, mode_t(mode)) == 0)
            let refused = try ModelVaultBinary.run(
                ["model", "list", "--token-file", "admin.token"], environment: env, in: work)
            #expect(refused.status == 3, "mode \(String(mode, radix: 8)): \(refused.stderr)")
            #expect(refused.stderr.contains("the API token file is open to other users"), "\(refused.stderr)")
            #expect(!(refused.stdout + refused.stderr).contains(admin))
        }
        #expect(chmod(tokenFile, 0o600) == 0)
        let accepted = try ModelVaultBinary.run(
            ["model", "list", "--token-file", "admin.token"], environment: env, in: work)
        #expect(accepted.status == 0, "\(accepted.stderr)")
    }
}
