public import AccessControl
public import AuditLog
import Crypto
public import Foundation
import Synchronization

/// The front door of a vault: authenticates API tokens, authorises every operation with
/// `AccessControl.Policy` (deny by default) and appends every attempt, allowed or denied, to the vault's
/// audit log under `<vault>/audit/`. The CLI and the server share it, so they share one policy.
///
/// Open one per process (the server) or per run (the CLI), then get a ``VaultSession`` per caller.
public final class VaultAccess: Sendable {
    /// The unlocked vault behind the door.
    let vault: Vault
    /// The audit log, or `nil` when it could not be opened (then only `audit verify` runs).
    let log: AuditLog?
    /// Why the log could not be opened.
    let damage: String?
    /// The audit log's key chain: the current checkpoint key and the retired ones (changes at a `--reencrypt`
    /// rotation).
    let keys: Mutex<AuditKeyChain>
    /// The entry ids pods forwarded, so a retried `audit.append` is recorded once.
    let appendedEntries = AuditAppendDeduplication()
    /// The verifier of the vault's checkpoints (the current audit key).
    public var verifier: NoteVerifier { keys.withLock { $0.current } }
    /// The audit log's key chain (see ``AuditKeyChain``): what verifies checkpoints made before a rotation.
    public var keyChain: AuditKeyChain { keys.withLock { $0 } }
    /// The newest catalog state recorded in the log, by this process or found there at open.
    let loggedState: Mutex<LoggedState?>
    /// The host's high-water mark for this vault and the key its mark is MAC'd with, when one is kept.
    var highWater: (mark: HighWaterMark, key: SymmetricKey)? { highWaterState.withLock { $0 } }
    /// Changes when a `--reencrypt` rotation makes a new root of trust (the mark key derives from it).
    let highWaterState: Mutex<(mark: HighWaterMark, key: SymmetricKey)?>
    /// The witnesses configured for the vault, with the transport reaching each (none without a connector).
    let witnesses: [(VaultWitness, WitnessEndpoint)]
    /// How this process reaches witnesses (`nil`: it does not).
    let witnessConnector: WitnessConnector?
    /// Background cosigning (a server), cancelled at close.
    let cosigning: Mutex<Task<Void, Never>?>
    /// Witnesses that could not be reached when the vault was opened.
    public let unreachableWitnesses: [String]

    private init(
        vault: Vault, log: AuditLog?, damage: String?, keys: AuditKeyChain, loggedState: LoggedState?,
        highWater: (mark: HighWaterMark, key: SymmetricKey)?, witnesses: [(VaultWitness, WitnessEndpoint)],
        witnessConnector: WitnessConnector?, unreachableWitnesses: [String], cosigning: Task<Void, Never>?
    ) {
        self.vault = vault
        self.log = log
        self.damage = damage
        self.keys = Mutex(keys)
        self.loggedState = Mutex(loggedState)
        self.highWaterState = Mutex(highWater)
        self.witnesses = witnesses
        self.witnessConnector = witnessConnector
        self.unreachableWitnesses = unreachableWitnesses
        self.cosigning = Mutex(cosigning)
    }

