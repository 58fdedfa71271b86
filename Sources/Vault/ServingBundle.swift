public import AccessControl
import Crypto
public import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A per-deployment serving bundle (issue #19): only what a serving pod needs, and nothing that lets it act as the
/// vault.
///
/// Layout of the bundle directory:
///
/// ```
/// bundle.json                      what is served: deployment id, recipient, models, the token snapshot
/// verifier.pem                     the vault's public signing key (no private key)
/// models/NAME/VERSION/FILE.age     each served file, re-wrapped for the deployment identity only
/// models/NAME/VERSION/.modelvault/ the version's signed manifest and its signature, as the vault stored them
/// bundle.sig                       the vault's signature over the SHA-256 of every other file in the bundle
/// ```
///
/// The pod holds the bundle and a fresh per-deployment age identity: never the vault passphrase, the master
/// identity or the signing key. Loading checks, before anything is served: the verifier's fingerprint against the
/// one pinned in the pod's arguments, the bundle signature over every file (an added, removed or changed file is
/// refused), that the identity is the one the bundle was made for, each version's own signature over its
/// manifest, and each decrypted file's digest against the signed manifest.
public struct ServingBundle: Sendable {
    /// One model version the bundle serves, decrypted into memory and checked.
    public struct Model: Sendable {
        /// The model's name.
        public var name: String
        /// The version.
        public var version: Int
        /// The decrypted files by relative path.
        public var files: [String: Data]
        /// Whether the version's signed manifest carries a scan record (loads of unscanned versions are refused
        /// unless allowed).
        public var scanned: Bool
    }

    /// A token allowed to call the pod, as the vault knew it when the bundle was made: only its hash is kept.
    public struct Caller: Codable, Sendable, Equatable {
        /// The token's public id.
        public var tokenID: String
        /// SHA-256 of the token, hex.
        public var hash: String
        /// Its principal.
        public var principal: String
        /// The principal's role bindings.
        public var bindings: [RoleBinding]
        /// When the token stops working (ISO 8601), if it expires.
        public var expiresAt: String?
    }

    /// `bundle.json`.
    struct Index: Codable, Sendable {
        struct Version: Codable, Sendable {
            var name: String
            var version: Int
        }
        var format: Int
        var deployment: String
        var createdAt: String
        /// The deployment identity's public key: the identity a pod presents must be its one.
        var recipient: String
        var signerFingerprint: String
        var models: [Version]
        var callers: [Caller]
        /// The deployment's bundle serial in the vault (absent in bundles made before serials: 0).
        var serial: Int?
    }

    /// The file names inside a bundle.
    public static let indexName = "bundle.json"
    /// The vault's public signing key.
    public static let verifierName = "verifier.pem"
    /// The signature over the bundle.
    public static let signatureName = "bundle.sig"
    /// Where the served versions are.
    public static let modelsDirectory = "models"
    static let currentFormat = 1
    /// Enough for any real deployment; bounds the walk of a hostile bundle.
    static let maximumFiles = 100_000

    /// The deployment this bundle was made for.
    public let deployment: String
    /// The fingerprint of the vault signing key that signed it.
    public let signerFingerprint: String
    /// The served versions, checked and decrypted.
    public let models: [Model]
    /// The tokens allowed to call the pod.
    public let callers: [Caller]
    /// The bundle's serial: the vault counts each bundle made for a deployment (0 for a bundle without one).
    public let serial: Int

    /// A fresh per-deployment age identity (X25519) and its public key.
    public static func generateIdentity() throws -> (identity: String, recipient: String) {
        let suite = AgeCipherSuite()
        let identity = try suite.generateIdentity(postQuantum: false)
        return (identity, try suite.recipient(ofIdentity: identity))
    }

    /// Opens a bundle and checks everything in it (see the type's description); throws naming the first failure.
    ///
    /// - Parameters:
    ///   - identity: the deployment identity (the text of an age identity file).
    ///   - expectedSigner: the SHA-256 fingerprint of the vault's signing key, pinned out of band (the pod's
    ///     arguments); a bundle signed by any other key is refused.
    ///   - minimumSerial: the oldest bundle serial accepted (the pod's `--min-bundle-serial`): a bundle the vault
    ///     has superseded, or one made for a revoked identity, is refused.
    public static func open(
        at directory: URL, identity identityFile: String, expectedSigner: String, minimumSerial: Int = 0
    ) throws
        -> ServingBundle
    {
        try open(
            at: directory, identity: identityFile, expectedSigner: expectedSigner, minimumSerial: minimumSerial,
            afterFileCheck: {})
    }

    /// `open`, with a hook run right after the files are checked against the signature: tests use it to swap a
    /// file in that window (the TOCTOU attack of review 5, F1).
    static func open(
        at directory: URL, identity identityFile: String, expectedSigner: String, minimumSerial: Int,
        afterFileCheck: () throws -> Void
    ) throws -> ServingBundle {
        let suite = AgeCipherSuite()
        let (index, verifierPEM, fingerprint) = try checkedIndex(
            at: directory, expectedSigner: expectedSigner, minimumSerial: minimumSerial, afterFileCheck: afterFileCheck)
        // An identity file: comment lines and exactly one identity.
        let recipient: String
        let identity: String
        do {
            let identities = try suite.parseIdentities(identityFile)
            guard identities.count == 1 else { throw VaultError(.identityMismatch, "") }
            identity = identities[0]
            recipient = try suite.recipient(ofIdentity: identity)
        } catch {
            throw VaultError(.identityMismatch, "the deployment identity is not a single valid age identity")
        }
        guard recipient == index.recipient else {
            throw VaultError(.identityMismatch, "the deployment identity is not the one this bundle was made for")
        }
        var models: [Model] = []
        for entry in index.models {
            let reference = try ModelReference(name: entry.name, selector: .version(entry.version))
            guard entry.version > 0, !models.contains(where: { $0.name == entry.name }) else {
                throw VaultError(.tampered, "the bundle lists \(reference) twice or with a bad version")
            }
            models.append(
                try loadVersion(
                    reference, version: entry.version, in: directory, verifierPEM: verifierPEM, identity: identity,
                    suite: suite))
        }
        return ServingBundle(
            deployment: index.deployment, signerFingerprint: fingerprint, models: models, callers: index.callers,
            serial: index.serial ?? 0)
    }

    /// The bundle's index, once the verifier is the pinned key and the bundle signature covers exactly the files
    /// present; with the verifier's PEM and fingerprint. Refuses a serial below `minimumSerial`.
    static func checkedIndex(
        at directory: URL, expectedSigner: String, minimumSerial: Int, afterFileCheck: () throws -> Void
    ) throws -> (index: Index, verifierPEM: String, fingerprint: String) {
        // Each signed file used here is read once: its in-memory bytes are hashed against the signed list and then
        // decoded, so a file swapped on disk after the check is never the one used (review 5, F1).
        let verifierBytes = try readData(directory.appending(path: verifierName), limit: 64 << 10, what: "verifier key")
        let indexBytes = try readData(directory.appending(path: indexName), limit: 16 << 20, what: "bundle index")
        guard let verifierPEM = String(data: verifierBytes, encoding: .utf8) else {
            throw VaultError(.unreadableInput, "the bundle's verifier key is not text")
        }
        let fingerprint = Vault.fingerprint(ofPEM: verifierPEM)
        guard fingerprint == expectedSigner.lowercased() else {
            throw VaultError(.signatureInvalid, "the bundle's verifier key is not the pinned vault signing key")
        }
        // The whole bundle: every file but the signature itself, by SHA-256 of its bytes.
        let signature = try readData(directory.appending(path: signatureName), limit: 1 << 20, what: "bundle signature")
        let signed: [SignedEntry]
        do {
            signed = try OpenSSFManifestSigner().verify(signature, publicKeyPEM: verifierPEM)
        } catch {
            throw VaultError(.signatureInvalid, "the bundle signature does not verify with the vault key")
        }
        let present = try fileEntries(in: directory).filter { $0.path != signatureName }
        guard Set(signed) == Set(present), signed.count == present.count,
            signed.contains(SignedEntry(path: indexName, sha256: FileDigest(of: indexBytes).sha256)),
            signed.contains(SignedEntry(path: verifierName, sha256: FileDigest(of: verifierBytes).sha256))
        else {
            throw VaultError(.tampered, "the bundle's files are not the ones its signature covers")
        }
        try afterFileCheck()
        let index: Index
        do {
            index = try JSONDecoder().decode(Index.self, from: indexBytes)
        } catch {
            throw VaultError(.unreadableInput, "the bundle index is not valid")
        }
        guard index.format == currentFormat else {
            throw VaultError(.unreadableInput, "the bundle has format \(index.format), which this reader does not know")
        }
        guard (index.serial ?? 0) >= minimumSerial else {
            throw VaultError(
                .tampered,
                "the bundle's serial \(index.serial ?? 0) is older than the floor \(minimumSerial): it was superseded or revoked"
            )
        }
        return (index, verifierPEM, fingerprint)
    }

    /// Checks one version's signature over its manifest and decrypts and checks each of its files.
    private static func loadVersion(
        _ reference: ModelReference, version: Int, in directory: URL, verifierPEM: String, identity: String,
        suite: AgeCipherSuite
    ) throws -> Model {
        let label = "\(reference.name)@\(version)"
        let base = directory.appending(path: modelsDirectory).appending(path: reference.name).appending(
            path: String(version))
        let manifest = try signedManifest(reference, version: version, in: directory, verifierPEM: verifierPEM)
        var files: [String: Data] = [:]
        for file in manifest.files {
            // Paths were validated when the version was pushed and are covered by the signature.
            let sealed = try readData(
                base.appending(path: file.path + ".age"), limit: Int.max, what: "a file of \(label)")
            guard let plaintext = try? suite.decrypt(sealed, using: [identity]) else {
                throw VaultError(.decryptionFailed, "a file of \(label) does not decrypt with the deployment identity")
            }
            guard FileDigest(of: plaintext).hex == file.sha256 else {
                throw VaultError(.digestMismatch, "a file of \(label) does not match its signed digest")
            }
            files[file.path] = plaintext
        }
        let scan = try Vault.scanRecord(in: manifest)
        if let scan, !scan.refused.isEmpty {
            throw VaultError(.scanRefused, "the scan record of \(label) holds findings the policy refuses")
        }
        return Model(name: reference.name, version: version, files: files, scanned: scan != nil)
    }

    /// One version's manifest in the bundle, once its signature (by the bundle's verifier) covers it and it names
    /// `reference` at `version`.
    static func signedManifest(
        _ reference: ModelReference, version: Int, in directory: URL, verifierPEM: String
    ) throws -> VersionManifest {
        let label = "\(reference.name)@\(version)"
        let base = directory.appending(path: modelsDirectory).appending(path: reference.name).appending(
            path: String(version))
        let manifestBytes = try readData(
            base.appending(path: VersionManifest.signedPath), limit: 16 << 20, what: "manifest of \(label)")
        let signature = try readData(
            base.appending(path: Vault.pulledSignaturePath), limit: 16 << 20, what: "signature of \(label)")
        guard let manifest = try? JSONDecoder().decode(VersionManifest.self, from: manifestBytes),
            manifest.model == reference.name, manifest.version == version
        else { throw VaultError(.tampered, "the manifest of \(label) is not valid or names another version") }
        guard let entries = try? OpenSSFManifestSigner().verify(signature, publicKeyPEM: verifierPEM),
            Set(entries) == Set(manifest.signedEntries(manifestBytes: manifestBytes))
        else { throw VaultError(.signatureInvalid, "the signature of \(label) does not cover its manifest") }
        return manifest
    }

    /// The caller presenting `token`, if the bundle lists it and it has not expired; throws otherwise.
    public func caller(
        presenting token: String, at now: Date = Date()
    ) throws -> (
        principal: String, bindings: [RoleBinding]
    ) {
        guard APIToken.isWellFormed(token) else { throw AccessControlError.invalidToken }
        let presented = APIToken.hash(token)
        for caller in callers where caller.tokenID == presented.id {
            guard let stored = try? TokenHash(hex: caller.hash), stored.constantTimeEquals(presented) else { continue }
            if let expires = caller.expiresAt.flatMap(AccessTime.parse), expires <= now {
                throw AccessControlError.expiredToken
            }
            return (caller.principal, caller.bindings)
        }
        throw AccessControlError.invalidToken
    }

    // MARK: - Files

    /// Every regular file under `directory` with its SHA-256, by `/`-separated relative path; a symbolic link or
    /// any other kind of entry is refused.
    static func fileEntries(in directory: URL) throws -> [SignedEntry] {
        var entries: [SignedEntry] = []
        var pending: [(url: URL, relative: String)] = [(directory, "")]
        while let (url, relative) = pending.popLast() {
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
            } catch {
                throw VaultError(.unreadableInput, "the bundle directory cannot be read")
            }
            for name in names {
                let child = url.appending(path: name)
                let path = relative.isEmpty ? name : relative + "/" + name
                var status = stat()
                guard lstat(child.path, &status) == 0 else {
                    throw VaultError(.unreadableInput, "a bundle file cannot be read")
                }
                switch status.st_mode & S_IFMT {
                case S_IFDIR: pending.append((child, path))
                case S_IFREG:
                    guard let digest = try? FileDigest(ofFileAt: child) else {
                        throw VaultError(.unreadableInput, "a bundle file cannot be read")
                    }
                    entries.append(SignedEntry(path: path, sha256: digest.sha256))
                default:
                    throw VaultError(.tampered, "the bundle holds a link or special file")
                }
                guard entries.count + pending.count <= maximumFiles else {
                    throw VaultError(.unreadableInput, "the bundle holds too many files")
                }
            }
        }
        return entries.sorted { $0.path < $1.path }
    }

    private static func readData(_ url: URL, limit: Int, what: String) throws -> Data {
        var status = stat()
        guard lstat(url.path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw VaultError(.tampered, "the bundle's \(what) is missing or not a regular file")
        }
        guard Int(status.st_size) <= limit, let data = FileManager.default.contents(atPath: url.path) else {
            throw VaultError(.unreadableInput, "the bundle's \(what) cannot be read or is too large")
        }
        return data
    }
}

