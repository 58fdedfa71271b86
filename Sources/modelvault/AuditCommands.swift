import AccessControl
import ArgumentParser
import AuditLog
import BlockingWork
import Foundation
import Vault
import VaultCrypto
import VaultServer

/// `modelvault audit`: the tamper-evident log of every access.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The audit log: verify, prove, verify-proof, export, tail.",
        subcommands: [
            AuditVerify.self, AuditCheckpointExport.self, AuditProve.self, AuditVerifyProof.self, AuditExport.self,
            AuditTail.self, AuditWitness.self,
        ])
}

/// `modelvault audit verify`.
struct AuditVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute the Merkle tree, check every checkpoint's signature and consistency; exit 6 on damage.",
        discussion: """
            Examples:
              modelvault audit verify
              modelvault audit verify --json --trusted checkpoint.txt
            """)

    @OptionGroup var options: VaultOptions
    @Option(
        name: .long,
        help: "A checkpoint exported earlier (`audit checkpoint -o`): the log must extend it (no rollback or fork).")
    var trusted: [String] = []
    @Option(
        name: .customLong("max-cosignature-age"),
        help: "Fail when the newest witness cosignature is older than this many seconds (or there is none).")
    var maxCosignatureAge: Double?

    @Flag(name: .long, help: "Print the result as JSON (still exits 6 when the log does not verify).") var json = false

    /// `--json`'s shape.
    struct Output: Encodable {
        var valid: Bool
        var entries: Int
        var checkpoints: Int
        var root: String
        var latestCheckpointSize: Int?
        var entriesAfterLatestCheckpoint: Int
        var unfinishedTail: Bool
        var consistentWithTrustedSizes: [Int]
        var problemCount: Int
        var problems: [String]
        var firstBadIndex: Int?
        /// SHA-256 of the vault's audit verifier key as the unlocked vault holds it: what `audit verify-proof
        /// --key-fingerprint` pins.
        var auditKeyFingerprint: String? = nil
    }

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        let session = try await options.open()
        let notes = try trusted.map { path in
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CLIError("cannot read the trusted checkpoint file \(path)")
            }
            return String(decoding: data, as: UTF8.self)
        }
        let report = try await session.verifyAuditLog(trustedNotes: notes, maxCosignatureAge: maxCosignatureAge)
        try present(
            Output(
                valid: report.isValid, entries: Int(report.entryCount), checkpoints: Int(report.checkpointCount),
                root: report.recomputedRoot.base64, latestCheckpointSize: report.latestCheckpoint.map { Int($0.size) },
                entriesAfterLatestCheckpoint: Int(report.uncheckpointedEntries),
                unfinishedTail: report.hasUnfinishedTail,
                consistentWithTrustedSizes: report.trustedVerified.map { Int($0.size) },
                problemCount: Int(report.problemCount), problems: report.problems.map { "\($0)" },
                firstBadIndex: report.firstBadIndex.map { Int($0) },
                auditKeyFingerprint: session.auditVerifier.fingerprint),
            newestCosignature: report.newestCosignature)
    }

    /// Prints a verification's result, local or from the server; exit 6 when the log does not verify.
    func present(_ report: Output, newestCosignature: Date?) throws {
        if json {
            try printJSON(report)
            guard report.valid else {
                throw CLIError("audit log verification failed: \(report.problemCount) problem(s)", status: .integrity)
            }
            return
        }
        print("entries: \(report.entries), checkpoints: \(report.checkpoints)")
        print("root: \(report.root)")
        if let latest = report.latestCheckpointSize { print("latest checkpoint: size \(latest)") }
        if report.entriesAfterLatestCheckpoint > 0 {
            print("entries after the latest checkpoint: \(report.entriesAfterLatestCheckpoint)")
        }
        if report.unfinishedTail { print("an unfinished record (interrupted append) follows the last entry") }
        if let fingerprint = report.auditKeyFingerprint { print("audit key fingerprint: \(fingerprint)") }
        for size in report.consistentWithTrustedSizes {
            print("consistent with the trusted checkpoint of size \(size)")
        }
        if let cosigned = newestCosignature {
            print("newest witness cosignature: \(Int(Date().timeIntervalSince(cosigned))) s old")
        }
        guard report.valid else {
            for problem in Self.summarize(report.problems) { print("problem: \(problem)") }
            let first = report.firstBadIndex.map { "first bad index \($0)" } ?? "first bad index unknown"
            throw CLIError(
                "audit log verification failed: \(report.problemCount) problem(s), \(first)", status: .integrity)
        }
        print("audit log verified")
    }

    /// The problems, each said once: one modified entry makes every later checkpoint's root differ, which is one
    /// consequence, not dozens of findings. Problems that differ only by their checkpoint are merged into one line
    /// naming how many checkpoints and which.
    static func summarize(_ problems: [String]) -> [String] {
        var order: [String] = []
        var checkpoints: [String: [String]] = [:]
        for problem in problems {
            var text = problem
            var position: String?
            if let range = problem.range(of: " (checkpoint #", options: .backwards), problem.hasSuffix(")") {
                text = String(problem[..<range.lowerBound])
                position = String(problem[range.upperBound...].dropLast())
            }
            if checkpoints[text] == nil { order.append(text) }
            checkpoints[text, default: []] += position.map { [$0] } ?? []
        }
        return order.map { text in
            let positions = checkpoints[text] ?? []
            switch positions.count {
            case 0: return text
            case 1: return "\(text) (checkpoint #\(positions[0]))"
            default: return "\(text) (\(positions.count) checkpoints, #\(positions[0]) to #\(positions.last ?? ""))"
            }
        }
    }
}

