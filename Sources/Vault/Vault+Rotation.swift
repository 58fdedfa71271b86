import Crypto
import Foundation
import GRDB
import VaultCrypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Vault {
    /// Every key version with its state and how many stored files are wrapped for it.
    public func keyVersions() throws -> [KeyVersionInfo] {
        try catalog.read { db in try KeyVersionRow.withFileCounts(db) }
    }

    /// The stored files (vault-relative paths) whose headers are wrapped for key `version`.
    public func files(wrappedFor version: Int) throws -> [String] {
        try catalog.read { db in try BlobRows.paths(wrappedFor: version, db) }
    }

    /// Creates a new vault key version and moves every stored file to it: re-wraps each file's header
    /// (payload untouched) or, with `reencrypt`, re-encrypts payloads under fresh file keys.
    ///
    /// Each file is replaced atomically and its move recorded in a journal, so a crashed rotation resumes
    /// where it stopped when called again (an unfinished rotation is always resumed first). Old key versions
    /// stay usable until no file uses them, then are retired and their key files deleted.
    ///
    /// With `newPassphrase` (required by `keys rotate --reencrypt`), every live key file is re-sealed under it before
    /// the rotation finishes, so copies of key files from before the rotation no longer open with the passphrase in
    /// use. A resumed rotation is given the new passphrase again (the vault may already open only with it).
    ///
    /// A re-encrypting rotation without `newPassphrase` is refused (`VaultError.weakPassphrase`) before anything
    /// changes, and so is resuming an unfinished re-encrypting rotation without one: finished under the passphrase in
    /// use, the key files from before it would still open (review 5, trust F1 and F2).
    ///
    /// `progress` hears the files moved so far (pushes committed under an old key meanwhile raise the total).
    public func rotateKeys(
        passphrase: String, reencrypt: Bool = false, newPassphrase: String? = nil, context: RequestContext = .local,
        progress: ProgressHandler? = nil
    ) async throws
        -> RotationReport
    {
        guard !reencrypt || newPassphrase != nil else { throw VaultError.newPassphraseRequired }
        return try await rotateKeys(
            passphrase: passphrase, reencrypt: reencrypt, newPassphrase: newPassphrase,
            workFactor: Self.defaultWorkFactor, stopAfter: nil, context: context, auditHandover: nil,
            progress: progress
        ).report
    }

    /// Whether a `--reencrypt` rotation is unfinished. `keys rotate` then refuses to resume it without `--reencrypt`
    /// and the new passphrase: finished without one, its key files would stay sealed under the old passphrase.
    public func hasUnfinishedReencryptingRotation() throws -> Bool {
        try catalog.read { db in try RotationRow.hasUnfinishedReencrypting(db) }
    }

    /// Whether a rotation without `--reencrypt` is unfinished.
    func hasUnfinishedPlainRotation() throws -> Bool {
        try catalog.read { db in try RotationRow.hasUnfinishedPlain(db) }
    }

    /// Rotation with test hooks: `stopAfter` simulates a crash after that many files, `stopBeforeFinishing` one just
    /// before the rotation is marked finished. Without `newPassphrase` a re-encrypting rotation keeps the passphrase,
    /// for tests of everything else a rotation does.
    func rotateKeys(
        passphrase: String, reencrypt: Bool, newPassphrase: String? = nil, workFactor: Int, stopAfter: Int?,
        stopBeforeFinishing: Bool = false, context: RequestContext,
        retireMark: (@Sendable (SymmetricKey) throws -> Void)? = nil,
        retireRecipients: (@Sendable ([String]) throws -> Void)? = nil
    ) async throws -> RotationReport {
        try await rotateKeys(
            passphrase: passphrase, reencrypt: reencrypt, newPassphrase: newPassphrase, keepingPassphrase: true,
            workFactor: workFactor, stopAfter: stopAfter, stopBeforeFinishing: stopBeforeFinishing, context: context,
            retireMark: retireMark, retireRecipients: retireRecipients, auditHandover: nil
        ).report
    }

    /// Rotation, then (for a `--reencrypt` one) `auditHandover` while the rotation lock is still held, so no other
    /// process finishes the audit key handover under this one. It returns the handover size. A re-encrypting rotation
    /// (new or resumed) needs `newPassphrase` unless `keepingPassphrase`, which only tests set.
    func rotateKeys(
        passphrase: String, reencrypt: Bool, newPassphrase: String? = nil, keepingPassphrase: Bool = false,
        workFactor: Int = Vault.defaultWorkFactor,
        stopAfter: Int? = nil, stopBeforeFinishing: Bool = false, context: RequestContext,
        retireMark: (@Sendable (SymmetricKey) throws -> Void)? = nil,
        retireRecipients: (@Sendable ([String]) throws -> Void)? = nil,
        auditHandover: (@Sendable () async throws -> UInt64?)?, progress: ProgressHandler? = nil
    ) async throws -> (report: RotationReport, handoverSize: UInt64?) {
        // One rotation at a time across processes: a second `keys rotate` waits here, then rotates on from the
        // state the first left (key versions it created are unlocked below, so nothing looks damaged).
        let lock = try await RotationLock.acquire(at: layout.rotationLock.path)
        defer { lock.release() }
        guard !reencrypt || newPassphrase != nil || keepingPassphrase else { throw VaultError.newPassphraseRequired }
        // A handover left pending by an audit key rotation has its next key sealed to the versions a re-encrypting
        // rotation retires, which the old identity opens: reused by this rotation, that key would be known to whoever
        // holds the old identity (F2 review). It is finished first, so the rotation pins a fresh next key.
        // Only once the request itself is known to be acceptable: a refused one must change nothing.
        if reencrypt, try !hasUnfinishedReencryptingRotation(), try auditKeyPins().next != nil {
            try checkRotationRequest(
                passphrase: passphrase, reencrypt: reencrypt, newPassphrase: newPassphrase,
                keepingPassphrase: keepingPassphrase)
            try unlockLiveVersions(passphrases: [passphrase] + (newPassphrase.map { [$0] } ?? []))
            _ = try retiringMarkKeysAtStart()
            guard let auditHandover else {
                throw VaultError(
                    .rotationInterrupted,
                    "an audit key handover is pending: open the vault through a session (any modelvault command) to finish it, then rotate with --reencrypt"
                )
            }
            _ = try await auditHandover()
        }
        let report = try rotateKeysLocked(
            passphrase: passphrase, reencrypt: reencrypt, newPassphrase: newPassphrase,
            keepingPassphrase: keepingPassphrase, workFactor: workFactor, stopAfter: stopAfter,
            stopBeforeFinishing: stopBeforeFinishing, context: context, retireMark: retireMark,
            retireRecipients: retireRecipients, progress: progress)
        guard report.reencrypted, let auditHandover else { return (report, nil) }
        return (report, try await auditHandover())
    }

    private func rotateKeysLocked(
        passphrase: String, reencrypt: Bool, newPassphrase: String?, keepingPassphrase: Bool, workFactor: Int,
        stopAfter: Int?, stopBeforeFinishing: Bool, context: RequestContext,
        retireMark: (@Sendable (SymmetricKey) throws -> Void)?,
        retireRecipients: (@Sendable ([String]) throws -> Void)?,
        progress: ProgressHandler?
    ) throws -> RotationReport {
        try checkRotationRequest(
            passphrase: passphrase, reencrypt: reencrypt, newPassphrase: newPassphrase,
            keepingPassphrase: keepingPassphrase)
        try unlockLiveVersions(passphrases: [passphrase] + (newPassphrase.map { [$0] } ?? []))
        sweepRetiredKeyFiles()
        let (rotationID, target, reencrypting, resumed) = try startOrResumeRotation(
            passphrase: passphrase, reencrypt: reencrypt, newPassphrase: newPassphrase, workFactor: workFactor,
            context: context)
        // First thing after the first transaction (and again on every resume): the old versions' recipients join this
        // host's list of retired ones, so a vault forged around the old identity under a root of its own (which has
        // no mark here) is refused, even one swapped in after a crash later in this rotation.
        if reencrypting, let retireRecipients {
            try retireRecipients(
                try catalog.read { db in try KeyVersionRow.recipients(below: target, db) })
        }
        if reencrypting, let newPassphrase {
            try checkOrRecordNewPassphrase(
                newPassphrase, current: passphrase, rotationID: rotationID, target: target, workFactor: workFactor)
        }
        // Review 5, F3: the old root's high-water mark is retired right after the first transaction commits (and again
        // on every resume, from the marks pinned when it started), before any file moves, so a pre-rotation copy is
        // refused on this host even if this process dies before the audit handover.
        if reencrypting, let retireMark {
            for key in try retiringMarkKeys(target: target) { try retireMark(key) }
        }
        guard let targetIdentity = keyRing.identities[target] else {
            throw VaultError(.keyUnavailable, "vault key version \(target) is not unlocked; reopen the vault")
        }
        let recipient = try suite.recipient(ofIdentity: targetIdentity)
        var moved = 0
        let retired: [Int]
        while true {
            let movedBefore = moved
            moved += try moveBlobsBelowTarget(
                rotationID: rotationID, target: target, recipient: recipient, reencrypting: reencrypting,
                stopAfter: stopAfter.map { $0 - moved }, movedBefore: moved, progress: progress)
            if reencrypting { try resignManifests(passphrase: newPassphrase ?? passphrase, workFactor: workFactor) }
            // keys/audit.age is encrypted to key versions too: move it to the live ones before old versions retire
            // (otherwise the retired identity would take the audit key with it). After a suspected compromise, only
            // to the new version: the old identity must not read whichever audit key is current by then.
            try storeAuditKey(
                try auditSigningKey(pinned: try catalog.read { db in try TrustPin.value(.auditPublicKey, db) }),
                recipients: reencrypting ? [recipient] : nil)
            // A re-encrypting rotation re-seals no key file of the versions it retires under the new passphrase:
            // sealed so, the old identity, which the attacker holds, would open with the new passphrase and could be
            // planted as a key version of a forged vault (F2 review, second round, F1). They keep the old passphrase
            // until `finishRotation` deletes them; the new version's files were sealed under the new one from the
            // start.
            if stopBeforeFinishing {
                throw VaultError(.rotationInterrupted, "stopped before the rotation finished (test hook)")
            }
            // nil when a push committed under a retiring version after the moves: move it too, then finish. A pass
            // that moved nothing and still may not finish would repeat forever: the catalog is not what it says.
            guard let finished = try finishRotation(rotationID, target: target, requireAllMoved: reencrypting) else {
                if moved == movedBefore {
                    throw VaultError(.tampered, "catalog.sqlite: files stay under an old key version after every move")
                }
                continue
            }
            retired = finished
            break
        }
        for version in retired { keyRing.identities[version] = nil }
        // The audit key follows the live versions only, still under the rotation lock: a store after the lock is
        // released could overwrite what a second rotation wrote, or leave the key readable only by a version that
        // rotation retires (two `keys rotate` at once; CI saw "keys/audit.age does not hold the pinned audit key").
        if !reencrypting {
            try storeAuditKey(
                try auditSigningKey(pinned: try catalog.read { db in try TrustPin.value(.auditPublicKey, db) }))
        }
        return RotationReport(
            keyVersion: target, filesMoved: moved, reencrypted: reencrypting, retiredVersions: retired,
            resumed: resumed)
    }

    /// Another process may have rotated since this vault was opened: unlocks the live versions it created.
    private func unlockLiveVersions(passphrases: [String]) throws {
        let live = try catalog.read { db in try KeyVersionRow.liveVersions(db) }
        for version in live where keyRing.identities[version] == nil {
            try unlockKeyVersion(version, passphrases: passphrases)
        }
    }

    /// Deletes the key files of every version the catalog marks retired. `finishRotation` deletes them after its
    /// commit; a crash in between left them, never removed, and a later passphrase change re-sealed only the live
    /// versions' files, so the retired identity (which opens the chain to the live one) kept the old passphrase (F2
    /// review, round 3, F2). Safe to repeat.
    func sweepRetiredKeyFiles() {
        guard
            let retired = try? catalog.read({ db in try KeyVersionRow.retiredVersions(db) })
        else { return }
        for version in retired { removeKeyFiles(of: version) }
    }

    private func removeKeyFiles(of version: Int) {
        VaultFiles.remove(layout.identityFile(version: version))
        VaultFiles.remove(Self.stagedFile(layout.identityFile(version: version)))
        VaultFiles.remove(layout.signingKeyFile(version: version))
        VaultFiles.remove(layout.rootFile(version: version))
        VaultFiles.remove(layout.chainFile(version: version))
    }

    /// The age recipient the catalog records for key version `version`, nil if it has none.
    func recipient(ofKeyVersion version: Int) throws -> String? {
        try catalog.read { db in try KeyVersionRow.recipient(ofVersion: version, db) }
    }

    /// Moves every blob still under a version below `target` to it, through the rotation's journal; returns how many.
    /// `progress` hears the files moved, counting from `movedBefore` (this rotation's earlier passes).
    private func moveBlobsBelowTarget(
        rotationID: Int64, target: Int, recipient: String, reencrypting: Bool, stopAfter: Int?, movedBefore: Int = 0,
        progress: ProgressHandler? = nil
    ) throws -> Int {
        var moved = 0
        while true {
            // Pushes committed with an older key after the rotation started join the journal here.
            let pending = try catalog.write { db -> [String] in
                try RotationJournal.addPending(rotationID: rotationID, below: target, db)
                try RotationJournal.markPending(rotationID: rotationID, below: target, db)
                // Before any of these files changes: a crash after a move never leaves a record of a header that is gone.
                try BlobHeaderRows.forget(below: target, db)
                // The work list comes from the authenticated `blobs`, never from the journal (progress only, which
                // anyone who can write the directory can change): a planted index that kept the journal empty left
                // files unmoved (F2 review, round 3, F1).
                return try BlobRows.paths(below: target, db)
            }
            if pending.isEmpty { return moved }
            // The total grows only when a push under an old key joined the journal since the last batch.
            let total = Int64(movedBefore + moved + pending.count)
            progress?(ProgressEvent(done: Int64(movedBefore + moved), total: total, unit: .files))
            for path in pending {
                if let stopAfter, moved >= stopAfter {
                    throw VaultError(.rotationInterrupted, "key rotation stopped before it finished; run it again")
                }
                try moveBlob(path, to: recipient, version: target, reencrypt: reencrypting, rotationID: rotationID)
                moved += 1
                progress?(ProgressEvent(done: Int64(movedBefore + moved), total: total, unit: .files))
            }
        }
    }

    /// The checks a rotation request must pass before anything changes: the new passphrase's policy, a new passphrase
    /// for a re-encrypting rotation (new or resumed), the vault's passphrase, and no unfinished plain rotation under a
    /// `--reencrypt`.
    private func checkRotationRequest(
        passphrase: String, reencrypt: Bool, newPassphrase: String?, keepingPassphrase: Bool
    ) throws {
        if let newPassphrase {
            try PassphrasePolicy.check(newPassphrase)
            // The same passphrase is accepted only to finish a re-encrypting rotation that already re-sealed the key
            // files (the pinned check below then makes sure it is the one the rotation was started with).
            guard try newPassphrase != passphrase || hasUnfinishedReencryptingRotation() else {
                throw VaultError(.weakPassphrase, "the new passphrase is the old one")
            }
        }
        // A plain rotation resumes an unfinished re-encrypting one: without the new passphrase it would finish with
        // every key file still sealed under the passphrase in use. Refused before the resume changes anything.
        if newPassphrase == nil, !keepingPassphrase, try hasUnfinishedReencryptingRotation() {
            throw VaultError.newPassphraseRequired
        }
        // The passphrase must be the vault's: check it against the current key file before anything changes. An
        // unfinished `--reencrypt` sealed its new version under the new passphrase from its first transaction (review
        // 8, F2), so on a resume the current key file opens with that one.
        let passphrases = [passphrase] + (newPassphrase.map { [$0] } ?? [])
        let current = try catalog.read { db in try KeyVersionRow.current(db) }
        guard
            passphrases.contains(where: {
                Self.openSealedKeyFile(layout.identityFile(version: current.version), passphrase: $0, suite: suite)
                    != nil
            })
        else { throw VaultError(.wrongPassphrase, "wrong vault passphrase") }
        // `--reencrypt` over an unfinished plain rotation used to resume the plain one and report success: no new
        // passphrase, signing key, root or audit key. Refused before anything changes; finish the plain one first.
        if reencrypt, try hasUnfinishedPlainRotation() {
            throw VaultError(
                .rotationInterrupted,
                "a plain key rotation is unfinished: finish it with keys rotate (without --reencrypt), then re-encrypt")
        }
    }

    /// The first run of a re-encrypting rotation records a check of its new passphrase (a text sealed under it, as
    /// the key files are); a resume must give the same one. Otherwise a resume after the re-seal had run, given the
    /// old passphrase as the "new" one, sealed every key file back under the old passphrase (review 5, trust F1/F2).
    ///
    /// The check is written just after the rotation's first transaction: a crash in between leaves none, and a
    /// resume then may not record the passphrase in use as the "new" one (review 8, F3), since nothing was re-sealed
    /// before the check existed.
    ///
    /// Before recording, the candidate must open the rotation's new identity, which its first transaction sealed
    /// under the new passphrase (review 8, F2): a resume after a crash before the check, given the two passphrases
    /// swapped, recorded the old one and re-sealed every key file, the new identity included, under it (F2 review).
    private func checkOrRecordNewPassphrase(
        _ candidate: String, current: String, rotationID: Int64, target: Int, workFactor: Int
    ) throws {
        let prefix = "\(rotationID):"
        if let pinned = try catalog.read({ db in try TrustPin.value(.reencryptPassphraseCheck, db) }),
            pinned.hasPrefix(prefix)
        {
            guard let sealed = Data(base64Encoded: String(pinned.dropFirst(prefix.count))),
                (try? suite.open(sealed, passphrase: candidate)) != nil
            else {
                throw VaultError(
                    .wrongPassphrase, "the new passphrase is not the one this key rotation was started with")
            }
            return
        }
        guard candidate != current else { throw VaultError(.weakPassphrase, "the new passphrase is the old one") }
        let expected = try recipient(ofKeyVersion: target)
        guard
            let identity = Self.openSealedKeyFile(
                layout.identityFile(version: target), passphrase: candidate, suite: suite),
            let expected,
            (try? suite.recipient(ofIdentity: String(decoding: identity, as: UTF8.self))) == expected
        else {
            throw VaultError(.wrongPassphrase, "the new passphrase is not the one this key rotation was started with")
        }
        let sealed = try suite.seal(
            Data("modelvault re-encrypting rotation \(rotationID)".utf8), passphrase: candidate,
            workFactor: workFactor)
        try catalog.write { db in
            try TrustPin.set(.reencryptPassphraseCheck, to: prefix + sealed.base64EncodedString(), db)
        }
    }

    /// What a failed move of one blob to the new key reports: a failure to write (a full disk) is a storage error and
    /// the vault's own errors stand; anything else means the stored file did not decrypt (review 8, F7).
    static func moveFailure(_ error: any Error, of path: String) -> VaultError {
        if let error = error as? VaultError { return error }
        if let error = error as? AgeError, error.kind == .output {
            return VaultError.storage("cannot write \(path) for the new key (\(error.description))")
        }
        return VaultError(.decryptionFailed, "cannot move \(path) to the new key: the stored file is damaged")
    }

    /// Returns the unfinished rotation, or creates a key version and a rotation for it.
    private func startOrResumeRotation(
        passphrase: String, reencrypt: Bool, newPassphrase: String?, workFactor: Int, context: RequestContext
    ) throws -> (id: Int64, target: Int, reencrypt: Bool, resumed: Bool) {
        if let row = try catalog.read({ db in try RotationRow.unfinished(db) }) {
            let target = row.targetVersion
            if keyRing.identities[target] == nil {
                try unlockKeyVersion(target, passphrases: [passphrase] + (newPassphrase.map { [$0] } ?? []))
            }
            return (row.id, target, row.reencrypt, true)
        }
        let identity = try suite.generateIdentity(postQuantum: configuration.postQuantum)
        let recipient = try suite.recipient(ofIdentity: identity)
        let layout = self.layout
        let suite = self.suite
        // After a compromise the old signing key may be known: `--reencrypt` replaces it too (the new key is pinned
        // in the same transaction, so a crash leaves a vault that opens and resumes re-signing).
        let signingKey = reencrypt ? signer.generateSigningKey() : keyRing.signingKey
        let signingPublicKey = try signer.publicKey(ofSigningKey: signingKey)
        // After a compromise the old identity, and so the old root of trust, may be known: `--reencrypt` makes a fresh
        // root and re-authenticates the whole state under it in the same transaction (`Catalog.reroot`).
        let trust = reencrypt ? TrustRoot.generate() : keyRing.trust
        // ... and the old audit key may be known too: the next one is made and pinned here, sealed to the new version
        // only, so a crash anywhere after this commit still ends in the handover (finished at the next open).
        let nextPinned = try catalog.read { db in try TrustPin.value(.auditNextPublicKey, db) } != nil
        let nextAuditKey = reencrypt && !nextPinned ? Curve25519.Signing.PrivateKey() : nil
        // The marks to retire are taken now, from the root this vault was opened with and the root files of the other
        // live versions, and pinned sealed under the new root: a resume after a crash must not depend on the old root
        // files, which someone holding the old identity can delete or replace by then (F2 review).
        let retiringMarks = reencrypt ? try retiringMarkKeysAtStart() : []
        let body = { (db: Database) throws -> (Int64, Int) in
            let target = (try KeyVersionRow.highestVersion(db) ?? 0) + 1
            // Key files first (a crash before the commit leaves files for a version number that is reused). A
            // `--reencrypt` seals the new identity under the new passphrase at once: sealed under the old one until the
            // final re-seal, a copy of keys/ taken meanwhile opened it with the passphrase thought compromised
            // (review 8, F2). From this commit on, the vault opens with both passphrases (the old versions' files
            // are re-sealed at the end), which `keys rotate --reencrypt` gives.
            try VaultFiles.writeAtomically(
                try suite.seal(
                    Data(identity.utf8), passphrase: reencrypt ? newPassphrase ?? passphrase : passphrase,
                    workFactor: workFactor),
                to: layout.identityFile(version: target), permissions: 0o600)
            try VaultFiles.writeAtomically(
                try suite.encrypt(Data(signingKey.utf8), to: [recipient]), to: layout.signingKeyFile(version: target),
                permissions: 0o600)
            try VaultFiles.writeAtomically(
                try trust.sealed(forIdentity: identity, version: target), to: layout.rootFile(version: target),
                permissions: 0o600)
            if !reencrypt {
                // The key chain: the live identities open the new one, so servers that hold them follow. A
                // `--reencrypt` rotation (a suspected compromise) makes no link, cutting the old identities off.
                try VaultFiles.writeAtomically(
                    try suite.encrypt(Data(identity.utf8), to: try KeyVersionRow.live(db).map(\.recipient)),
                    to: layout.chainFile(version: target), permissions: 0o600)
            }
            let now = CatalogTime.now()
            try KeyVersionRow.markActiveRetiring(db)
            try KeyVersionRow.insert(version: target, recipient: recipient, db)
            if reencrypt {
                // The outgoing key stays pinned as history, by the key version it was made at.
                let outgoing = try TrustPin.signingKeyVersion(db)
                if let pem = try TrustPin.value(.signingPublicKey, db) {
                    try TrustPin.setHistory(signingKeyVersion: outgoing, to: pem, db)
                }
                try TrustPin.set(.signingPublicKey, to: signingPublicKey, db)
                try TrustPin.set(.signingKeyVersion, to: String(target), db)
            }
            if reencrypt {
                try TrustPin.set(
                    .reencryptRetiringMarks,
                    to: try Self.sealRetiringMarks(retiringMarks, under: trust, target: target),
                    db)
            }
            if let nextAuditKey {
                try VaultFiles.writeAtomically(
                    try suite.encrypt(nextAuditKey.rawRepresentation, to: [recipient]), to: layout.nextAuditKeyFile,
                    permissions: 0o600)
                if try TrustPin.value(.auditOrigin, db) == nil, let pinned = try TrustPin.value(.auditPublicKey, db),
                    let raw = [UInt8](hex: pinned),
                    let current = try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
                {
                    try TrustPin.set(.auditOrigin, to: Vault.auditOrigin(for: current), db)
                }
                try TrustPin.set(
                    .auditNextPublicKey, to: Array(nextAuditKey.publicKey.rawRepresentation).hexString, db)
            }
            let id = try RotationRow.start(target: target, reencrypt: reencrypt, at: now, by: context.principal, db)
            return (id, target)
        }
        let (id, target) = reencrypt ? try catalog.reroot(to: trust, body) : try catalog.write(body)
        keyRing.trust = trust
        keyRing.identities[target] = identity
        keyRing.signingKey = signingKey
        keyRing.signingPublicKey = signingPublicKey
        return (id, target, reencrypt, false)
    }

    private static let retiringMarksPurpose = "retiring high-water marks v1"

    /// The mark keys of the roots in use before a re-encrypting rotation: the one this vault was opened with, then
    /// those of the other live versions' root files.
    private func retiringMarkKeysAtStart() throws -> [SymmetricKey] {
        var keys = [highWaterKey()]
        for key in try markKeysFromRootFiles(before: Int.max) where !keys.contains(key) { keys.append(key) }
        return keys
    }

    /// `keys` sealed under `newRoot` for `TrustPin.reencryptRetiringMarks`, bound to the rotation's key version.
    private static func sealRetiringMarks(
        _ keys: [SymmetricKey], under newRoot: TrustRoot, target: Int
    ) throws
        -> String
    {
        let plaintext = keys.reduce(into: Data()) { data, key in key.withUnsafeBytes { data.append(contentsOf: $0) } }
        let box = try ChaChaPoly.seal(
            plaintext, using: newRoot.key(for: retiringMarksPurpose), authenticating: retiringMarksContext(target))
        return box.combined.base64EncodedString()
    }

    private static func retiringMarksContext(_ target: Int) -> Data {
        Data("modelvault retiring high-water marks, key version \(target)".utf8)
    }

    /// The high-water mark keys a re-encrypting rotation retires: those pinned sealed under the new root when it
    /// started, or, for a rotation started before that pin existed, those of the still-present root files of the live
    /// versions before `target`. The current root's key is never among them.
    private func retiringMarkKeys(target: Int) throws -> [SymmetricKey] {
        let current = highWaterKey()
        guard let pinned = try catalog.read({ db in try TrustPin.value(.reencryptRetiringMarks, db) }) else {
            return try markKeysFromRootFiles(before: target).filter { $0 != current }
        }
        guard let combined = Data(base64Encoded: pinned), let box = try? ChaChaPoly.SealedBox(combined: combined),
            let plaintext = try? ChaChaPoly.open(
                box, using: keyRing.trust.key(for: Self.retiringMarksPurpose),
                authenticating: Self.retiringMarksContext(target)),
            !plaintext.isEmpty, plaintext.count % 32 == 0
        else {
            throw VaultError(
                .tampered, "trust_pins[name=\(TrustPin.reencryptRetiringMarks.rawValue)]: does not open with the root")
        }
        return stride(from: 0, to: plaintext.count, by: 32).map { offset in
            SymmetricKey(data: plaintext[(plaintext.startIndex + offset)..<(plaintext.startIndex + offset + 32)])
        }.filter { $0 != current }
    }

    /// The distinct mark keys of the roots sealed in the root files of the live versions before `version`.
    private func markKeysFromRootFiles(before version: Int) throws -> [SymmetricKey] {
        let versions = try catalog.read { db in try KeyVersionRow.liveVersions(below: version, db) }
        var keys: [SymmetricKey] = []
        for version in versions {
            let url = layout.rootFile(version: version)
            guard let identity = keyRing.identities[version], let data = FileManager.default.contents(atPath: url.path)
            else { continue }
            let name = "keys/\(url.lastPathComponent)"
            let key = try TrustRoot.open(data, identity: identity, version: version, name: name)
                .key(for: "high-water mark v1")
            if !keys.contains(key) { keys.append(key) }
        }
        return keys
    }

    private func unlockKeyVersion(_ version: Int, passphrases: [String]) throws {
        let file = layout.identityFile(version: version)
        guard
            let identity = passphrases.lazy.compactMap({
                Self.openSealedKeyFile(file, passphrase: $0, suite: self.suite)
            }).first
        else { throw VaultError(.keyUnavailable, "cannot unlock vault key version \(version)") }
        // The identity must be the one the authenticated catalog records for the version: a key file sealed under the
        // passphrase by someone who knows it is not enough to put another identity in its place.
        let text = String(decoding: identity, as: UTF8.self)
        let expected = try recipient(ofKeyVersion: version)
        guard let expected, (try? suite.recipient(ofIdentity: text)) == expected else {
            throw VaultError(
                .tampered, "keys/\(file.lastPathComponent) holds another key version's identity")
        }
        keyRing.identities[version] = text
    }

    /// Re-wraps (or re-encrypts) one blob for the target key, replacing it atomically, then records it.
    private func moveBlob(
        _ path: String, to recipient: String, version: Int, reencrypt: Bool, rotationID: Int64
    )
        throws
    {
        let url = layout.url(path)
        let temporary = url.deletingLastPathComponent().appending(path: ".\(url.lastPathComponent).rotate")
        let identities = keyRing.allIdentities
        do {
            if reencrypt {
                try suite.reencryptFile(at: url, to: temporary, using: identities, for: [recipient])
            } else {
                try suite.rewrapFile(at: url, to: temporary, using: identities, for: [recipient])
            }
            // Stored blobs are private (0600) whatever mode the cipher suite's writer used.
            guard chmod(temporary.path(percentEncoded: false), 0o600) == 0 else {
                throw VaultError.storage("cannot set the mode of \(url.lastPathComponent)")
            }
            try VaultFiles.move(temporary, to: url)
        } catch {
            VaultFiles.remove(temporary)
            throw Self.moveFailure(error, of: path)
        }
        try catalog.write { db in
            try BlobRows.setKeyVersion(version, ofPath: path, db)
            try RotationJournal.markDone(rotationID: rotationID, path: path, db)
        }
    }

    /// Marks the rotation finished and retires key versions no file uses any more, then deletes their key files.
    /// With `requireAllMoved` (a re-encrypting rotation), returns nil and finishes nothing while a blob is still under
    /// a version below `target` (a push that committed after the moves): every old version must retire.
    private func finishRotation(_ rotationID: Int64, target: Int, requireAllMoved: Bool) throws -> [Int]? {
        let retired = try catalog.write { db -> [Int]? in
            if requireAllMoved, try BlobRows.any(below: target, db) {
                return nil
            }
            let retired = try KeyVersionRow.retirableVersions(db)
            let now = CatalogTime.now()
            for version in retired {
                try KeyVersionRow.markRetired(version, at: now, db)
            }
            try RotationRow.markFinished(rotationID, at: now, db)
            try TrustPin.remove(.reencryptPassphraseCheck, db)
            try TrustPin.remove(.reencryptRetiringMarks, db)
            return retired
        }
        // After the commit: deleted inside the transaction, a crash or a failed commit left a catalog naming live
        // versions whose key files were gone, and the vault no longer opened (F2 review, second round, F3).
        for version in retired ?? [] { removeKeyFiles(of: version) }
        return retired
    }
}

