import AuditLog
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Failed unlocks (a wrong passphrase, an identity file of another vault), kept in `audit/unlock-failures.log`.
///
/// Without the key nothing can be authenticated, so a failure is appended there as one plain line (time and kind,
/// never what was tried). The next successful open folds every line into the signed audit log as a denied
/// `vault.unlock` entry and empties the file: from then on they are covered by checkpoints. Until then anyone who
/// can write the directory can delete them, which the README states.
enum UnlockFailures {
    static func file(_ layout: VaultLayout) -> URL { layout.audit.appending(path: "unlock-failures.log") }

    /// Appends one line; best effort (a failed unlock is reported to the caller whatever happens here).
    static func record(_ layout: VaultLayout, kind: String) {
        let line = "\(Date().formatted(.iso8601)) \(kind)\n"
        let fd = open(file(layout).path(percentEncoded: false), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        _ = line.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        fsync(fd)
    }

    /// Moves every recorded failure into the signed log, then empties the file.
    static func drain(_ layout: VaultLayout, into log: AuditLog) async throws {
        let url = file(layout)
        guard let data = FileManager.default.contents(atPath: url.path(percentEncoded: false)), !data.isEmpty else {
            return
        }
        // At most 64 KiB of lines are taken, so a file grown by an attacker cannot flood the log.
        let lines = String(decoding: data.prefix(65_536), as: UTF8.self).split(separator: "\n").prefix(1_000)
        for line in lines {
            let parts = line.split(separator: " ", maxSplits: 1)
            let kind =
                parts.count == 2 && ["wrong-passphrase", "identity-mismatch"].contains(String(parts[1]))
                ? String(parts[1]) : "unreadable-record"
            _ = try await log.append(
                AuditEntry(
                    principal: "anonymous", action: "vault.unlock", resource: "vault", outcome: .denied,
                    requestID: UUID().uuidString,
                    detail: "\(kind) at \(parts.first.map(String.init)?.prefix(32) ?? "?") (recorded before unlock)"))
        }
        try await log.checkpoint()
        VaultFiles.remove(url)
    }
}
