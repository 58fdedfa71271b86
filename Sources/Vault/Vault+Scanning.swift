import BlockingWork
import Foundation
import GRDB
public import ModelScan

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Vault {
    /// The manifest extension key that holds a ``ModelScanRecord``.
    static let scanExtensionKey = "scan"

    /// Scans every file of a push before anything is staged and refuses the push when a finding at or above the
    /// policy's threshold is not accepted. Files on disk are read in bounded chunks; nothing in them is executed.
    ///
    /// - Returns: the record to store in the version's signed manifest.
    nonisolated static func scan(
        _ sources: [(path: String, source: FileSource)], options: ModelScanOptions, principal: String,
        refusing: Bool = true
    ) throws -> ModelScanRecord {
        let scanner = ModelScanner()
        var files: [ModelScanRecord.File] = []
        for (path, source) in sources {
            let report: ScanReport
            switch source {
            case .memory(let data):
                report = scanner.scan(bytes: [UInt8](data), name: path)
            case .file(let url):
                do {
                    report = try scanner.scan(path: url.path(percentEncoded: false))
                } catch {
                    throw VaultError(.unreadableInput, "the model scanner cannot read \(path)")
                }
            case .opened(let file):
                do {
                    report = try scanner.scan(fileDescriptor: file.descriptor, name: path)
                } catch {
                    throw VaultError(.unreadableInput, "the model scanner cannot read \(path)")
                }
            }
            files.append(scanned(report, as: path))
        }
        return try admit(files, options: options, principal: principal, refusing: refusing)
    }

    /// Re-scans a stored version in memory: its files are decrypted and checked against the signed manifest
    /// first, never written to disk. The record is returned whatever it finds (see ``ModelScanRecord/refused``).
    public func rescanModel(
        _ reference: ModelReference, policy: ScanPolicy = .default, context: RequestContext = .local
    ) async throws -> ModelScanRecord {
        let plaintext = try await loadModel(reference)
        let sources: [(path: String, source: FileSource)] = plaintext.keys.sorted().map {
            ($0, .memory(plaintext[$0]!))
        }
        return try await BlockingExecutor.shared.run {
            try Self.scan(
                sources, options: ModelScanOptions(policy: policy), principal: context.principal, refusing: false)
        }
    }

    /// Stores `record` in the signed manifest of a version that has none (stored before the scanner existed):
    /// the manifest is rewritten with the record, signed with the current vault key and its digest updated in
    /// the catalog, all under the catalog's write lock. A version that already has a record keeps it.
    ///
    /// - Returns: whether the record was stored.
    @discardableResult
    public func storeScanRecord(_ record: ModelScanRecord, for reference: ModelReference) throws -> Bool {
        let checked = try checkedVersion(reference)
        guard try Self.scanRecord(in: checked.manifest) == nil else { return false }
        var manifest = checked.manifest
        manifest.extensions = (manifest.extensions ?? [:]).merging([
            Self.scanExtensionKey: try Self.extensionValue(record)
        ]) { $1 }
        let bytes = try manifest.encoded()
        let label = "\(checked.row.name)@\(checked.row.version)"
        let bundle = try signer.sign(
            manifest.signedEntries(manifestBytes: bytes), modelName: label, privateKeyPEM: keyRing.signingKey)
        let fingerprint = Self.fingerprint(ofPEM: keyRing.signingPublicKey)
        let manifestURL = checked.directory.appending(path: VersionManifest.fileName)
        let signatureURL = checked.directory.appending(path: VersionManifest.signatureFileName)
        let previous = (
            manifest: try Data(contentsOf: manifestURL), signature: try Data(contentsOf: signatureURL)
        )
        var written = false
        do {
            try catalog.write { db in
                // Checked again under the write lock: nobody replaced the manifest since it was verified.
                let current = try ModelVersionRow.manifestDigest(ofVersion: checked.row.id, db)
                guard current == checked.row.manifestSHA256 else {
                    throw VaultError(.tampered, "the manifest of \(label) changed while it was scanned")
                }
                written = true
                try VaultFiles.writeAtomically(bytes, to: manifestURL)
                try VaultFiles.writeAtomically(bundle, to: signatureURL)
                try ModelVersionRow.setManifest(
                    ofVersion: checked.row.id, sha256: FileDigest(of: bytes).hex, signer: fingerprint, db)
            }
        } catch {
            // The transaction rolled back: put the files it matched back.
            if written {
                try? VaultFiles.writeAtomically(previous.manifest, to: manifestURL)
                try? VaultFiles.writeAtomically(previous.signature, to: signatureURL)
            }
            throw error
        }
        return true
    }

    /// Every stored version as `NAME@VERSION` references, oldest first per model.
    public func allModelVersions() throws -> [ModelReference] {
        try models().flatMap { summary in
            try summary.versions.map { try ModelReference(name: summary.name, selector: .version($0)) }
        }
    }

    /// ``scan(_:options:principal:)`` on the blocking pool: a large file's scan blocks on reads.
    nonisolated static func scanOffPool(
        _ sources: [(path: String, source: FileSource)], options: ModelScanOptions, principal: String
    ) async throws -> ModelScanRecord {
        try await BlockingExecutor.shared.run { try scan(sources, options: options, principal: principal) }
    }

    /// What identifies a file's contents without reading them: device, inode, size and change time. The
    /// change time is set by the kernel on every write or rename and cannot be set back without root.
    struct FileIdentity: Equatable, Sendable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var changeSeconds: Int
        var changeNanoseconds: Int
    }

    /// The identities of `sources`' files on disk (memory sources have none), taken before the scan.
    nonisolated static func identities(_ sources: [(path: String, source: FileSource)]) -> [String: FileIdentity] {
        var result: [String: FileIdentity] = [:]
        for (path, source) in sources {
            var info = stat()
            switch source {
            case .memory: continue
            case .file(let url): guard lstat(url.path(percentEncoded: false), &info) == 0 else { continue }
            // The file opened once: only a write into it (which moves its change time) can alter what is read.
            case .opened(let file): guard fstat(file.descriptor, &info) == 0 else { continue }
            }
            #if canImport(Darwin)
            let changed = info.st_ctimespec
            #else
            let changed = info.st_ctim
            #endif
            result[path] = FileIdentity(
                device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                changeSeconds: Int(changed.tv_sec), changeNanoseconds: Int(changed.tv_nsec))
        }
        return result
    }

    /// Refuses a push whose files changed between the scan and the end of staging: what was encrypted must be
    /// what was scanned.
    nonisolated static func requireUnchanged(
        _ sources: [(path: String, source: FileSource)], since before: [String: FileIdentity]
    ) throws {
        let after = identities(sources)
        for (path, identity) in before where after[path] != identity {
            throw VaultError(.unreadableInput, "\(path) changed while it was scanned and encrypted; push again")
        }
    }

    /// The record for `files`, or ``VaultError/Code/scanRefused`` naming every unaccepted finding at or above
    /// the threshold. Accepted entries that match no such finding are not recorded.
    nonisolated static func admit(
        _ files: [ModelScanRecord.File], options: ModelScanOptions, principal: String, refusing: Bool
    ) throws -> ModelScanRecord {
        var record = ModelScanRecord(
            scanner: ModelScanRecord.currentScanner, policy: options.policy, scannedAt: CatalogTime.now(),
            scannedBy: principal, files: files, accepted: [])
        let refused = record.refused
        record.accepted = refused.filter { qualified in
            options.accept.contains(qualified)
                || options.accept.contains(String(qualified[qualified.index(after: qualified.firstIndex(of: "#")!)...]))
        }
        let remaining = record.refused
        guard remaining.isEmpty || !refusing else {
            let shown = remaining.prefix(10).joined(separator: ", ")
            let more = remaining.count > 10 ? " and \(remaining.count - 10) more" : ""
            var error = VaultError(
                .scanRefused, "refused by the model scanner (\(options.policy.rawValue) policy): \(shown)\(more)")
            error.refusedFindings = remaining
            throw error
        }
        return record
    }

    /// A report relabelled with the file's path inside the version (never the pusher's local path).
    private nonisolated static func scanned(_ report: ScanReport, as path: String) -> ModelScanRecord.File {
        ModelScanRecord.File(
            path: path, formats: report.formats,
            findings: report.findings.map {
                Finding(
                    rule: $0.rule, severity: $0.severity, file: path, member: $0.member, offset: $0.offset,
                    subject: $0.subject, message: $0.message)
            })
    }

    /// The scan record in a version's signed manifest, or nil for a version stored before the scanner existed.
    /// The manifest is checked against the vault key and the catalog first, so an altered record is refused.
    public func scanRecord(_ reference: ModelReference) throws -> ModelScanRecord? {
        try Self.scanRecord(in: checkedVersion(reference).manifest)
    }

    static func scanRecord(in manifest: VersionManifest) throws -> ModelScanRecord? {
        guard let value = manifest.extensions?[scanExtensionKey] else { return nil }
        do {
            return try JSONDecoder().decode(ModelScanRecord.self, from: JSONEncoder().encode(value))
        } catch {
            throw VaultError(.tampered, "the scan record of \(manifest.model)@\(manifest.version) is malformed")
        }
    }

    static func extensionValue(_ record: ModelScanRecord) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(record))
    }
}