extension VaultLayout {
    /// The lock a rotation holds from start to finish, audit key handover included.
    var rotationLock: URL { keys.appending(path: ".rotation.lock") }
}

extension Vault {
    /// An age identity file holding the unlocked vault identities (one line per key version, commented), for
    /// deployments that supply `MODELVAULT_IDENTITY_FILE` instead of the passphrase. The text is a secret.
    public func identityFile() throws -> String {
        let recipients = try catalog.read { db in try KeyVersionRow.live(db) }
        var lines = ["# ModelVault vault identities: keep secret (mode 0600)."]
        for row in recipients.reversed() {
            guard let identity = keyRing.identities[row.version] else { continue }
            lines.append("# key version \(row.version), recipient: \(row.recipient)")
            lines.append(identity)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// An exclusive advisory lock (`flock`) on a file in the vault's key directory, held for one rotation. It is
/// taken by polling with `LOCK_NB`, so a waiting rotation never blocks a cooperative thread, and the kernel
/// releases it if the holding process dies.
struct RotationLock {
    private let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    static func acquire(at path: String) async throws -> RotationLock {
        let descriptor = try openLockFile(path)
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let failure = errno
            guard failure == EWOULDBLOCK || failure == EINTR else {
                close(descriptor)
                throw VaultError.storage("cannot lock the rotation lock file")
            }
            do {
                try await Task.sleep(for: .milliseconds(20))
            } catch {
                close(descriptor)
                throw error
            }
        }
        return RotationLock(descriptor: descriptor)
    }

    /// The lock if no rotation holds it now, else `nil` (never waits). A lock file that cannot be opened or locked
    /// is an error, not "a rotation holds it": something planted in its place (a link, a directory) made every open
    /// skip finishing a stopped audit key handover, so the retired audit key went on signing (F2 review, round 2, F5).
    static func tryAcquire(at path: String) throws -> RotationLock? {
        let descriptor = try openLockFile(path)
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let failure = errno
            close(descriptor)
            guard failure == EWOULDBLOCK || failure == EINTR else {
                throw VaultError.storage("cannot lock keys/.rotation.lock")
            }
            return nil
        }
        return RotationLock(descriptor: descriptor)
    }

    /// Opens (creating) the lock file, which must be a regular file: never a link followed or another kind of file.
    private static func openLockFile(_ path: String) throws -> Int32 {
        let descriptor = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0o600)
        guard descriptor >= 0 else {
            throw VaultError(
                .tampered, "keys/.rotation.lock cannot be opened as a regular file (a link or a directory?); remove it")
        }
        // A regular file of this user's with one link: one planted by someone else (whose process can hold the lock
        // for good) is refused too.
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG, status.st_uid == geteuid(),
            status.st_nlink == 1
        else {
            close(descriptor)
            throw VaultError(
                .tampered, "keys/.rotation.lock is not a regular file of this user's with one link; remove it")
        }
        return descriptor
    }

    /// Unlocks and closes (closing alone would also unlock). Call exactly once.
    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
