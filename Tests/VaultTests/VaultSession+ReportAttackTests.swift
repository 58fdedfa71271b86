import AccessControl
import Foundation
import Testing

@testable import AuditLog
@testable import Vault

/// Review of 2026-12-04, round 5: the compliance report counted entries read straight from `entries.jsonl` and took
/// its "verifies" flag from the standalone verifier, which holds no seal key and lets unsigned records after the last
/// checkpoint pass while a writer is open. Records planted in the file were counted as logged, and the log was said to
/// verify. The same read fed `audit tail` and `audit export`.
@Suite struct ReportAuditCountAttackTests {
    /// Appends hand-made records (no seal) after the last real record of a log a writer holds open (its file is
    /// padded with zeroes past the end).
    static func plant(_ entries: [AuditEntry], in audit: URL) throws {
        let url = audit.appending(path: "entries.jsonl")
        let data = try Data(contentsOf: url)
        let end = data.firstIndex(of: 0) ?? data.endIndex
        var index = UInt64(try AuditLogReader(directory: audit).records().count)
        var lines = Data()
        for entry in entries {
            lines.append(AuditRecord(index: index, entryJSON: try entry.canonicalJSON()).line)
            index += 1
        }
        let handle = try FileHandle(forWritingTo: url)
        try handle.seek(toOffset: UInt64(end))
        try handle.write(contentsOf: lines)
        try handle.close()
    }

    static let forged = (0..<5).map { number in
        AuditEntry(
            principal: "mallory", action: "model.pull", resource: "model:fraud@1", outcome: .denied,
            requestID: "forged-\(number)")
    }

    @Test func recordsPlantedWhileTheVaultIsOpenAreNotCountedAndTheLogIsNotSaidToVerify() async throws {
        let fixture = try await AccessReportTests.populated()
        let (officer, _) = try await fixture.session("carol", RoleBinding(role: .complianceOfficer))
        // Planted before the request: its own audit entry cannot be appended after records no writer sealed, so the
        // request fails closed.
        try Self.plant(Self.forged, in: fixture.auditDirectory)
        await #expect(throws: AuditLogError.unsealedTail) { try await officer.complianceReport() }
        // Planted after the request's entry was appended (the window an attacker watching the file races for): the
        // report is built with no count from them, and says the log does not verify.
        let report = try await officer.makeReport()
        #expect(!report.auditLogValid)
        #expect(report.findings.contains { $0.kind == "audit-log" && $0.severity == "high" })
        let fraud = try #require(report.models.first { $0.reference == "fraud@1" })
        #expect(!fraud.access.contains { $0.principal == "mallory" })
        #expect(fraud.deniedAttempts < 5)
    }

    @Test func theServersReportRefusesThemToo() async throws {
        let fixture = try await AccessReportTests.populated()
        try Self.plant(Self.forged, in: fixture.auditDirectory)
        let report = try await fixture.access.complianceReport()
        #expect(!report.auditLogValid)
        #expect(!report.models.contains { $0.access.contains { $0.principal == "mallory" } })
    }

    @Test func tailAndExportNeverShowThem() async throws {
        let fixture = try await AccessReportTests.populated()
        try Self.plant(Self.forged, in: fixture.auditDirectory)
        let tail = try? await fixture.admin.auditTail(100)
        #expect(!(tail ?? []).contains { $0.entry.principal == "mallory" })
        for format in AuditExportFormat.allCases {
            let export = try? await fixture.admin.auditExport(format)
            #expect(!String(decoding: export ?? Data(), as: UTF8.self).contains("mallory"))
            let served = try? await fixture.access.exportAuditLog(format)
            #expect(!String(decoding: served ?? Data(), as: UTF8.self).contains("mallory"))
        }
    }

    @Test func anUntouchedLogIsCountedInFull() async throws {
        let fixture = try await AccessReportTests.populated()
        let (officer, _) = try await fixture.session("carol", RoleBinding(role: .complianceOfficer))
        let report = try await officer.complianceReport()
        #expect(report.auditLogValid)
        let records = try AuditLogReader(directory: fixture.auditDirectory).records()
        // Every entry up to the report's own checkpoint (the report's audit entry is appended after it).
        #expect(report.auditEntries >= records.count - 2 && report.auditEntries <= records.count)
        let fraud = try #require(report.models.first { $0.reference == "fraud@1" })
        #expect(fraud.access.contains { $0.principal == "eve" && $0.count == 2 })
    }
}