extension VaultSession {
    /// `model.deploy` on each model: writes a serving bundle for `references` into `directory` (which must not
    /// exist or be empty), every version re-wrapped for `recipient` (the deployment identity's public key) and the
    /// whole bundle signed with the vault key. Only versions with a clean scan record are bundled.
    ///
    /// The token snapshot holds the hash, principal and bindings of every usable token that may run inference on
    /// one of the models (or read metrics): revoking a token takes effect in the pod at the next deployment.
    ///
    /// - Returns: the bundled versions.
    @discardableResult
    ///   - registeredAs: the deployment's stable name: the vault records the bundle under it, numbers it (the
    ///     bundle's serial) and refuses a recipient other than the recorded one unless `rotateIdentity`, which
    ///     revokes the recorded one; a revoked recipient is refused for good. `nil` records nothing (serial 0).
    ///   - namespace: the Kubernetes namespace the deployment runs in: each namespace has its own record (identity,
    ///     serial, revocations), so a deploy or rotation in one never changes another's (review 5, F3). `nil`
    ///     uses the record kept under the name alone, as before namespaces.
    ///   - adoptLegacyRecord: continue a record written before namespaces (which names none) as this namespace's;
    ///     without it such a record is refused, so no other namespace takes it over by deploying first.
    public func writeServingBundle(
        _ references: [ModelReference], for recipient: String, deployment: String, to directory: URL,
        registeredAs name: String? = nil, namespace: String? = nil, rotateIdentity: Bool = false,
        adoptLegacyRecord: Bool = false
    ) async throws -> [ModelVersionInfo] {
        let vault = self.vault
        var versions: [ModelVersionInfo] = []
        for reference in references {
            let info = try await perform(
                .modelDeploy, on: .model(reference.name), resource: "model:\(reference)",
                resolve: { await resolved(reference) }
            ) { try await vault.model(reference) }
            guard !versions.contains(where: { $0.name == info.name }) else {
                throw VaultError(.invalidReference, "a bundle serves one version of each model")
            }
            versions.append(info)
        }
        let pinned = versions
        try await Vault.writeAtomically(to: directory) { staging in
            for info in pinned {
                let reference = try ModelReference(name: info.name, selector: .version(info.version))
                let record = try await vault.scanRecord(reference)
                guard let record, record.refused.isEmpty else {
                    throw VaultError(
                        .scanRefused, "\(info.reference) has no clean scan record; run `modelvault model scan` first")
                }
                try await vault.pullModel(
                    reference, for: recipient,
                    to: staging.appending(path: ServingBundle.modelsDirectory).appending(path: info.name)
                        .appending(path: String(info.version)))
            }
            // The record (new recipient, revoked old one, serial) changes only once the models are staged: a bundle
            // that cannot be written no longer revokes the running identity for one never saved (review 5, F2).
            var bundleSerial: Int?
            if let name {
                bundleSerial = try await vault.registerDeploymentBundle(
                    name, namespace: namespace, models: pinned.map(\.name), recipient: recipient,
                    rotateIdentity: rotateIdentity, adoptLegacyRecord: adoptLegacyRecord)
            }
            let verifier = await vault.verifierPublicKeyPEM()
            let index = ServingBundle.Index(
                format: ServingBundle.currentFormat, deployment: deployment,
                createdAt: AccessTime.format(Date()), recipient: recipient,
                signerFingerprint: Vault.fingerprint(ofPEM: verifier),
                models: pinned.map { .init(name: $0.name, version: $0.version) },
                callers: try await vault.servingCallers(forModels: pinned.map(\.name)), serial: bundleSerial)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try VaultFiles.writeAtomically(
                try encoder.encode(index), to: staging.appending(path: ServingBundle.indexName))
            try VaultFiles.writeAtomically(
                Data((verifier.trimmingCharacters(in: .whitespacesAndNewlines) + "\n").utf8),
                to: staging.appending(path: ServingBundle.verifierName))
            let signature = try await vault.signServingBundle(try ServingBundle.fileEntries(in: staging))
            try VaultFiles.writeAtomically(signature, to: staging.appending(path: ServingBundle.signatureName))
        }
        return versions
    }
}

