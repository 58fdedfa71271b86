import Foundation
import TestSupport
import Testing

/// Review of 2026-12-04, round 5: `audit verify-proof` took the verifier key from the vault directory's
/// `audit/verifier.vkey` by default, so whoever can write that directory put their own key there and any proof they
/// signed "verified". The key now comes from outside the vault or is pinned by the fingerprint the unlocked vault
/// prints.
@Suite(.serialized) struct AuditVerifyProofCLITests {
    /// The fingerprint on an `audit key fingerprint: HEX` line.
    static func fingerprint(in output: String) -> String? {
        let prefix = "audit key fingerprint: "
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return nil }
        return line.dropFirst(prefix.count).split(separator: " ").first.map(String.init)
    }

    @Test func aVerifierKeyReplacedInTheVaultDirectoryIsRefused() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        func run(_ arguments: [String], vault: String, token: String = "") throws -> ChildProcess.Output {
            try ModelVaultBinary.run(
                arguments,
                environment: [
                    "MODELVAULT_PASSPHRASE": "verify-proof passphrase \(vault)", "MODELVAULT_VAULT": vault,
                    "MODELVAULT_TOKEN": token,
                ], in: work)
        }
        func initialise(_ vault: String) throws -> (token: String, fingerprint: String) {
            let created = try run(["init", "--token-out", "\(vault).token"], vault: vault)
            #expect(created.status == 0, "\(created.stderr)")
            let token = try String(contentsOf: work.appending(path: "\(vault).token"), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            return (token, try #require(Self.fingerprint(in: created.stdout)))
        }
        let (_, victimFingerprint) = try initialise("victim")
        // The attacker's own vault signs a proof of whatever entry it likes; its key file replaces the victim's.
        let (attackerToken, attackerFingerprint) = try initialise("attacker")
        #expect(attackerFingerprint != victimFingerprint)
        let proof = try run(["audit", "prove", "0"], vault: "attacker", token: attackerToken)
        #expect(proof.status == 0, "\(proof.stderr)")
        try Data(proof.stdout.utf8).write(to: work.appending(path: "forged.proof"))
        let victimKey = work.appending(path: "victim/audit/verifier.vkey")
        try Data(contentsOf: victimKey).write(to: work.appending(path: "victim.vkey"))
        try Data(contentsOf: work.appending(path: "attacker/audit/verifier.vkey")).write(to: victimKey)

        // With no pin, the key file in the vault directory is not taken on trust.
        let unpinned = try run(["audit", "verify-proof", "forged.proof"], vault: "victim")
        #expect(unpinned.status == 2, "\(unpinned.stdout)")
        #expect(unpinned.stderr.contains("--key-fingerprint"))
        #expect(!unpinned.stdout.contains("proof verified"))
        // Pinned, the replaced key does not match.
        let pinned = try run(
            ["audit", "verify-proof", "forged.proof", "--key-fingerprint", victimFingerprint], vault: "victim")
        #expect(pinned.status == 6, "\(pinned.stdout)")
        #expect(pinned.stderr.contains("fingerprint"))
        #expect(!pinned.stdout.contains("proof verified"))
        // A copy of the key kept outside the vault (saved before the attack) refuses the attacker's proof.
        let kept = try run(["audit", "verify-proof", "forged.proof", "--verifier-key", "victim.vkey"], vault: "victim")
        #expect(kept.status != 0, "\(kept.stdout)")
        #expect(!kept.stdout.contains("proof verified"))

        // A witness started on the planted key file, pinned to the victim's fingerprint, refuses to start.
        let witness = try run(
            [
                "witness", "serve", "--state", "witness", "--self-signed", "--port", "0", "--log-key",
                "victim/audit/verifier.vkey", "--log-key-fingerprint", victimFingerprint,
            ], vault: "victim")
        #expect(witness.status == 6, "\(witness.stdout) \(witness.stderr)")
        #expect(witness.stderr.contains("--log-key-fingerprint"))
    }
}
