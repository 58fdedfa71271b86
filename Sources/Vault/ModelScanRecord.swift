public import ModelScan

/// The scanner's verdict on a model version, stored under the `scan` key of the version's signed manifest
/// (``VersionManifest/extensions``): whoever alters it breaks the manifest's signature and the catalog's digest.
public struct ModelScanRecord: Sendable, Codable, Equatable {
    /// One scanned file and what was found in it.
    public struct File: Sendable, Codable, Equatable {
        /// The file's path inside the version.
        public var path: String
        /// The formats recognised, outermost first.
        public var formats: [String]
        /// Every finding, refused or not (the file name inside each is the version path).
        public var findings: [Finding]
    }

    /// The scanner that produced the record (bumped when rules change, so `model scan --all` can tell).
    public var scanner: String
    /// The policy the version was admitted under.
    public var policy: ScanPolicy
    /// When the scan ran (ISO 8601).
    public var scannedAt: String
    /// Who the scan ran for.
    public var scannedBy: String
    /// Every file of the version, by path.
    public var files: [File]
    /// Findings at or above the threshold that an administrator or security engineer accepted (`FILE#ID`).
    public var accepted: [String]

    /// The scanner name and rule-set version recorded in new records.
    public static let currentScanner = "ModelScan/1"

    /// Every finding, qualified by file, at or above `policy`'s threshold and not accepted.
    public var refused: [String] {
        files.flatMap { file in
            file.findings.filter(policy.refuses).map { "\(file.path)#\($0.id)" }
        }.filter { !accepted.contains($0) }
    }

    /// The most severe finding in any file, or nil when nothing was found.
    public var highestSeverity: Severity? { files.flatMap(\.findings).map(\.severity).max() }

    /// A one-line summary for `model show`.
    public var summary: String {
        let count = files.reduce(0) { $0 + $1.findings.count }
        let worst = highestSeverity.map { ", worst \($0.rawValue)" } ?? ""
        let acceptedText = accepted.isEmpty ? "" : ", \(accepted.count) accepted"
        return "\(scanner) \(policy.rawValue) policy at \(scannedAt): \(count) finding(s)\(worst)\(acceptedText)"
    }
}

/// How a push is scanned: the policy and the findings the caller accepts.
public struct ModelScanOptions: Sendable, Equatable {
    /// Refuse findings at or above this policy's threshold.
    public var policy: ScanPolicy
    /// Findings to admit anyway, each as `FILE#FINDING-ID` or a bare `FINDING-ID` (any file). Only admins and
    /// security engineers (`model.scan`) may pass any; each use is audited.
    public var accept: [String]

    /// Options with `policy` and accepted findings.
    public init(policy: ScanPolicy = .default, accept: [String] = []) {
        self.policy = policy
        self.accept = accept
    }

    /// The default policy, nothing accepted.
    public static let standard = ModelScanOptions()
}
