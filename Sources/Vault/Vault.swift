import BlockingWork
import Crypto
public import Foundation
import GRDB
import VaultCrypto

/// How to unlock a vault's keys.
public enum VaultUnlock: Sendable {
    /// The vault passphrase (decrypts `keys/identity-v*.age` with scrypt).
    case passphrase(String)
    /// Passphrases each key file may open with, the first the one in use: a resumed `keys rotate --reencrypt` gives
    /// the old and the new one, since the rotation seals its new key version under the new passphrase from its first
    /// transaction and the older versions under the new one only at its end.
    case passphrases([String])
    /// The text of an age identity file holding the vault identity of one or more key versions, as a
    /// Kubernetes Secret mount supplies it; the signing key is then decrypted with that identity.
    case identities(String)
}

/// An encrypted, signed, versioned registry of models and datasets in one directory.
///
/// Open one with ``Vault/create(at:passphrase:postQuantum:)`` or ``Vault/open(at:unlockingWith:)``. Several
/// `Vault` instances, in one process or many, may work on the same directory at once: the catalog serialises
/// version allocation and every version appears atomically.
public actor Vault {
    /// The vault directory.
    public nonisolated let root: URL
    let layout: VaultLayout
    let catalog: Catalog
    let suite: any VaultCipherSuite
    let signer: any VaultManifestSigner
    let configuration: VaultConfiguration
    /// Unlocked identities by key version, plus the signing key.
    var keyRing: KeyRing
    /// The actor's executor: its methods read SQLite and files and decrypt whole files, so they run one at a time
    /// on the blocking pool's threads, never on the cooperative pool.
    private nonisolated let executor = SerialBlockingExecutor()

    /// Part of `Actor`: the vault's jobs run on ``executor``.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// Whether the vault's isolated code is running on a blocking-pool thread (what the tests check).
    var isRunningOnTheBlockingPool: Bool { BlockingExecutor.isCurrentThreadAWorker }

    /// Whether a nonisolated async function the vault calls (as `stage` is) runs on a blocking-pool thread.
    func isNonisolatedWorkOnTheBlockingPool() async -> Bool { await Self.probeNonisolated() }

    private nonisolated static func probeNonisolated() async -> Bool { BlockingExecutor.isCurrentThreadAWorker }

    /// The scrypt work factor (log2 N) for key files; tests lower it.
    static let defaultWorkFactor = 18

    init(
        layout: VaultLayout, catalog: Catalog, suite: any VaultCipherSuite, signer: any VaultManifestSigner,
        configuration: VaultConfiguration, keyRing: KeyRing
    ) {
        self.root = layout.root
        self.layout = layout
        self.catalog = catalog
        self.suite = suite
        self.signer = signer
        self.configuration = configuration
        self.keyRing = keyRing
    }

    /// Creates a vault at `root` (which must not hold one): the layout, the catalog, a vault identity
    /// (X25519, or ML-KEM-768+X25519 when `postQuantum`) and an ECDSA P-256 signing key, both encrypted
    /// under `passphrase`, which must meet ``PassphrasePolicy`` (else `VaultError.weakPassphrase`).
    public static func create(at root: URL, passphrase: String, postQuantum: Bool = false) throws -> Vault {
        try PassphrasePolicy.check(passphrase)
        return try create(
            at: root, passphrase: passphrase, postQuantum: postQuantum, workFactor: defaultWorkFactor,
            suite: defaultCipherSuite, signer: defaultManifestSigner)
    }

    /// Opens the vault at `root` and unlocks its keys.
    public static func open(at root: URL, unlockingWith unlock: VaultUnlock) throws -> Vault {
        try open(at: root, unlockingWith: unlock, suite: defaultCipherSuite, signer: defaultManifestSigner)
    }

    static func create(
        at root: URL, passphrase: String, postQuantum: Bool, workFactor: Int, suite: any VaultCipherSuite,
        signer: any VaultManifestSigner
    ) throws -> Vault {
        let final = VaultLayout(root: root)
        guard !VaultFiles.exists(final.configuration) else {
            throw VaultError(.vaultExists, "a vault already exists at \(root.path(percentEncoded: false))")
        }
        guard !passphrase.isEmpty else { throw VaultError(.wrongPassphrase, "the vault passphrase is empty") }
        let manager = FileManager.default
        if manager.fileExists(atPath: root.path(percentEncoded: false)) {
            guard (try? manager.contentsOfDirectory(atPath: root.path(percentEncoded: false)))?.isEmpty == true else {
                throw VaultError(.vaultExists, "\(root.path(percentEncoded: false)) exists and is not an empty vault")
            }
        }
        // Built in a sibling directory and renamed into place: a failed init leaves nothing behind.
        let parent = root.deletingLastPathComponent()
        try VaultFiles.makeDirectory(parent)
        let building = VaultLayout(
            root: parent.appending(path: ".\(root.lastPathComponent).creating-\(UUID().uuidString)"))
        do {
            let (keyRing, configuration) = try populate(
                building, passphrase: passphrase, postQuantum: postQuantum, workFactor: workFactor, suite: suite,
                signer: signer)
            if manager.fileExists(atPath: root.path(percentEncoded: false)) { try? manager.removeItem(at: root) }
            try VaultFiles.move(building.root, to: root)
            return Vault(
                layout: final, catalog: try Catalog(url: final.catalog).authenticated(by: keyRing.trust), suite: suite,
                signer: signer, configuration: configuration, keyRing: keyRing)
        } catch {
            VaultFiles.remove(building.root)
            throw error
        }
    }

    /// Writes a complete vault into `layout`; the catalog is closed again on return.
    private static func populate(
        _ layout: VaultLayout, passphrase: String, postQuantum: Bool, workFactor: Int, suite: any VaultCipherSuite,
        signer: any VaultManifestSigner
    ) throws -> (KeyRing, VaultConfiguration) {
        try VaultFiles.makeDirectory(layout.root, permissions: 0o700)
        for directory in layout.directories {
            try VaultFiles.makeDirectory(directory, permissions: directory == layout.keys ? 0o700 : 0o755)
        }
        let identity = try suite.generateIdentity(postQuantum: postQuantum)
        let recipient = try suite.recipient(ofIdentity: identity)
        let signingKey = signer.generateSigningKey()
        let publicKey = try signer.publicKey(ofSigningKey: signingKey)
        let trust = TrustRoot.generate()
        let auditKey = Curve25519.Signing.PrivateKey()
        try VaultFiles.writeAtomically(
            try trust.sealed(forIdentity: identity, version: 1), to: layout.rootFile(version: 1), permissions: 0o600)
        try VaultFiles.writeAtomically(
            try suite.encrypt(auditKey.rawRepresentation, to: [recipient]), to: layout.auditKeyFile,
            permissions: 0o600)
        try VaultFiles.writeAtomically(
            try suite.seal(Data(identity.utf8), passphrase: passphrase, workFactor: workFactor),
            to: layout.identityFile(version: 1), permissions: 0o600)
        try VaultFiles.writeAtomically(
            try suite.seal(Data(signingKey.utf8), passphrase: passphrase, workFactor: workFactor),
            to: layout.signingKeyFile, permissions: 0o600)
        try VaultFiles.writeAtomically(
            try suite.encrypt(Data(signingKey.utf8), to: [recipient]), to: layout.signingKeyFile(version: 1),
            permissions: 0o600)
        let configuration = VaultConfiguration(
            formatVersion: VaultConfiguration.currentFormat, createdAt: CatalogTime.now(), postQuantum: postQuantum,
            signingPublicKey: publicKey)
        try configuration.write(to: layout.configuration)
        try VaultFiles.writeAtomically(
            Data(VerificationKey(keyVersion: 1, publicKeyPEM: publicKey).encoded().utf8), to: layout.verificationKey)
        // The pins live in the authenticated catalog: vault.json and the age key files are only checked against them.
        try Catalog(url: layout.catalog).authenticated(by: trust).initialize { db in
            try KeyVersionRow.insert(version: 1, recipient: recipient, db)
            try TrustPin.set(.signingPublicKey, to: publicKey, db)
            try TrustPin.set(.auditPublicKey, to: Array(auditKey.publicKey.rawRepresentation).hexString, db)
            try TrustPin.set(.auditOrigin, to: Vault.auditOrigin(for: auditKey.publicKey), db)
            try TrustPin.set(.configuration, to: try configuration.pinDigest(), db)
        }
        let keyRing = KeyRing(
            identities: [1: identity], signingKey: signingKey, signingPublicKey: publicKey, trust: trust)
        return (keyRing, configuration)
    }

    static func open(
        at root: URL, unlockingWith unlock: VaultUnlock, suite: any VaultCipherSuite, signer: any VaultManifestSigner
    ) throws -> Vault {
        let vault: Vault
        let problems: [StateProblem]
        do {
            (vault, problems) = try Self.unlock(at: root, unlockingWith: unlock, suite: suite, signer: signer)
        } catch let error as VaultError where error.code == .wrongPassphrase || error.code == .identityMismatch {
            // Recorded unauthenticated (no key yet); folded into the signed log at the next successful open.
            UnlockFailures.record(
                VaultLayout(root: root),
                kind: error.code == .wrongPassphrase ? "wrong-passphrase" : "identity-mismatch")
            throw error
        }
        guard problems.isEmpty else { throw CatalogState.error(problems) }
        try vault.recoverAfterCrash()
        return vault
    }

    /// Unlocks the vault at `root` and verifies its state against the root of trust, returning every bad record
    /// (catalog rows, key files, `vault.json`) instead of refusing: ``open(at:unlockingWith:suite:signer:)`` refuses
    /// any, `vault check` lists them.
    ///
    /// `versionsReadEarlier` is a test hook: the key versions another process's rotation has since retired, as if
    /// read just before it finished.
    static func unlock(
        at root: URL, unlockingWith unlock: VaultUnlock, suite: any VaultCipherSuite, signer: any VaultManifestSigner,
        versionsReadEarlier: [Int]? = nil
    ) throws -> (Vault, [StateProblem]) {
        let layout = VaultLayout(root: root)
        var configuration = try VaultConfiguration.read(from: layout.configuration)
        let unverified = try Catalog(url: layout.catalog)
        // A `keys rotate` in another process may finish between reading the key versions and opening their files,
        // deleting the files of the versions it retires: when the list has changed since, start again from it.
        var stale = versionsReadEarlier
        var attempt = 0
        while true {
            attempt += 1
            let versions = try unverified.unverifiedRead { db in
                if let stale {
                    try KeyVersionRow.all(db).filter { stale.contains($0.version) }
                } else {
                    try KeyVersionRow.live(db)
                }
            }
            stale = nil
            let result: (Vault, [StateProblem])
            do {
                result = try Self.unlock(
                    layout: layout, configuration: configuration, unverified: unverified, versions: versions,
                    unlockingWith: unlock, suite: suite,
                    signer: signer)
            } catch let error as VaultError
                where attempt < 4 && [.keyUnavailable, .tampered, .wrongPassphrase].contains(error.code)
            {
                guard try Self.keyVersionsChanged(since: versions, in: unverified) else { throw error }
                configuration = try VaultConfiguration.read(from: layout.configuration)
                continue
            }
            if !result.1.isEmpty, attempt < 4, try Self.keyVersionsChanged(since: versions, in: unverified) {
                configuration = try VaultConfiguration.read(from: layout.configuration)
                continue
            }
            return result
        }
    }

    private static func keyVersionsChanged(since versions: [KeyVersionRow], in catalog: Catalog) throws -> Bool {
        try catalog.unverifiedRead { db in try KeyVersionRow.live(db) }.map(\.version) != versions.map(\.version)
    }

    private static func unlock(
        layout: VaultLayout, configuration: VaultConfiguration, unverified: Catalog, versions: [KeyVersionRow],
        unlockingWith unlock: VaultUnlock, suite: any VaultCipherSuite, signer: any VaultManifestSigner
    ) throws -> (Vault, [StateProblem]) {
        // Unverified, but only used to choose key files: each must open with the passphrase or a supplied identity.
        guard !versions.isEmpty else { throw VaultError.storage("the catalog lists no key version") }
        var identities: [Int: String] = [:]
        switch unlock {
        case .passphrase, .passphrases:
            let passphrases: [String] =
                switch unlock {
                case .passphrase(let passphrase): [passphrase]
                case .passphrases(let list): list
                case .identities: []
                }
            for row in versions {
                let file = layout.identityFile(version: row.version)
                guard
                    FileManager.default.fileExists(atPath: file.path)
                        || passphrases.contains(where: { Self.openStaged(file, passphrase: $0, suite: suite) != nil })
                else {
                    throw VaultError(.keyUnavailable, "the key file of vault key version \(row.version) is missing")
                }
                // The key file itself with every passphrase first, then a staged re-seal: a planted staged file
                // under the old passphrase must not shadow the genuine file under the new one (F2 review, 4).
                let sealed = FileManager.default.contents(atPath: file.path)
                guard
                    let identity = passphrases.lazy.compactMap({ passphrase in
                        sealed.flatMap { try? suite.open($0, passphrase: passphrase) }
                    }).first
                        ?? passphrases.lazy.compactMap({ Self.openStaged(file, passphrase: $0, suite: suite) }).first
                else {
                    // Unverified, for the message only: a `--reencrypt` sealed its new version under the new
                    // passphrase (review 8, F2).
                    let rotating = try? unverified.unverifiedRead { db in
                        try RotationRow.hasUnfinishedReencrypting(targeting: row.version, db)
                    }
                    if rotating == true {
                        throw VaultError(
                            .wrongPassphrase,
                            "a `keys rotate --reencrypt` is unfinished: its new key version opens only with the new passphrase; resume it with `keys rotate --reencrypt`"
                        )
                    }
                    throw VaultError(.wrongPassphrase, "wrong vault passphrase")
                }
                // Each key version has an identity of its own: a file holding another version's is refused here,
                // as the identity-file path refuses it (review 8, F8).
                guard (try? suite.recipient(ofIdentity: String(decoding: identity, as: UTF8.self))) == row.recipient
                else {
                    throw VaultError(.tampered, "keys/\(file.lastPathComponent) holds another key version's identity")
                }
                identities[row.version] = String(decoding: identity, as: UTF8.self)
            }
        case .identities(let text):
            let supplied = try suite.parseIdentities(text)
            for identity in supplied {
                let recipient = try suite.recipient(ofIdentity: identity)
                if let row = versions.first(where: { $0.recipient == recipient }) { identities[row.version] = identity }
            }
            guard !identities.isEmpty else {
                throw VaultError(.identityMismatch, "the identity file holds no identity of this vault")
            }
        }
        // The root of trust is the newest held key version's. A plain rotation seals the same root for the new version;
        // a `--reencrypt` rotation seals a fresh one and re-authenticates the whole state under it in the transaction
        // that creates the version, so an older version's root (what a holder of a compromised identity can open)
        // verifies nothing after that commit.
        let newest = identities.keys.max()!
        let file = layout.rootFile(version: newest)
        let trust: TrustRoot? = try TrustRoot.open(
            FileManager.default.contents(atPath: file.path(percentEncoded: false)),
            identity: identities[newest]!, version: newest, name: "keys/\(file.lastPathComponent)")
        let catalog = unverified.authenticated(by: trust!)
        var problems = try catalog.problems()
        // Read after the full verification above: the pins are authentic unless `problems` says otherwise.
        let pins = try catalog.unverifiedRead { db in
            (
                try TrustPin.value(.signingPublicKey, db), try TrustPin.value(.configuration, db),
                try TrustPin.history(db)
            )
        }
        // The signing key is encrypted to each key version's identity; use the newest one we hold.
        var signingKey: String?
        var signingFile = ""
        for version in identities.keys.sorted(by: >) {
            let file = layout.signingKeyFile(version: version)
            signingFile = "keys/\(file.lastPathComponent)"
            if let sealed = FileManager.default.contents(atPath: file.path),
                let key = try? suite.decrypt(sealed, using: [identities[version]!])
            {
                signingKey = String(decoding: key, as: UTF8.self)
                break
            }
        }
        guard let signingKey else {
            throw VaultError(.keyUnavailable, "cannot unlock the vault signing key (\(signingFile))")
        }
        let publicKey = try signer.publicKey(ofSigningKey: signingKey)
        if publicKey != pins.0 {
            problems.append(
                StateProblem(
                    record: signingFile, reason: "holds a signing key other than the one pinned in the catalog"))
        }
        if try configuration.pinDigest() != pins.1
            || (configuration.signingPublicKey != pins.0
                && !pins.2.values.contains(configuration.signingPublicKey))
        {
            problems.append(
                StateProblem(record: "vault.json", reason: "differs from its pin in the catalog (replaced)"))
        }
        let vault = Vault(
            layout: layout, catalog: catalog, suite: suite, signer: signer, configuration: configuration,
            keyRing: KeyRing(
                identities: identities, signingKey: signingKey, signingPublicKey: publicKey, trust: trust!))
        return (vault, problems)
    }

    /// Whether vault identities are post-quantum hybrids.
    public nonisolated var isPostQuantum: Bool { configuration.postQuantum }

    /// The vault's signing public key, PEM.
    public nonisolated var signingPublicKey: String { configuration.signingPublicKey }

    /// The vault's signing public key in its own file format (as written to `signing-key.pub`).
    public nonisolated var verificationKey: VerificationKey {
        VerificationKey(keyVersion: 1, publicKeyPEM: configuration.signingPublicKey)
    }

    /// The fingerprint of the signing key (SHA-256 of the PEM's DER bytes, hex).
    public nonisolated var signerFingerprint: String { Self.fingerprint(ofPEM: configuration.signingPublicKey) }

    static func fingerprint(ofPEM pem: String) -> String {
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        let der = Data(base64Encoded: body) ?? Data(pem.utf8)
        return Array(SHA256.hash(data: der)).hexString
    }

    /// Removes what a crashed process left: staging directories and version directories the catalog does
    /// not know. Runs inside a write transaction so it cannot race a push that is moving its version in.
    nonisolated func recoverAfterCrash() throws {
        try StagingArea.removeOrphans(in: layout.staging, root: layout.root)
        for base in [layout.encryptedModels, layout.rawData, layout.processedData] {
            try VaultFiles.refuseSymbolicLinks(along: base, under: layout.root)
            VaultFiles.removeStaleTemporaries(under: base, root: layout.root)
        }
        try catalog.write { db in
            let models = try ModelVersionRow.directoryNames(db)
            try Self.removeUnknownVersions(under: layout.encryptedModels, known: Set(models), root: layout.root)
            let datasets = try DatasetVersionRow.directories(db)
            let raw = Set(datasets.filter { !$0.processed }.map { "\($0.name)/\($0.version)" })
            let processed = Set(datasets.filter { $0.processed }.map { "\($0.name)/\($0.version)" })
            try Self.removeUnknownVersions(under: layout.rawData, known: raw, root: layout.root)
            try Self.removeUnknownVersions(under: layout.processedData, known: processed, root: layout.root)
        }
    }

    /// Removes version directories the catalog does not know. A symbolic link anywhere on the way is refused
    /// and reported, never followed: a link planted here would otherwise have its target's contents deleted.
    private static func removeUnknownVersions(under base: URL, known: Set<String>, root: URL) throws {
        let manager = FileManager.default
        try VaultFiles.refuseSymbolicLinks(along: base, under: root)
        guard let names = try? manager.contentsOfDirectory(atPath: base.path(percentEncoded: false)) else { return }
        for name in names {
            let directory = base.appending(path: name)
            try VaultFiles.refuseSymbolicLink(directory, under: root)
            guard VaultFiles.kind(of: directory) == .directory else { continue }
            let versions = (try? manager.contentsOfDirectory(atPath: directory.path(percentEncoded: false))) ?? []
            for version in versions {
                let url = directory.appending(path: version)
                try VaultFiles.refuseSymbolicLink(url, under: root)
                if !known.contains("\(name)/\(version)") { VaultFiles.removeTree(url, under: root) }
            }
        }
    }
}

