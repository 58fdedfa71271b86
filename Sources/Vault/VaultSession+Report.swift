import AccessControl
import AuditLog
import Foundation
import GRDB

extension VaultSession {
    /// Keys older than this are flagged.
    static let keyAgeLimit: TimeInterval = 90 * 86_400

    /// `report.read`: the compliance report (metadata, signature checks without decrypting, audit counts).
    public func complianceReport() async throws -> ComplianceReport {
        try await perform(.reportRead, on: .global, resource: "report") {
            try await makeReport()
        }
    }

    func makeReport() async throws -> ComplianceReport {
        let keys = try await vault.keyVersions()
        let current = keys.last { $0.state == "active" }?.version ?? keys.last?.version ?? 1
        let encryption = vault.isPostQuantum ? "age v1, mlkem768x25519 (hybrid)" : "age v1, X25519"
        // The flag comes from the writer's verification of the whole log; the counts from one read of it in which every
        // record is bound to the audit key (the writer's signed root, or a seal after it), so a record planted while the
        // verifier ran fails the report too. A log it cannot open or verify gives no counts and a high finding, never an
        // unchecked count.
        var auditProblem: String?
        var entries: [(index: UInt64, entry: AuditEntry)] = []
        if let log = access.log {
            do {
                let verification = try await log.verify()
                if !verification.isValid {
                    auditProblem =
                        "the audit log does not verify (first bad index: "
                        + "\(verification.firstBadIndex.map(String.init) ?? "unknown"))"
                } else {
                    entries = try await log.checkedRecords().map { ($0.index, try $0.entry()) }
                }
            } catch {
                auditProblem = "the audit log does not verify: \(error)"
                entries = []
            }
        } else {
            auditProblem = "the audit log cannot be opened: \(access.damage ?? "damaged")"
        }

        // Access counts per resource, and denials per model/dataset name.
        var counts: [String: [String: Int]] = [:]  // resource -> "principal\taction\toutcome" -> n
        var deniedByName: [String: Int] = [:]
        for (_, entry) in entries {
            counts[entry.resource, default: [:]][
                "\(entry.principal)\t\(entry.action)\t\(entry.outcome.rawValue)", default: 0] += 1
            if entry.outcome == .denied {
                deniedByName[Self.baseName(entry.resource), default: 0] += 1
            }
        }
        func accessCounts(_ resource: String) -> [ComplianceReport.AccessCount] {
            (counts[resource] ?? [:]).map { key, count in
                let parts = key.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                return .init(principal: parts[0], action: parts[1], outcome: parts[2], count: count)
            }.sorted { ($0.principal, $0.action, $0.outcome) < ($1.principal, $1.action, $1.outcome) }
        }

        var datasetRows: [ComplianceReport.DatasetVersion] = []
        for summary in try await vault.datasets() {
            for version in 1...max(1, summary.latestVersion) {
                guard let info = try? await vault.dataset(DatasetReference(name: summary.name, version: version))
                else { continue }
                datasetRows.append(
                    .init(
                        reference: info.reference, processed: info.processed, createdBy: info.createdBy,
                        createdAt: info.createdAt, encryption: encryption,
                        keyVersions: Array(Set(info.files.map(\.keyVersion))).sorted(), fileCount: info.files.count,
                        access: accessCounts("dataset:\(info.reference)"),
                        deniedAttempts: deniedByName["dataset:\(info.name)"] ?? 0))
            }
        }

        let verifications = try vault.catalog.read { db in try AccessCatalog.verifications(db) }
        var lastVerification: [String: ComplianceReport.Verification] = [:]
        for row in verifications {
            lastVerification["\(row.model)@\(row.version)"] = .init(at: row.verifiedAt, ok: row.ok, by: row.verifiedBy)
        }

        var modelRows: [ComplianceReport.ModelVersion] = []
        for summary in try await vault.models() {
            for info in try await vault.modelVersions(summary.name) {
                let reference = try ModelReference(name: info.name, selector: .version(info.version))
                let status = await vault.signatureStatus(reference)
                // A manifest that does not check already shows in the signature column.
                let scan = try? await vault.scanRecord(reference)
                modelRows.append(
                    .init(
                        reference: info.reference, createdBy: info.createdBy, createdAt: info.createdAt,
                        encryption: encryption, keyVersions: Array(Set(info.files.map(\.keyVersion))).sorted(),
                        signer: info.signer, publisher: info.publisher, signatureStatus: status,
                        lastVerification: lastVerification[info.reference], aliases: info.aliases,
                        access: accessCounts("model:\(info.reference)"),
                        deniedAttempts: deniedByName["model:\(info.name)"] ?? 0, scan: scan?.summary,
                        acceptedFindings: scan?.accepted ?? []))
            }
        }

        let principals = try vault.catalog.read { db in try AccessCatalog.principals(db) }
        let tokens = try vault.catalog.read { db in try AccessCatalog.tokens(db) }
        var findings: [ComplianceReport.Finding] = []
        if let auditProblem {
            findings.append(.init(severity: "high", kind: "audit-log", subject: "audit", message: auditProblem))
        }
        for model in modelRows {
            if model.signatureStatus != "valid" {
                findings.append(
                    .init(
                        severity: "high", kind: "unsigned-version", subject: "model:\(model.reference)",
                        message: "signature or manifest does not check: \(model.signatureStatus)"))
            }
            if model.signatureStatus == "valid", model.scan == nil {
                findings.append(
                    .init(
                        severity: "medium", kind: "unscanned-version", subject: "model:\(model.reference)",
                        message: "stored before the model scanner existed; run `modelvault model scan --all`"))
            }
            for accepted in model.acceptedFindings {
                findings.append(
                    .init(
                        severity: "low", kind: "accepted-scan-finding", subject: "model:\(model.reference)",
                        message: "scanner finding accepted on push: \(accepted)"))
            }
            if model.lastVerification?.ok != true {
                findings.append(
                    .init(
                        severity: "medium", kind: "unverified-version", subject: "model:\(model.reference)",
                        message: model.lastVerification == nil
                            ? "never verified since it was pushed" : "its last verification failed"))
            }
            if model.keyVersions.contains(where: { $0 < current }) {
                findings.append(
                    .init(
                        severity: "medium", kind: "old-key-version", subject: "model:\(model.reference)",
                        message: "files still wrapped for an old key version (run `modelvault keys rotate`)"))
            }
        }
        for dataset in datasetRows where dataset.keyVersions.contains(where: { $0 < current }) {
            findings.append(
                .init(
                    severity: "medium", kind: "old-key-version", subject: "dataset:\(dataset.reference)",
                    message: "files still wrapped for an old key version (run `modelvault keys rotate`)"))
        }
        for token in tokens where token.state == "active" && token.expiresAt == nil {
            findings.append(
                .init(
                    severity: "medium", kind: "token-without-expiry", subject: "token:\(token.id)",
                    message: "token of \(token.principal) never expires"))
        }
        for key in keys where key.state != "retired" {
            if let created = AccessTime.parse(key.createdAt), Date().timeIntervalSince(created) > Self.keyAgeLimit {
                findings.append(
                    .init(
                        severity: "medium", kind: "old-key", subject: "key:v\(key.version)",
                        message: "vault key version \(key.version) is older than 90 days"))
            }
        }
        for principal in principals where principal.bindings.contains(where: { $0.role == .admin }) {
            findings.append(
                .init(
                    severity: "info", kind: "admin-principal", subject: "principal:\(principal.name)",
                    message:
                        "holds admin (\(principal.bindings.filter { $0.role == .admin }.map(\.description).joined(separator: ", ")))"
                ))
        }
        let order = ["high": 0, "medium": 1, "info": 2]
        findings.sort {
            (order[$0.severity] ?? 3, $0.kind, $0.subject) < (order[$1.severity] ?? 3, $1.kind, $1.subject)
        }

        return ComplianceReport(
            vault: root.path(percentEncoded: false), generatedAt: AccessTime.format(Date()),
            generatedBy: caller.principal, currentKeyVersion: current, keys: keys, datasets: datasetRows,
            models: modelRows, principals: principals, tokens: tokens, auditEntries: entries.count,
            deniedAttempts: entries.filter { $0.entry.outcome == .denied }.count,
            auditLogValid: auditProblem == nil, findings: findings)
    }

    /// `model:NAME@3` or `model:NAME:alias` -> `model:NAME`.
    static func baseName(_ resource: String) -> String {
        guard let colon = resource.firstIndex(of: ":") else { return resource }
        let rest = resource[resource.index(after: colon)...]
        let end = rest.firstIndex { $0 == "@" || $0 == ":" } ?? rest.endIndex
        return String(resource[..<colon]) + ":" + rest[..<end]
    }
}

extension Vault {
    /// `valid`, or why a version's signature, manifest or catalog entry does not check (nothing is decrypted).
    func signatureStatus(_ reference: ModelReference) -> String {
        do {
            _ = try checkedVersion(reference)
            return "valid"
        } catch {
            return String(describing: error)
        }
    }
}