/// `modelvault audit checkpoint -o FILE`.
struct AuditCheckpointExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Sign a checkpoint over every entry and write it (a signed note) for `audit verify --trusted`.")

    @OptionGroup var options: VaultOptions
    @Option(name: .shortAndLong, help: "The file to write.") var output: String
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        let signed = try await options.open().exportAuditCheckpoint()
        let url = URL(filePath: output, relativeTo: .currentDirectory()).absoluteURL
        do {
            try AtomicFile.write(Data(signed.note.utf8), to: url, permissions: 0o644)
        } catch {
            throw CLIError("cannot write \(url.lastPathComponent)")
        }
        if json {
            struct Output: Encodable { var output: String, size: Int }
            return try printJSON(Output(output: output, size: Int(signed.checkpoint.size)))
        }
        print("checkpoint of size \(signed.checkpoint.size) written to \(output)")
    }
}

/// `modelvault audit prove INDEX`.
struct AuditProve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove", abstract: "Print an inclusion proof (JSON) of one entry against a signed checkpoint.")

    @OptionGroup var options: VaultOptions
    @Argument(help: "The entry index.") var index: UInt64

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        try printJSON(try await options.open().auditProof(index: index))
    }
}

/// `modelvault audit verify-proof FILE`: offline, with the vault's public verifier key.
struct AuditVerifyProof: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-proof",
        abstract: "Check an inclusion proof offline with the vault's audit verifier key (no token or passphrase).",
        discussion: """
            The key must come from somewhere an attacker who can write the vault directory cannot reach: a copy of \
            audit/verifier.vkey kept elsewhere (--verifier-key), or the vault's own file pinned by the fingerprint \
            `modelvault init` and `modelvault audit verify` print (--key-fingerprint). A key read from the vault \
            directory with no pin is refused: whoever replaced it could sign any proof.

            Examples:
              modelvault audit verify-proof entry-42.proof --verifier-key verifier.vkey
              modelvault audit verify-proof entry-42.proof --key-fingerprint 3f9a…
            """)

    @Option(
        name: .customLong("vault"),
        help:
            "The vault whose audit/verifier.vkey to read (default: $MODELVAULT_VAULT, else ./vault); needs --key-fingerprint."
    )
    var vaultPath: String?
    @Option(
        name: .customLong("verifier-key"),
        help: "A verifier key file (<origin>+<id>+<key>) kept outside the vault, instead of the vault's.")
    var verifierKey: String?
    @Option(
        name: .customLong("key-fingerprint"),
        help: "The SHA-256 fingerprint (hex) the key must have, as `modelvault init` and `audit verify` print it.")
    var keyFingerprint: String?
    @Argument(help: "The proof file (JSON from `audit prove`).") var file: String
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        let verifier: NoteVerifier
        if let verifierKey {
            verifier = try AuditVerifierKey.read(file: URL(filePath: verifierKey, relativeTo: .currentDirectory()))
        } else {
            guard keyFingerprint != nil else {
                throw CLIError(
                    "the vault's audit/verifier.vkey is not trusted on its own (anyone who can write the vault directory "
                        + "can replace it): pass --verifier-key FILE kept outside the vault, or --key-fingerprint as "
                        + "`modelvault init` or `modelvault audit verify` printed it", status: .usage)
            }
            let path = vaultPath ?? ProcessInfo.processInfo.environment["MODELVAULT_VAULT"] ?? "vault"
            verifier = try AuditVerifierKey.read(vaultAt: URL(filePath: path, relativeTo: .currentDirectory()))
        }
        if let keyFingerprint {
            let expected = keyFingerprint.lowercased().filter { $0 != ":" }
            guard expected.count == 64, Data(verifier.fingerprint.utf8) == Data(expected.utf8) else {
                throw CLIError(
                    "the audit verifier key does not have the fingerprint given with --key-fingerprint",
                    status: .integrity)
            }
        }
        guard let data = FileManager.default.contents(atPath: file),
            let proof = try? JSONDecoder().decode(InclusionProof.self, from: data)
        else { throw CLIError("cannot read the proof file \(file)") }
        let entry = try proof.verify(with: verifier)
        if json {
            struct Output: Encodable { var verified: Bool, treeSize: Int, signer: String, entry: AuditTail.Output }
            return try printJSON(
                Output(
                    verified: true, treeSize: Int(proof.treeSize), signer: verifier.name,
                    entry: AuditTail.Output(
                        index: Int(proof.index), time: AuditTail.format(entry.time), principal: entry.principal,
                        action: entry.action, resource: entry.resource, outcome: entry.outcome.rawValue,
                        requestID: "\(entry.requestID)", detail: entry.detail)))
        }
        print("proof verified: entry \(proof.index) of a tree of \(proof.treeSize) signed by \(verifier.name)")
        print(
            "\(AuditTail.format(entry.time))  \(entry.principal)  \(entry.action)  \(entry.resource)  "
                + "\(entry.outcome.rawValue)  request \(entry.requestID)")
    }
}

