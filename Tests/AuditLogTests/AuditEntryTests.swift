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

@Suite struct AuditEntryCanonicalTests {
    @Test func handWrittenFormMatchesFoundationsSortedKeysEncoding() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let samples = [
            AuditEntry(principal: "p", action: "a", resource: "r", outcome: .allowed, requestID: "x"),
            AuditEntry(
                time: Date(timeIntervalSince1970: -86_400 * 365.25 * 30 + 0.5), principal: "zoë \"quoted\" \\ slash/",
                action: "model.pull", resource: "model:模型@1", outcome: .failed, requestID: "id\twith\ttabs",
                clientAddress: "[::1]:8443", detail: "line\nbreak and \r return"),
        ]
        for entry in samples {
            let canonical = try entry.canonicalJSON()
            #expect(canonical == (try encoder.encode(entry)))
            #expect(try JSONDecoder().decode(AuditEntry.self, from: canonical) == entry)
        }
    }

    @Test func controlCharactersAreEscaped() throws {
        let entry = AuditEntry(principal: "a\u{1}b\u{1f}", action: "a", resource: "r", outcome: .denied, requestID: "x")
        let json = String(decoding: try entry.canonicalJSON(), as: UTF8.self)
        #expect(json.contains(#""principal":"a\u0001b\u001f""#))
        #expect(try JSONDecoder().decode(AuditEntry.self, from: Data(json.utf8)).principal == "a\u{1}b\u{1f}")
    }

    @Test func timestampsMatchFoundationAcrossCenturiesAndLeapDays() {
        let style = Date.ISO8601FormatStyle()
        for seconds: Int64 in [
            0, 951_782_400, 951_868_799, 4_107_542_400, -1, -2_208_988_800, 1_709_164_800, 253_402_300_799,
        ] {
            let date = Date(timeIntervalSince1970: TimeInterval(seconds))
            let expected = date.formatted(style).dropLast() + ".000Z"
            #expect(AuditEntry.timestamp(date) == expected, "\(seconds)")
        }
        #expect(AuditEntry.timestamp(Date(timeIntervalSince1970: 1_800_000_000.123)) == "2027-01-15T08:00:00.123Z")
        #expect(AuditEntry.timestamp(Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
    }
}
