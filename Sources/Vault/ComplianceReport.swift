public import Foundation

/// A compliance report of a vault: what is stored, how it is protected, who accessed it, and what needs attention.
public struct ComplianceReport: Sendable, Codable, Equatable {
    /// How often one principal performed one action on a resource with one outcome.
    public struct AccessCount: Sendable, Codable, Equatable {
        /// The principal.
        public var principal: String
        /// The action (`model.pull`, ...).
        public var action: String
        /// `allowed`, `denied` or `failed`.
        public var outcome: String
        /// How many audit entries.
        public var count: Int
    }

    /// The last recorded verification of a model version.
    public struct Verification: Sendable, Codable, Equatable {
        /// When (ISO 8601).
        public var at: String
        /// Whether it passed.
        public var ok: Bool
        /// Who ran it.
        public var by: String
    }

    /// One dataset version.
    public struct DatasetVersion: Sendable, Codable, Equatable {
        /// `NAME@VERSION`.
        public var reference: String
        /// Raw or processed.
        public var processed: Bool
        /// Who added it and when.
        public var createdBy: String
        /// When it was added.
        public var createdAt: String
        /// Encryption scheme.
        public var encryption: String
        /// Key versions its files are wrapped for.
        public var keyVersions: [Int]
        /// Number of files.
        public var fileCount: Int
        /// Audited accesses to this version.
        public var access: [AccessCount]
        /// Denied attempts on this dataset (any version).
        public var deniedAttempts: Int
    }

    /// One model version.
    public struct ModelVersion: Sendable, Codable, Equatable {
        /// `NAME@VERSION`.
        public var reference: String
        /// Who pushed it and when.
        public var createdBy: String
        /// When it was pushed.
        public var createdAt: String
        /// Encryption scheme.
        public var encryption: String
        /// Key versions its files are wrapped for.
        public var keyVersions: [Int]
        /// The vault signer's fingerprint.
        public var signer: String
        /// The publisher's key fingerprint, if a publisher signature was checked at push.
        public var publisher: String?
        /// `valid`, or what is wrong with the signature or manifest.
        public var signatureStatus: String
        /// The last recorded verification, if any.
        public var lastVerification: Verification?
        /// Aliases pointing at it.
        public var aliases: [String]
        /// Audited accesses to this version.
        public var access: [AccessCount]
        /// Denied attempts on this model (any version).
        public var deniedAttempts: Int
        /// The model scanner's record from the signed manifest (summary), or nil: never scanned.
        public var scan: String? = nil
        /// Findings admitted with `--accept` (`FILE#FINDING-ID`).
        public var acceptedFindings: [String] = []
    }

    /// Something that needs attention.
    public struct Finding: Sendable, Codable, Equatable {
        /// `high`, `medium` or `info`.
        public var severity: String
        /// A stable kind: `unsigned-version`, `unverified-version`, `old-key-version`, `token-without-expiry`,
        /// `old-key`, `admin-principal`, `audit-log`.
        public var kind: String
        /// What it concerns.
        public var subject: String
        /// A sentence.
        public var message: String
    }

    /// The vault directory.
    public var vault: String
    /// When the report was made (ISO 8601).
    public var generatedAt: String
    /// Who asked for it.
    public var generatedBy: String
    /// The active key version.
    public var currentKeyVersion: Int
    /// Every key version.
    public var keys: [KeyVersionInfo]
    /// Every dataset version.
    public var datasets: [DatasetVersion]
    /// Every model version.
    public var models: [ModelVersion]
    /// Every principal and its bindings.
    public var principals: [Principal]
    /// Every token (ids and states only).
    public var tokens: [TokenInfo]
    /// Audit entries in the log.
    public var auditEntries: Int
    /// Denied attempts in the whole log.
    public var deniedAttempts: Int
    /// Whether the audit log verified.
    public var auditLogValid: Bool
    /// Findings, most severe first.
    public var findings: [Finding]
}
