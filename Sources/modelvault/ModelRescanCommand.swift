import ArgumentParser
import Foundation
import ModelScan
import Vault

/// `modelvault model scan NAME@V | --all`: the `model.scan` action on stored versions.
struct ModelRescan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Re-scan a stored model version in memory, or record a scan for every version that has none.",
        discussion: """
            NAME@V (or NAME, NAME:ALIAS) is decrypted and verified in memory, scanned and the findings printed; the \
            stored record is left as it is. --all scans every version stored before the scanner existed and stores \
            the record in its signed manifest (re-signed with the current vault key); serving refuses versions \
            without a record, or whose record holds a refused finding. Needs the model.scan permission (admins \
            and security engineers).

            Exit codes: 0 nothing at or above the policy's threshold; 7 findings at or above it; 3 denied; \
            4 not found; 6 a version does not verify.
            """)

    @OptionGroup var options: VaultOptions
    @Argument(help: "NAME, NAME@VERSION or NAME:ALIAS.") var reference: String?
    @Flag(name: .long, help: "Scan every version that has no scan record and store one.") var all = false
    @Option(help: "default: refuse high and critical; strict: refuse medium and above.")
    var policy: String = ScanPolicy.default.rawValue
    @Flag(name: .long, help: "Print JSON.") var json = false

    func validate() throws {
        if all == (reference != nil) { throw ValidationError("give NAME@VERSION or --all, not both") }
        if ScanPolicy(rawValue: policy) == nil { throw ValidationError("--policy must be default or strict") }
    }

    func run() async throws {
        let policy = ScanPolicy(rawValue: self.policy) ?? .default
        let session = try await options.open()
        var results: [(reference: String, record: ModelScanRecord)] = []
        if let reference {
            let parsed = try ModelReference(parsing: reference)
            results = [(reference, try await session.scanModel(parsed, policy: policy))]
        } else {
            results = try await session.scanUnscannedModels(policy: policy)
        }
        if json {
            try printJSON(
                Dictionary(results.map { ($0.reference, $0.record) }, uniquingKeysWith: { first, _ in first }))
        } else {
            if all && results.isEmpty { print("every version already has a scan record") }
            for (reference, record) in results {
                print("\(reference): \(record.summary)")
                for file in record.files {
                    for finding in file.findings {
                        let mark = policy.refuses(finding) ? "REFUSED" : "reported"
                        print("  \(mark) \(finding.severity.rawValue) \(file.path)#\(finding.id): \(finding.subject)")
                    }
                }
            }
        }
        if results.contains(where: { !$0.record.refused.isEmpty }) {
            throw ExitCode(ExitStatus.findings.rawValue)
        }
    }
}