/// The unlocked secrets of an open vault. Never logged, never part of an error.
///
/// The identities and the signing key live in zeroing owners (``SecretText``): replaced or dropped with the vault,
/// their bytes are zeroed. The age and PEM parsers take `String`s, so each use reads a transient copy.
struct KeyRing: Sendable {
    private var identitySecrets: [Int: SecretText]
    private var signingSecret: SecretText
    var signingPublicKey: String
    /// The root of trust the catalog state and the key pins are authenticated by.
    var trust: TrustRoot

    init(identities: [Int: String], signingKey: String, signingPublicKey: String, trust: TrustRoot) {
        identitySecrets = identities.mapValues(SecretText.init)
        signingSecret = SecretText(signingKey)
        self.signingPublicKey = signingPublicKey
        self.trust = trust
    }

    /// The identity text of each unlocked key version (transient copies; set to replace the owners).
    var identities: [Int: String] {
        get { identitySecrets.mapValues(\.text) }
        set { identitySecrets = newValue.mapValues(SecretText.init) }
    }

    /// The signing key's PEM (a transient copy; set to replace the owner).
    var signingKey: String {
        get { signingSecret.text }
        set { signingSecret = SecretText(newValue) }
    }

    /// Every identity held, newest first (any of them may be needed while a rotation is under way).
    var allIdentities: [String] { identitySecrets.keys.sorted(by: >).map { identitySecrets[$0]!.text } }
}
