import AuditLog
public import Foundation

extension Vault {
    /// Every record of this vault's state that fails authentication, one line each naming it
    /// (`table[column=value]: why`, or `keys/audit.age`); empty when the whole state verifies.
    public func checkState() throws -> [String] {
        try catalog.problems().map(\.description) + auditKeyProblems()
    }

    /// Unlocks the vault at `root` even when its state fails authentication and lists every bad record: catalog
    /// rows, the signing and audit key files, `vault.json`, and a catalog older than the newest state the audit log
    /// records or than this host's `highWaterMark` (the whole directory rolled back) (`modelvault vault check`).
    public static func checkState(
        at root: URL, unlockingWith unlock: VaultUnlock, highWaterMark: HighWaterMark? = nil
    ) async throws -> [String] {
        try await checkState(
            at: root, unlockingWith: unlock, suite: defaultCipherSuite, signer: defaultManifestSigner,
            highWaterMark: highWaterMark)
    }

    static func checkState(
        at root: URL, unlockingWith unlock: VaultUnlock, suite: any VaultCipherSuite, signer: any VaultManifestSigner,
        highWaterMark: HighWaterMark? = nil
    ) async throws -> [String] {
        let (vault, problems) = try Vault.unlock(at: root, unlockingWith: unlock, suite: suite, signer: signer)
        return try await problems.map(\.description) + vault.auditKeyProblems()
            + vault.rollbackProblems(highWaterMark: highWaterMark)
    }

    /// The rollback checks every token-holding command makes at open, as problems: the catalog against the newest
    /// state the audit log records, and the catalog and log against this host's high-water mark.
    private func rollbackProblems(highWaterMark: HighWaterMark?) async -> [String] {
        var problems: [String] = []
        let current: LoggedState?
        do {
            current = try catalog.unverifiedRead { db in try CatalogState.root(db) }.map {
                LoggedState(sequence: $0.sequence, digest: $0.digest)
            }
        } catch {
            return ["catalog.sqlite: its state root cannot be read"]
        }
        guard let current else { return [] }  // a missing root is already listed by the state check
        // The states the log records, from records bound to the audit key as the open path reads them (review 6:
        // records planted or rewritten in the file made a rolled-back catalog check clean).
        if let records = await checkedAuditRecords(&problems) {
            do {
                _ = try VaultAccess.checkAgainstLog(current: current, records: records, directory: layout.audit)
            } catch let error as VaultError {
                problems.append(error.description)
            } catch {
                problems.append("audit/: the log cannot be read")
            }
        }
        if let highWaterMark {
            // As every open checks first (a vault forged around a retired identity).
            do {
                try checkRootNotRetired(by: highWaterMark)
            } catch let error as VaultError {
                problems.append(error.description)
            } catch {
                problems.append(
                    "\(highWaterMark.directory.path(percentEncoded: false)): the retired key versions cannot be read")
            }
            let logSize = (try? AuditLogReader(directory: layout.audit).records().count).map { UInt64($0) }
            do {
                try highWaterMark.check(state: current, logSize: logSize, key: highWaterKey())
            } catch let error as VaultError {
                problems.append(error.description)
            } catch {
                problems.append(
                    "\(highWaterMark.directory.path(percentEncoded: false)): the high-water mark cannot be read")
            }
        }
        return problems
    }

    /// Refuses a vault opened with a root of trust from a key version a `--reencrypt` on this host retired. The root
    /// is the newest held version's (an identity-file open may hold older versions only, whatever the catalog lists);
    /// its recipient is taken from the identity, which every unlock matched to the catalog's, so a tampered catalog
    /// is not read again here.
    func checkRootNotRetired(by highWaterMark: HighWaterMark) throws {
        guard let rootVersion = keyRing.identities.keys.max(), let identity = keyRing.identities[rootVersion] else {
            return
        }
        try highWaterMark.checkNotRetired(recipient: try suite.recipient(ofIdentity: identity))
    }

    /// The audit key file checked against its pin. The pin is read unverified here so a bad catalog does not hide
    /// a bad key file; the catalog check covers the pin itself.
    private func auditKeyProblems() throws -> [String] {
        do {
            _ = try auditSigningKey(
                pinned: try catalog.unverifiedRead { db in try TrustPin.value(.auditPublicKey, db) })
            return []
        } catch let error as VaultError where error.code == .tampered {
            return [error.description]
        }
    }
}

extension Vault {
    /// The audit log's records, each bound to the audit key (``AuditLogReader/checkedRecords(keys:signer:known:)``),
    /// or `nil` with a problem naming why not (the log's content then decides nothing here).
    fileprivate func checkedAuditRecords(_ problems: inout [String]) async -> [AuditRecord]? {
        let keys: AuditKeyChain
        let signer: NoteSigner
        do {
            let key = try auditSigningKey()
            let pins = try auditKeyPins()
            let origin = pins.origin ?? Vault.auditOrigin(for: key.publicKey)
            keys = try AuditKeyChain(
                current: try NoteVerifier(name: origin, publicKey: key.publicKey), retired: pins.retired)
            signer = try NoteSigner(name: origin, key: key)
        } catch {
            // The pins live in the catalog: when it does not verify, that is already listed, and nothing is compared.
            return nil
        }
        do {
            return try AuditLogReader(directory: layout.audit).checkedRecords(keys: keys, signer: signer)
        } catch {
            problems.append(
                "audit/: the log does not check against its signed checkpoints and record seals (\(error)); "
                    + "the catalog's state cannot be compared with it (run `modelvault audit verify`)")
            return nil
        }
    }
}