    /// Opens access control and the audit log of an unlocked vault.
    ///
    /// - Parameters:
    ///   - checkpointInterval: entries between signed checkpoints; the CLI uses 1 (every run ends signed), a server
    ///     a larger batch.
    ///   - highWaterMark: where this host keeps the newest state it saw the vault reach; a vault found below it was
    ///     rolled back (catalog and log together). `nil`: no mark (tests that do not test it).
    ///   - witnessConnector: how to reach the vault's configured witnesses (`audit witness add`). Each is asked at
    ///     open whether it holds a newer or another tree than the log (then the open is refused: the vault directory
    ///     was rolled back), and is sent the final checkpoint at ``close()``. `nil`: witnesses are not consulted.
    ///   - cosignEvery: with witnesses, also cosign in the background every this often or every
    ///     `checkpointInterval` entries (a long-running server); appends never wait for it.
    public static func open(
        _ vault: Vault, checkpointInterval: UInt64 = 1, highWaterMark: HighWaterMark? = nil,
        witnessConnector: WitnessConnector? = nil, cosignEvery: Duration? = nil
    ) async throws -> VaultAccess {
        // Before anything is read from the vault: the root must not come from a version a `--reencrypt` retired here.
        if let highWaterMark { try await vault.checkRootNotRetired(by: highWaterMark) }
        var key = try await vault.auditSigningKey()
        let pins = try await vault.auditKeyPins()
        // The origin is pinned apart from the key (vaults from before the pin: derived from their only key).
        let origin = pins.origin ?? Vault.auditOrigin(for: key.publicKey)
        let layout = vault.layout
        try VaultFiles.makeDirectory(layout.audit, permissions: 0o700)
        var keys = try AuditKeyChain(
            current: try NoteVerifier(name: origin, publicKey: key.publicKey), retired: pins.retired)
        var pendingHandover: Curve25519.Signing.PrivateKey?
        // A rotation under way (its lock held) hands over itself, at its end; only a stopped one is finished here.
        let stoppedRotation = pins.next == nil ? nil : try RotationLock.tryAcquire(at: layout.rotationLock.path)
        defer { stoppedRotation?.release() }
        if let next = pins.next, stoppedRotation != nil {
            // A rotation stopped mid-handover: finish it, whether or not the log already holds the handover.
            let nextKey = try await vault.nextAuditKey(pinned: next)
            if let size = try handoverSize(in: layout.audit, from: keys.current, to: nextKey, origin: origin) {
                try await vault.commitAuditKeyHandover(to: nextKey, retiring: keys.current, handoverSize: size)
                keys = try AuditKeyChain(
                    current: try NoteVerifier(name: origin, publicKey: nextKey.publicKey),
                    retired: keys.retired + [.init(verifier: keys.current, handoverSize: size)])
                key = nextKey
            } else {
                pendingHandover = nextKey
            }
        }
        try writeVerifierKey(keys.current, layout: layout)
        // Catalog and log restored together are caught against the mark this host keeps outside the directory.
        var highWater: (mark: HighWaterMark, key: SymmetricKey)?
        if let highWaterMark {
            highWater = (highWaterMark, await vault.highWaterKey())
        }
        // Read before the log is opened and the state read: another process raises the mark only after its entries
        // and its commit are durable, so what this process then reads is at least that (never a false rollback).
        let markAtOpen = try highWater.flatMap { try $0.mark.read(key: $0.key) }
        var log: AuditLog?
        var damage: String?
        do {
            log = try AuditLog(
                directory: layout.audit, signer: key, origin: origin, checkpointInterval: checkpointInterval,
                retired: keys.retired)
            damage = nil
        } catch {
            (log, damage) = (nil, String(describing: error))
        }
        // The states the log recorded, read from records bound to the audit key (signed root or seal): a record's
        // text swapped under the hash stored beside it would otherwise hide a newer state (review 6).
        var records: [AuditRecord]?
        if let opened = log {
            do {
                records = try await opened.checkedRecords()
            } catch {
                try? await opened.close()
                (log, damage) = (nil, String(describing: error))
            }
        }
        // A catalog restored with its state root from an older copy is caught against the states the log recorded.
        let logged: LoggedState?
        do {
            logged = try checkAgainstLog(vault, records: records, directory: layout.audit)
        } catch {
            try? await log?.close()
            throw error
        }
        if let pendingHandover, let log {
            keys = try await handOver(
                log, to: pendingHandover, vault: vault, principal: "modelvault", requestID: UUID().uuidString)
        }
        if let highWater, let state = try currentState(vault) {
            let logSize = await log?.size
            try highWater.mark.check(state: state, logSize: logSize, against: markAtOpen, key: highWater.key)
            try highWater.mark.raise(
                to: HighWaterMark.Mark(state: state, logSize: logSize ?? 0), key: highWater.key)
            if let mark = try highWater.mark.read(key: highWater.key) { vault.catalog.floor.raise(to: mark.state) }
        }
        // From here on every read of this process refuses a catalog older than what the log and the mark hold.
        if let logged { vault.catalog.floor.raise(to: logged) }
        var witnesses: [(VaultWitness, WitnessEndpoint)] = []
        var unreachable: [String] = []
        var cosigning: Task<Void, Never>?
        if let witnessConnector, let log {
            for witness in try vault.catalog.read({ db in try WitnessPins.all(db) }) {
                witnesses.append(
                    (witness, WitnessEndpoint(verifier: witness.verifier, transport: try witnessConnector(witness))))
            }
            do {
                unreachable = try await checkWitnesses(witnesses, log: log)
            } catch {
                try? await log.close()
                throw error
            }
            if let cosignEvery, !witnesses.isEmpty {
                cosigning = log.cosignContinuously(
                    with: witnesses.map(\.1), every: cosignEvery, orEntries: checkpointInterval)
            }
        }
        if let log { try await UnlockFailures.drain(layout, into: log) }
        return VaultAccess(
            vault: vault, log: log, damage: damage, keys: keys, loggedState: logged, highWater: highWater,
            witnesses: witnesses, witnessConnector: witnessConnector, unreachableWitnesses: unreachable,
            cosigning: cosigning)
    }

