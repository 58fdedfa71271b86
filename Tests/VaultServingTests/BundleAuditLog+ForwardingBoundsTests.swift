import AuditLog
import Foundation
import Testing
import VaultServer
import VaultServing

/// Review 4, F5 and F6: what a pod forwards to the vault's log (`POST /v1/audit/entries`) and what the vault accepts.
@Suite struct BundleAuditLogForwardingBoundsTests {
    /// The attack (F5): an audit-writer token writes a Unicode line separator, NEL, a C1 CSI or a bidi override
    /// into the vault's log, where a viewer that splits lines on them shows a forged entry. The vault refuses them.
    @Test func lineSeparatorsAndFormatCharactersAreRefusedByTheVault() {
        for bad in ["\u{2028}", "\u{2029}", "\u{85}", "\u{9B}2J", "\u{202E}", "\n", "\u{1B}[2J"] {
            #expect(throws: RegistryError.self) {
                try AppendAuditRequest(action: "model.load", resource: "model:a" + bad, outcome: "allowed").validate()
            }
            #expect(throws: RegistryError.self) {
                try AppendAuditRequest(action: "model.load", resource: "model:a", outcome: "allowed", detail: bad)
                    .validate()
            }
        }
        // Entry ids are short ASCII tokens: anything else (a separator, an escape, 65 bytes) is refused too.
        for bad in ["", "a\nb", "id with space", "\u{1B}[2J", String(repeating: "a", count: 65), "é"] {
            #expect(throws: RegistryError.self) {
                try AppendAuditRequest(action: "model.load", resource: "model:a", outcome: "allowed", id: bad)
                    .validate()
            }
        }
        #expect(
            (try? AppendAuditRequest(
                action: "model.load", resource: "model:a", outcome: "allowed", id: UUID().uuidString
            ).validate()) != nil)
        // A name in another script is text, not an injection.
        #expect(
            (try? AppendAuditRequest(action: "model.load", resource: "model:modèle@1", outcome: "allowed").validate())
                != nil)
    }

    /// The attack (F6): a caller asks the pod for a model name of one Character made of "a" and 2,500 combining
    /// marks (5,001 bytes). Clipped by Characters it stayed whole, the vault answered 413 and the pod dropped the
    /// entry, so the request never reached the vault's log. Now the pod's request is within the vault's bounds,
    /// in bytes, whatever the caller sends (separators included, escaped rather than dropped).
    @Test func aHostileResourceStillFitsTheVaultsBounds() throws {
        let marks = String(repeating: "\u{301}", count: 2_500)
        for resource in ["model:a" + marks, "model:x\u{2028}999  admin  model.pull  allowed\u{85}", marks] {
            let entry = AuditEntry(
                principal: "user-ml", action: "model.infer", resource: resource, outcome: .denied,
                requestID: "req-1", clientAddress: "10.0.0.9", detail: resource)
            let request = BundleAuditLog.appendRequest(for: entry)
            #expect(throws: Never.self) { try request.validate() }
            #expect(try JSONEncoder().encode(request).count <= AppendAuditRequest.maxBodyBytes)
            #expect(request.resource.utf8.count <= 256 && (request.detail?.utf8.count ?? 0) <= 1024)
        }
        // The vault counts bytes too: one Character of 601 bytes is over the resource bound.
        #expect(throws: RegistryError.self) {
            try AppendAuditRequest(
                action: "model.load", resource: "a" + String(repeating: "\u{301}", count: 300), outcome: "allowed"
            ).validate()
        }
    }
}