extension Vault {
    /// Signs a serving bundle's file list with the vault signing key (which stays here).
    func signServingBundle(_ entries: [SignedEntry]) throws -> Data {
        try signer.sign(entries, modelName: "modelvault-serving-bundle", privateKeyPEM: keyRing.signingKey)
    }

    /// Every usable token whose principal may run inference on one of `models` or read server metrics.
    func servingCallers(forModels models: [String]) throws -> [ServingBundle.Caller] {
        try catalog.read { db in
            let ids = try AccessCatalog.tokenIDs(db)
            var callers: [ServingBundle.Caller] = []
            for id in ids {
                guard let record = try AccessCatalog.tokenRecord(id: id, db), (try? record.checkUsable()) != nil else {
                    continue
                }
                let principal = try AccessCatalog.requirePrincipal(record.principal, db)
                let bindings = try AccessCatalog.bindings(ofPrincipal: principal, db)
                let serves =
                    models.contains { model in
                        [Action.modelInfer, .modelPrivateInfer].contains {
                            Policy.decide($0, on: .model(model), for: bindings).isAllowed
                        }
                    } || Policy.decide(.serverMetrics, on: .global, for: bindings).isAllowed
                guard serves else { continue }
                callers.append(
                    ServingBundle.Caller(
                        tokenID: record.id, hash: record.hash.bytes.hexString, principal: record.principal,
                        bindings: bindings, expiresAt: record.expiresAt.map(AccessTime.format)))
            }
            return callers
        }
    }
}
