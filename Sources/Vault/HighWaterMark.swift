import Crypto
public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where this host remembers the newest state it has seen each vault reach, outside the vault directory.
///
/// The catalog and the audit log put back together to an earlier copy of the vault directory are consistent with
/// each other and with every signature in them; nothing inside the directory can tell. A mark kept elsewhere on the
/// host can: someone who can write the vault directory (a shared volume, a restored backup) cannot lower it, and
/// cannot forge one (each mark is MAC'd under a key derived from the vault's root of trust). It holds the highest
/// catalog state sequence with its digest and the largest audit log size seen; a vault found below either is
/// refused. An intended restore from backup is accepted by removing the vault's mark file, which the error names.
public struct HighWaterMark: Sendable {
    /// The directory holding one mark file per vault.
    public let directory: URL

    /// Marks kept in `directory` (created 0700 when first needed).
    public init(directory: URL) {
        self.directory = directory
    }

    /// The host's standard place: `MODELVAULT_STATE_DIR`, else `$XDG_STATE_HOME/modelvault`, else
    /// `~/.local/state/modelvault`.
    public static var standard: HighWaterMark {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["MODELVAULT_STATE_DIR"], !explicit.isEmpty {
            return HighWaterMark(directory: URL(filePath: explicit, directoryHint: .isDirectory))
        }
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty {
            return HighWaterMark(
                directory: URL(filePath: state, directoryHint: .isDirectory).appending(path: "modelvault"))
        }
        return HighWaterMark(
            directory: FileManager.default.homeDirectoryForCurrentUser.appending(path: ".local/state/modelvault"))
    }

    /// One vault's mark.
    struct Mark: Sendable, Equatable {
        /// The highest catalog state seen.
        var state: LoggedState
        /// The largest audit log size (entries) seen.
        var logSize: UInt64
    }

    private static let header = "modelvault high-water mark v1"

    /// The mark file of the vault whose mark key is `key` (named by a MAC, so it says nothing about the vault).
    func file(key: SymmetricKey) -> URL {
        let name = HMAC<SHA256>.authenticationCode(for: Data("file name".utf8), using: key)
        return directory.appending(path: Array(name).prefix(16).hexString + ".mark")
    }

    /// The vault's mark, `nil` if this host has none; a mark that does not verify is an error naming the file.
    func read(key: SymmetricKey) throws -> Mark? {
        let url = file(key: key)
        guard let data = FileManager.default.contents(atPath: url.path(percentEncoded: false)) else { return nil }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == 4, lines[0] == Self.header, lines[3].isEmpty, lines[2].hasPrefix("mac="),
            let mac = [UInt8](hex: String(lines[2].dropFirst(4))),
            HMAC<SHA256>.isValidAuthenticationCode(
                mac, authenticating: Data((lines[0] + "\n" + lines[1]).utf8), using: key),
            let state = LoggedState(detail: String(lines[1])),
            let logSize = lines[1].split(separator: " ").first(where: { $0.hasPrefix("log=") }).flatMap({
                UInt64($0.dropFirst(4))
            })
        else {
            throw VaultError(.tampered, "\(url.path(percentEncoded: false)): the high-water mark does not verify")
        }
        return Mark(state: state, logSize: logSize)
    }

    /// Runs `body` holding the directory's lock (created 0700 with the directory when first needed).
    private func locked<T>(_ body: () throws -> T) throws -> T {
        try VaultFiles.makeDirectory(directory, permissions: 0o700)
        let lock = open(
            directory.appending(path: ".lock").path(percentEncoded: false), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
            0o600)
        guard lock >= 0 else { throw VaultError.storage("cannot open the high-water mark lock") }
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 {
            guard errno == EINTR else { throw VaultError.storage("cannot lock the high-water mark") }
        }
        return try body()
    }

    /// Raises the vault's mark to at least `mark` (never lowers it), atomically and under a lock.
    func raise(to mark: Mark, key: SymmetricKey) throws {
        try locked { try raiseLocked(to: mark, key: key) }
    }

    private func raiseLocked(to mark: Mark, key: SymmetricKey) throws {
        let current = try read(key: key)
        var merged = mark
        if let current {
            if current.state.sequence > merged.state.sequence { merged.state = current.state }
            merged.logSize = max(merged.logSize, current.logSize)
        }
        guard merged != current else { return }
        let line = "\(merged.state.detail) log=\(merged.logSize)"
        let mac = HMAC<SHA256>.authenticationCode(for: Data((Self.header + "\n" + line).utf8), using: key)
        try VaultFiles.writeAtomically(
            Data("\(Self.header)\n\(line)\nmac=\(Array(mac).hexString)\n".utf8), to: file(key: key), permissions: 0o600)
    }

