public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Staging directories named after the process that made them, so that the next run can remove what a killed
/// process left behind: a SIGKILL (or a crash, or power loss) runs no cleanup, and a pull's or an upload's staging
/// may hold plaintext.
///
/// A name is `PREFIX` + `p<pid>.<start>-<uuid>`, where `<start>` is the process's start time (Linux: field 22 of
/// `/proc/<pid>/stat`, in clock ticks since boot), so a reused pid, or pid 1 of a restarted container, does not make a
/// dead owner look alive. An entry is stale when no process with that pid and start time runs.
public enum StaleStaging {
    /// The name prefix of the registry's pull staging (`VaultRegistry`), in the temporary directory.
    public static let registryPullPrefix = "modelvault-pull-"

    /// A fresh staging name for this process: `prefix` + `p<pid>.<start>-<uuid>`.
    public static func name(_ prefix: String) -> String {
        prefix + "p\(getpid()).\(startTime(of: getpid()) ?? 0)-" + UUID().uuidString.lowercased()
    }

    /// Removes the entries of `directory` named `prefix` + `p<pid>.<start>-...` whose process is gone; returns their
    /// names. Other names (a user's files, older staging without an owner) are left alone; symbolic links are
    /// removed as links, never followed.
    @discardableResult
    public static func sweep(_ directory: URL, prefix: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path(percentEncoded: false))
        else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix(prefix + "p") {
            guard let owner = owner(of: name, prefix: prefix), !isRunning(owner) else { continue }
            if (try? FileManager.default.removeItem(at: directory.appending(path: name))) != nil {
                removed.append(name)
            }
        }
        return removed
    }

    /// The pid and start time a staging name records.
    static func owner(of name: String, prefix: String) -> (pid: Int32, start: UInt64)? {
        let rest = name.dropFirst(prefix.count + 1)
        guard let dash = rest.firstIndex(of: "-"), let dot = rest[..<dash].firstIndex(of: "."),
            let pid = Int32(rest[..<dot]), pid > 0, let start = UInt64(rest[rest.index(after: dot)..<dash])
        else { return nil }
        return (pid, start)
    }

    /// Whether the process `owner` names still runs (same pid, same start time).
    static func isRunning(_ owner: (pid: Int32, start: UInt64)) -> Bool {
        if kill(owner.pid, 0) != 0, errno == ESRCH { return false }
        // Alive (or not ours to signal): compare start times where the system tells them.
        guard let start = startTime(of: owner.pid) else { return true }
        return start == owner.start
    }

    /// A process's start time in clock ticks since boot (Linux), or `nil` where `/proc` does not tell.
    static func startTime(of pid: Int32) -> UInt64? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat"),
            let text = String(data: data, encoding: .utf8), let close = text.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm)" come fields 3...; the start time is field 22, the 20th of them.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count >= 20 else { return nil }
        return UInt64(fields[19])
    }
}
