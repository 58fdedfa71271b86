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
    /// Re-seals every passphrase-encrypted key file (each live key version's identity and the passphrase copy of the
    /// signing key) under `new` (issue #20). Retired versions' files are deleted when their rotation finishes.
    ///
    /// Every file is opened with `old` before anything is written, so a wrong passphrase changes nothing. The new
    /// files are all written and flushed beside the old ones, then renamed into place; between the renames the vault
    /// opens with `new` (a file not yet renamed is read from its staged copy), and a run interrupted there is
    /// finished by running it again with the same two passphrases (files that already open with `new` are left as
    /// they are). Refused while a key rotation is unfinished, whose key files would be sealed under
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
        let unfinished = try catalog.read { db in try RotationRow.unfinishedCount(db) }
        guard unfinished == 0 else {
            throw VaultError(
                .rotationInterrupted,
                "a key rotation is unfinished: finish it with `modelvault keys rotate` before changing the passphrase")
        }
        sweepRetiredKeyFiles()
        return try resealKeyFiles(from: old, to: new, workFactor: workFactor)
    }

    /// Re-seals every passphrase-sealed key file under `new` (files already sealed under `new` are left). The caller
    /// holds the rotation lock (`changePassphrase`).
    func resealKeyFiles(
        from old: String, to new: String, workFactor: Int, stopAfterRenames: Int? = nil
    ) throws -> PassphraseChangeReport {
        // Only the key files of the catalog's live versions: a stray `identity-v*.age` planted in keys/ (which opens
        // with neither passphrase) used to stop the re-seal, leaving a vault that opened only with both (F2 review).
        let live = try catalog.read { db in try KeyVersionRow.live(db).map(\.version) }
        let sealedFiles = Set(
            live.map { layout.identityFile(version: $0).lastPathComponent } + [layout.signingKeyFile.lastPathComponent])
        let names = try FileManager.default.contentsOfDirectory(atPath: layout.keys.path(percentEncoded: false))
            .filter { sealedFiles.contains($0) }
            .sorted()
        // Open everything first: a wrong passphrase, or a file that opens with neither, changes nothing.
        var plaintexts: [(name: String, plaintext: Data)] = []
        var alreadyChanged: [String] = []
        var stagedEarlier: [String] = []
        for name in names {
            let url = layout.keys.appending(path: name)
            // A planted link is refused, never followed (its target would be replaced by a sealed key).
            guard VaultFiles.kind(of: url) == .regularFile, let sealed = FileManager.default.contents(atPath: url.path)
            else { throw VaultError(.tampered, "keys/\(name) is not a regular file") }
            if let plaintext = try? suite.open(sealed, passphrase: old) {
                plaintexts.append((name, plaintext))
            } else if (try? suite.open(sealed, passphrase: new)) != nil {
                alreadyChanged.append("keys/\(name)")
            } else if Self.openStaged(url, passphrase: new, suite: suite) != nil {
                // An earlier run stopped between its renames: its new sealing is staged beside the file.
                stagedEarlier.append(name)
            } else {
                throw VaultError(.wrongPassphrase, "wrong vault passphrase (keys/\(name) does not open with it)")
            }
        }
        guard !plaintexts.isEmpty || !alreadyChanged.isEmpty || !stagedEarlier.isEmpty else {
            throw VaultError(.keyUnavailable, "no passphrase-sealed key file in keys/")
        }
        // Two phases, so that no crash leaves a vault that opens with neither passphrase: every new sealing is first
        // written and flushed beside its file (`NAME.resealed`), then each is renamed over its file. Between the
        // renames the vault opens with the new passphrase, reading a staged file where the old one is still in place
        // (`openSealedKeyFile`); before the first rename it still opens with the old one.
        for (name, plaintext) in plaintexts {
            let staged = Self.stagedFile(layout.keys.appending(path: name))
            VaultFiles.remove(staged)
            do {
                try AtomicFile.write(
                    try suite.seal(plaintext, passphrase: new, workFactor: workFactor), to: staged, permissions: 0o600)
            } catch let error as VaultError { throw error } catch {
                throw VaultError.storage("cannot write keys/\(staged.lastPathComponent)")
            }
        }
        try VaultFiles.syncDirectory(layout.keys)
        var renamed = 0
        for name in stagedEarlier + plaintexts.map(\.name) {
            if let stopAfterRenames, renamed >= stopAfterRenames {
                throw VaultError(.rotationInterrupted, "stopped between the renames (test hook)")
            }
            let url = layout.keys.appending(path: name)
            guard rename(Self.stagedFile(url).path(percentEncoded: false), url.path(percentEncoded: false)) == 0 else {
                throw VaultError.storage("cannot replace keys/\(name)")
            }
            renamed += 1
        }
        try VaultFiles.syncDirectory(layout.keys)
        return PassphraseChangeReport(
            resealed: plaintexts.map { "keys/\($0.name)" },
            alreadyChanged: alreadyChanged + stagedEarlier.map { "keys/\($0)" })
    }

    /// Where a re-seal stages the new sealing of `url` until it renames it into place.
    static func stagedFile(_ url: URL) -> URL {
        url.deletingLastPathComponent().appending(path: url.lastPathComponent + ".resealed")
    }

    /// The staged new sealing of `url`, opened with `passphrase`, if there is one (a regular file) and it opens.
    static func openStaged(_ url: URL, passphrase: String, suite: any VaultCipherSuite) -> Data? {
        let staged = stagedFile(url)
        guard VaultFiles.kind(of: staged) == .regularFile,
            let sealed = FileManager.default.contents(atPath: staged.path)
        else { return nil }
        return try? suite.open(sealed, passphrase: passphrase)
    }

    /// Opens a passphrase-sealed key file, or, if it does not open with `passphrase`, the new sealing a re-seal
    /// stopped between its renames left beside it. The staged file gives an attacker who can write `keys/` nothing
    /// new: whoever can plant a file sealed under the passphrase can as well plant it under the key file's own name.
    static func openSealedKeyFile(_ url: URL, passphrase: String, suite: any VaultCipherSuite) -> Data? {
        if let sealed = FileManager.default.contents(atPath: url.path),
            let plaintext = try? suite.open(sealed, passphrase: passphrase)
        {
            return plaintext
        }
        return openStaged(url, passphrase: passphrase, suite: suite)
    }
}