    /// The age recipients of the key versions a `keys rotate --reencrypt` retired on this host, one per line.
    ///
    /// A retired root's mark refuses state sealed under that root, but a vault forged under a root of the attacker's
    /// own has no mark here. Whoever held the old identity can build one around the old `identity-v1.age` (which still
    /// opens with the old passphrase, the only passphrase-sealed file holding a key the attacker knows): its key
    /// version's recipient is on this list, so it is refused (F2 review, round 2, F1/F2). Public values: not MAC'd.
    var retiredRecipientsFile: URL { directory.appending(path: "retired-recipients") }

    /// The recipients on this host's list of retired key versions.
    func retiredRecipients() throws -> Set<String> {
        let path = retiredRecipientsFile.path(percentEncoded: false)
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw VaultError.storage("cannot read \(path)")
        }
        return Set(String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init))
    }

    /// Adds `recipients` to the list of retired key versions (atomically, under the lock).
    func retire(recipients: [String]) throws {
        try locked {
            let current = try retiredRecipients()
            let added = recipients.filter { !current.contains($0) }
            guard !added.isEmpty else { return }
            let lines = (current.sorted() + added).joined(separator: "\n") + "\n"
            try VaultFiles.writeAtomically(Data(lines.utf8), to: retiredRecipientsFile, permissions: 0o600)
        }
    }

    /// Refuses a vault whose newest key version is one a `--reencrypt` on this host retired.
    func checkNotRetired(recipient: String) throws {
        guard try retiredRecipients().contains(recipient) else { return }
        throw VaultError(
            .tampered,
            "keys/: the key version whose root the vault is opened with is one `keys rotate --reencrypt` retired on this host (\(retiredRecipientsFile.path(percentEncoded: false)); remove that line to accept an intended restore): the vault was forged or restored from before that rotation"
        )
    }

    /// The state a retired root's mark holds: above every real one, so nothing sealed under that root passes.
    static let retiredState = LoggedState(sequence: .max, digest: Data(count: 32))

    /// Marks the root whose mark key is `key` as retired by a `keys rotate --reencrypt` on this host.
    func retire(key: SymmetricKey) throws {
        try raise(to: Mark(state: Self.retiredState, logSize: 0), key: key)
    }

    /// Refuses a vault below its mark: an older catalog state, another catalog at the same state, or a shorter log.
    func check(state: LoggedState, logSize: UInt64?, key: SymmetricKey) throws {
        try check(state: state, logSize: logSize, against: try read(key: key), key: key)
    }

    /// As ``check(state:logSize:key:)``, against `mark` as read before the log and the state were: another process
    /// may raise the mark between this one's reading of the log and of the mark, which would look like a rollback.
    func check(state: LoggedState, logSize: UInt64?, against mark: Mark?, key: SymmetricKey) throws {
        guard let mark else { return }
        let where_ =
            "this host's high-water mark (\(file(key: key).path(percentEncoded: false)); remove it to accept an intended restore)"
        if mark.state == Self.retiredState {
            throw VaultError(
                .tampered,
                "catalog.sqlite: it is sealed under a root of trust that `keys rotate --reencrypt` retired on this host (\(where_)): the vault directory was restored from before that rotation"
            )
        }
        if state.sequence < mark.state.sequence {
            throw VaultError(
                .tampered,
                "catalog.sqlite: its state \(state.sequence) is older than state \(mark.state.sequence) in \(where_): the vault directory was rolled back"
            )
        }
        if state.sequence == mark.state.sequence, state.digest != mark.state.digest {
            throw VaultError(
                .tampered, "catalog.sqlite: its state \(state.sequence) differs from the one in \(where_) (forked)")
        }
        if let logSize, logSize < mark.logSize {
            throw VaultError(
                .tampered,
                "audit/: the log holds \(logSize) entries, fewer than the \(mark.logSize) in \(where_): it was cut back or rolled back"
            )
        }
    }
}

extension Vault {
    /// The key the host's high-water mark of this vault is MAC'd with (derived from the root of trust).
    func highWaterKey() -> SymmetricKey { keyRing.trust.key(for: "high-water mark v1") }
}