/// `modelvault audit export [--format jsonl|csv] [--since TIME]`.
struct AuditExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Export entries as JSON lines or CSV.")

    @OptionGroup var options: VaultOptions
    @Option(name: .long, help: "jsonl or csv.") var format: String = "jsonl"
    @Option(name: .long, help: "Only entries at or after TIME: ISO 8601 (2026-01-31T00:00:00Z) or an age (24h, 7d).")
    var since: String?

    func run() async throws {
        guard let format = AuditExportFormat(rawValue: format) else {
            throw ValidationError("--format must be jsonl or csv")
        }
        let start = try since.map(Self.parseTime)
        if try await options.whenRemote({ try await remote($0, format: format, since: start) }) { return }
        FileHandle.standardOutput.write(try await options.open().auditExport(format, since: start))
    }

    static func parseTime(_ text: String) throws -> Date {
        if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        if let age = try? TokenLifetime.parse(text) { return Date().addingTimeInterval(-age) }
        throw ValidationError("--since must be an ISO 8601 time or an age such as 24h or 7d")
    }
}

/// `modelvault audit tail [-n N]`.
struct AuditTail: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail", abstract: "Print the last entries.",
        discussion: """
            Examples:
              modelvault audit tail -n 50
              modelvault audit tail --json
              modelvault audit tail --principal sam --outcome denied
              modelvault audit tail --action model. --follow
            """)

    @OptionGroup var options: VaultOptions
    @Option(name: .customShort("n"), help: "How many entries (after filtering).") var count: Int = 20
    @Flag(name: .long, help: "Print a JSON array of the entries (JSON lines with --follow).") var json = false
    @Option(help: "Only entries of this principal.") var principal: String?
    @Option(help: "Only entries whose action starts with this (model.pull, or model. for every model action).")
    var action: String?
    @Option(help: "Only entries with this outcome: allowed, denied or failed.") var outcome: String?
    @Flag(
        name: .shortAndLong,
        help:
            "Keep printing entries as they are appended, until interrupted (polled once a second locally; remotely each poll waits on the server for new entries)."
    )
    var follow = false

    func validate() throws {
        guard count >= 0 else { throw ValidationError("-n must be 0 or more") }
        if let outcome, AuditEntry.Outcome(rawValue: outcome) == nil {
            throw ValidationError("--outcome must be allowed, denied or failed")
        }
    }

    /// Whether `entry` passes the filters given.
    func matches(_ entry: AuditEntry) -> Bool {
        (principal.map { entry.principal == $0 } ?? true) && (action.map { entry.action.hasPrefix($0) } ?? true)
            && (outcome.map { entry.outcome.rawValue == $0 } ?? true)
    }

    var isFiltered: Bool { principal != nil || action != nil || outcome != nil }

    /// One entry of `--json`.
    struct Output: Encodable {
        var index: Int
        var time: String
        var principal: String
        var action: String
        var resource: String
        var outcome: String
        var requestID: String
        var detail: String?
    }

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        let session = try await options.open()
        guard follow else {
            // As signed now (checked against the checkpoint's root), filtered or not.
            guard isFiltered else { return try show(try await session.auditTail(count)) }
            return try show(Array(try await session.auditTail(Int.max).filter { matches($0.entry) }.suffix(count)))
        }
        // Following reads through one authorised reader: one audited read, however long it runs. It shows records as
        // the file grows, before a checkpoint covers them (README: what the claims do not cover).
        let reader = try await session.auditReaderForFollowing()
        let all = try await Self.offPool { try reader.entries() }
        try show(Array(all.filter { matches($0.entry) }.suffix(count)))
        guard follow else { return }
        var last = all.last?.index
        while !Task.isCancelled {
            try await Task.sleep(for: .seconds(1))
            // The newest 10,000 are enough for a second's appends; a gap is said, never hidden.
            let recent = try await Self.offPool { try reader.tail(10_000) }
            let fresh = recent.filter { last == nil || $0.index > last! }
            if let first = fresh.first?.index, let last, first > last + 1 {
                progress("(\(first - last - 1) entries appended faster than they could be followed were skipped)")
            }
            try show(fresh.filter { matches($0.entry) })
            if let newest = fresh.last?.index { last = newest }
        }
    }

    /// Reads the log on the blocking pool: file I/O stays off the cooperative pool.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await BlockingExecutor.shared.run(body)
    }

    func show(_ entries: [(index: UInt64, entry: AuditEntry)]) throws {
        if json && follow {
            for (index, entry) in entries { try printJSONLine(Self.output(index, entry)) }
            return
        }
        if json {
            return try printJSON(
                entries.map { index, entry in
                    Output(
                        index: Int(index), time: Self.format(entry.time), principal: entry.principal,
                        action: entry.action, resource: entry.resource, outcome: entry.outcome.rawValue,
                        requestID: "\(entry.requestID)", detail: entry.detail)
                })
        }
        for (index, entry) in entries {
            // Entries recorded before the vault refused separators, or by another writer, may hold them: escaped,
            // so one entry is always one line on the terminal (review 4, F5), and look-alike blanks and runs of
            // spaces too, so no text prints as a column of its own (review 5, F6).
            let text = LogText.column
            var line =
                "\(index)  \(Self.format(entry.time))  \(text(entry.principal))  \(text(entry.action))  "
                + "\(text(entry.resource))  \(entry.outcome.rawValue)  request \(text(entry.requestID))"
            if let detail = entry.detail { line += "  (\(text(detail)))" }
            // A follower writes each line as it comes (print's buffer would hold it back in a pipe).
            if follow { FileHandle.standardOutput.write(Data((line + "\n").utf8)) } else { print(line) }
        }
    }

    static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    static func output(_ index: UInt64, _ entry: AuditEntry) -> Output {
        Output(
            index: Int(index), time: format(entry.time), principal: entry.principal, action: entry.action,
            resource: entry.resource, outcome: entry.outcome.rawValue, requestID: "\(entry.requestID)",
            detail: entry.detail)
    }

    /// One compact JSON object on its own line, flushed, so a follower can be piped into `jq` line by line.
    func printJSONLine(_ value: Output) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Written straight to the descriptor (print's buffer would hold it back in a pipe).
        FileHandle.standardOutput.write(try encoder.encode(value) + Data("\n".utf8))
    }
}

/// `modelvault report [--format md|json|html] [-o FILE]`.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Compliance report: protection, signatures, access and findings.")

    @OptionGroup var options: VaultOptions
    @Option(name: .long, help: "md, json or html.") var format: String = "md"
    @Option(name: .shortAndLong, help: "Write to this file instead of stdout.") var output: String?

    func run() async throws {
        guard let format = ComplianceReport.Format(rawValue: format) else {
            throw ValidationError("--format must be md, json or html")
        }
        if try await options.whenRemote({ try await remote($0, format: format) }) { return }
        let data = try await options.open().complianceReport().rendered(as: format)
        if let output {
            let url = URL(filePath: output, relativeTo: .currentDirectory()).absoluteURL
            do {
                try data.write(to: url, options: .atomic)
            } catch {
                throw CLIError("cannot write \(url.lastPathComponent)")
            }
            print("report written to \(output)")
        } else {
            FileHandle.standardOutput.write(data)
        }
    }
}
