import Foundation
import Testing

@testable import AuditLog

@Suite struct AuditEntryTests {
    @Test func canonicalJSONHasSortedKeysOnOneLine() throws {
        let entry = AuditEntry(
            time: Date(timeIntervalSince1970: 1_800_000_000.1239), principal: "alice", action: "model.pull",
            resource: "model:fraud@3", outcome: .denied, requestID: "r1", clientAddress: "10.1.2.3",
            detail: "line one\nline two")
        let json = String(decoding: try entry.canonicalJSON(), as: UTF8.self)
        #expect(
            json
                == #"{"action":"model.pull","client":"10.1.2.3","detail":"line one\nline two","outcome":"denied","principal":"alice","request":"r1","resource":"model:fraud@3","time":"2027-01-15T08:00:00.123Z"}"#
        )
        #expect(!json.contains("\n"))
        #expect(try JSONDecoder().decode(AuditEntry.self, from: Data(json.utf8)) == entry)
    }

    @Test func optionalFieldsAreOmitted() throws {
        let entry = AuditEntry(principal: "p", action: "a", resource: "r", outcome: .failed, requestID: "x")
        let json = String(decoding: try entry.canonicalJSON(), as: UTF8.self)
        #expect(!json.contains("client"))
        #expect(!json.contains("detail"))
    }

    @Test func tokenShapedSecretsInDetailAreRedacted() throws {
        let entry = AuditEntry(
            principal: "p", action: "a", resource: "r", outcome: .failed, requestID: "x",
            detail: "bad token mvt_abcDEF123-_xyz and AGE-SECRET-KEY-1QQQQ here")
        #expect(entry.detail == "bad token [redacted] and [redacted] here")
    }
}