    /// Whether the vault has any principal yet (a vault made before access control has none).
    public func hasPrincipals() throws -> Bool {
        try vault.catalog.read { db in try !AccessCatalog.principals(db).isEmpty }
    }

    /// Creates the first principal, a global `admin`, and returns its token (shown once). Refused once any
    /// principal exists.
    ///
    /// - Parameter lifetime: seconds until the token expires (90 days unless given), or `nil` for a token that does
    ///   not.
    public func bootstrap(
        admin name: String = "admin", lifetime: TimeInterval? = TokenLifetime.default,
        requestID: String = UUID().uuidString
    ) async throws
        -> IssuedToken
    {
        try VaultNames.validate(name, kind: "principal name")
        let generated = APIToken.generate()
        try vault.catalog.write { db in
            guard try AccessCatalog.principals(db).isEmpty else {
                throw VaultError(
                    .vaultExists,
                    "this vault already has principals; ask an admin for a token (or, holding the passphrase, "
                        + "use `user bootstrap --break-glass`)")
            }
            let id = try AccessCatalog.addPrincipal(name, kind: .person, db)
            try AccessCatalog.grant(RoleBinding(role: .admin), to: id, db)
            try AccessCatalog.storeToken(
                generated.hash, principal: id, expiresAt: lifetime.map { Date().addingTimeInterval($0) }, db)
        }
        try await self.record(
            principal: name, action: Action.vaultInit.rawValue, resource: "vault", outcome: .allowed,
            requestID: requestID, detail: "first admin created")
        try await recordState(requestID: requestID)
        let info = try vault.catalog.read { db in try AccessCatalog.tokens(db) }.first { $0.id == generated.hash.id }!
        return IssuedToken(token: generated.token, info: info)
    }

    /// The longest a break-glass admin token may live (7 days).
    public static let maximumBreakGlassLifetime: TimeInterval = 7 * 86_400

    /// Break-glass recovery: mints an admin token for `name` (created, or given global `admin`, if need be)
    /// with an expiry, and records it in the audit log as `user.break-glass`.
    ///
    /// Needs no token, only this unlocked vault: whoever holds the passphrase or identity is admin (DESIGN.md,
    /// "local mode is break-glass"), and this is the way back when every admin token is lost or revoked.
    ///
    /// - Parameter lifetime: seconds until the token expires; more than 0 and at most
    ///   ``maximumBreakGlassLifetime``.
    public func breakGlass(
        admin name: String = "admin", lifetime: TimeInterval, requestID: String = UUID().uuidString
    ) async throws -> IssuedToken {
        try VaultNames.validate(name, kind: "principal name")
        guard lifetime > 0, lifetime <= Self.maximumBreakGlassLifetime else {
            throw VaultError(.invalidName, "a break-glass token must expire within 7 days")
        }
        let generated = APIToken.generate()
        let expiresAt = Date().addingTimeInterval(lifetime)
        // Audited first (fail closed): no token is minted that the log does not show.
        try await record(
            principal: name, action: "user.break-glass", resource: "principal:\(name)", outcome: .allowed,
            requestID: requestID,
            detail: "admin token \(generated.hash.id) minted with the unlocking secret, expires "
                + AccessTime.format(expiresAt))
        try vault.catalog.write { db in
            let id = try AccessCatalog.principalID(name, db) ?? AccessCatalog.addPrincipal(name, kind: .person, db)
            try AccessCatalog.grant(RoleBinding(role: .admin), to: id, db)
            try AccessCatalog.storeToken(generated.hash, principal: id, expiresAt: expiresAt, db)
        }
        let info = try vault.catalog.read { db in try AccessCatalog.tokens(db) }.first { $0.id == generated.hash.id }!
        return IssuedToken(token: generated.token, info: info)
    }

