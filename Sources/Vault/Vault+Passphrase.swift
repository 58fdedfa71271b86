import Foundation
import GRDB
import VaultCrypto

/// What `changePassphrase` re-sealed.
public struct PassphraseChangeReport: Sendable, Equatable {
    /// The key files now sealed under the new passphrase (`keys/identity-v1.age`, ...).
    public var resealed: [String]
    /// Files a previous, interrupted change had already re-sealed.
    public var alreadyChanged: [String]
}

extension Vault {
    /// Re-seals every passphrase-encrypted key file (each key version's identity, including retired ones still on
    /// disk, and the passphrase copy of the signing key) under `new` (issue #20).
    ///
    /// Every file is opened with `old` before anything is written, so a wrong passphrase changes nothing. The new
    /// files are all written and flushed beside the old ones, then renamed into place; a run interrupted between
    /// renames is finished by running it again with the same two passphrases (files that already open with `new`
    /// are left as they are). Refused while a key rotation is unfinished, whose key files would be sealed under
    /// whichever passphrase it is resumed with. Copies of the key files made before the change (backups,
    /// snapshots) still open with the old passphrase.
    public func changePassphrase(from old: String, to new: String) async throws -> PassphraseChangeReport {
        try await changePassphrase(from: old, to: new, workFactor: Self.defaultWorkFactor)
    }

    func changePassphrase(from old: String, to new: String, workFactor: Int) async throws -> PassphraseChangeReport {
        try PassphrasePolicy.check(new)
        guard new != old else { throw VaultError(.weakPassphrase, "the new passphrase is the old one") }
        // The rotation lock: a rotation writes identity files sealed under the passphrase it was given.
        let lock = try await RotationLock.acquire(at: layout.keys.appending(path: ".rotation.lock").path)
        defer { lock.release() }
        let unfinished = try catalog.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM rotations WHERE finished_at IS NULL") ?? 0
        }
        guard unfinished == 0 else {
            throw VaultError(
                .rotationInterrupted,
                "a key rotation is unfinished: finish it with `modelvault keys rotate` before changing the passphrase")
        }
        return try resealKeyFiles(from: old, to: new, workFactor: workFactor)
    }

    /// Re-seals every passphrase-sealed key file under `new` (files already sealed under `new` are left). The caller
    /// holds the rotation lock; `keys rotate --reencrypt` calls it before it finishes, so a pre-rotation copy of a key
    /// file no longer opens with the passphrase in use (review 5, F1 and F2).
    func resealKeyFiles(from old: String, to new: String, workFactor: Int) throws -> PassphraseChangeReport {
        let names = try FileManager.default.contentsOfDirectory(atPath: layout.keys.path(percentEncoded: false))
            .filter {
                ($0.hasPrefix("identity-v") && $0.hasSuffix(".age")) || $0 == layout.signingKeyFile.lastPathComponent
            }
            .sorted()
        // Open everything first: a wrong passphrase, or a file that opens with neither, changes nothing.
        var plaintexts: [(name: String, plaintext: Data)] = []
        var alreadyChanged: [String] = []
        for name in names {
            let url = layout.keys.appending(path: name)
            // A planted link is refused, never followed (its target would be replaced by a sealed key).
            guard VaultFiles.kind(of: url) == .regularFile, let sealed = FileManager.default.contents(atPath: url.path)
            else { throw VaultError(.tampered, "keys/\(name) is not a regular file") }
            if let plaintext = try? suite.open(sealed, passphrase: old) {
                plaintexts.append((name, plaintext))
            } else if (try? suite.open(sealed, passphrase: new)) != nil {
                alreadyChanged.append("keys/\(name)")
            } else {
                throw VaultError(.wrongPassphrase, "wrong vault passphrase (keys/\(name) does not open with it)")
            }
        }
        guard !plaintexts.isEmpty || !alreadyChanged.isEmpty else {
            throw VaultError(.keyUnavailable, "no passphrase-sealed key file in keys/")
        }
        var pending: [AtomicFile.Pending] = []
        for (name, plaintext) in plaintexts {
            let file = try VaultFiles.pendingFile(layout.keys.appending(path: name), permissions: 0o600)
            pending.append(file)
            do {
                try file.handle.write(contentsOf: try suite.seal(plaintext, passphrase: new, workFactor: workFactor))
            } catch let error as VaultError { throw error } catch {
                throw VaultError.storage("cannot write keys/\(name)")
            }
        }
        for file in pending {
            do { try file.commit() } catch {
                throw VaultError.storage("cannot replace keys/\(file.url.lastPathComponent)")
            }
        }
        return PassphraseChangeReport(resealed: plaintexts.map { "keys/\($0.name)" }, alreadyChanged: alreadyChanged)
    }
}