    /// Authenticates an API token and returns a session for its principal.
    ///
    /// Malformed, unknown, expired and revoked tokens are refused (`AccessControlError`) and the refusal is
    /// audited (as `anonymous` when no principal is known). The token itself is never stored or logged.
    public func authenticate(
        token: String, requestID: String = UUID().uuidString, clientAddress: String? = nil
    ) async throws -> VaultSession {
        let presented = APIToken.hash(token)
        let stored = try vault.catalog.read { db in
            APIToken.isWellFormed(token) ? try AccessCatalog.tokenRecord(id: presented.id, db) : nil
        }
        guard let stored, stored.matches(presented) else {
            try await self.record(
                principal: "anonymous", action: "auth.token", resource: "vault", outcome: .denied,
                requestID: requestID, clientAddress: clientAddress,
                detail: AccessControlError.invalidToken.description)
            throw AccessControlError.invalidToken
        }
        let record = stored
        do {
            try record.checkUsable()
        } catch {
            try await self.record(
                principal: record.principal, action: "auth.token", resource: "token:\(record.id)", outcome: .denied,
                requestID: requestID, clientAddress: clientAddress, detail: String(describing: error))
            throw error
        }
        let bindings = try vault.catalog.read { db in
            try AccessCatalog.bindings(ofPrincipal: try AccessCatalog.requirePrincipal(record.principal, db), db)
        }
        return VaultSession(
            access: self, caller: Caller(principal: record.principal, bindings: bindings, tokenID: record.id),
            context: RequestContext(principal: record.principal, requestID: requestID), clientAddress: clientAddress)
    }

    /// What opening the audit log adopted after a writer that did not close, if anything.
    public var auditRecovery: AuditRecovery? { log?.recovery }

    /// Writes a final checkpoint and releases the log.
    public func close() async throws {
        cosigning.withLock { task in
            task?.cancel()
            task = nil
        }
        // The mark is raised to the catalog's state whatever else fails: a state left out of the log must still be
        // known on this host (review 8).
        var failure: (any Error)?
        do {
            try await recordState(requestID: UUID().uuidString)
            if let log, !witnesses.isEmpty {
                // The witnesses learn this run's final head, so a later rollback to before it is caught.
                for (_, endpoint) in witnesses { _ = await log.submit(to: endpoint) }
            }
            try await log?.close()
        } catch {
            failure = error
        }
        if let highWater, let log, let state = try Self.currentState(vault) {
            try highWater.mark.raise(
                to: HighWaterMark.Mark(state: state, logSize: await log.size), key: highWater.key)
        }
        if let failure { throw failure }
    }

    /// Appends one entry; refuses (fail closed) when the log is damaged.
    func record(
        principal: String, action: String, resource: String, outcome: AuditEntry.Outcome, requestID: String,
        clientAddress: String? = nil, detail: String? = nil
    ) async throws {
        guard let log else {
            throw VaultError(
                .tampered, "the audit log cannot be opened (\(damage ?? "unknown")); run `modelvault audit verify`")
        }
        _ = try await log.append(
            AuditEntry(
                principal: principal, action: action, resource: resource, outcome: outcome, requestID: requestID,
                clientAddress: clientAddress, detail: detail))
    }

    /// Records several entries of one principal and request in one durable append (nothing when `entries` is empty).
    func record(
        entries: [(action: String, resource: String, outcome: AuditEntry.Outcome, detail: String?)], principal: String,
        requestID: String, clientAddress: String?
    ) async throws {
        guard !entries.isEmpty else { return }
        guard let log else {
            throw VaultError(
                .tampered, "the audit log cannot be opened (\(damage ?? "unknown")); run `modelvault audit verify`")
        }
        _ = try await log.append(
            contentsOf: entries.map {
                AuditEntry(
                    principal: principal, action: $0.action, resource: $0.resource, outcome: $0.outcome,
                    requestID: requestID, clientAddress: clientAddress, detail: $0.detail)
            })
    }
}
