import Foundation
import GRDB

extension Vault {
    /// The fingerprint of the signing key in use (``signerFingerprint`` reads `vault.json` as opened).
    func currentSignerFingerprint() -> String { Self.fingerprint(ofPEM: keyRing.signingPublicKey) }

    /// The keys a manifest signature may verify with: the current signing key and, only while a `--reencrypt`
    /// rotation that replaced it is unfinished (manifests not all re-signed yet), the replaced ones.
    func acceptedSigningKeys() throws -> [String] {
        let current = keyRing.signingPublicKey
        let history = try catalog.read { db -> [String] in
            let unfinished = try RotationRow.hasUnfinishedReencrypting(db)
            return unfinished ? Array(try TrustPin.history(db).values) : []
        }
        return [current] + history
    }

    /// The entries a signature bundle signs, verified with the first accepted key it verifies with.
    func verifiedEntries(of bundle: Data) throws -> [SignedEntry]? {
        for key in try acceptedSigningKeys() {
            if let entries = try? signer.verify(bundle, publicKeyPEM: key) { return entries }
        }
        return nil
    }

    /// After a `--reencrypt` rotation replaced the signing key: re-signs every model and dataset manifest with the
    /// new key, keeping each old signature beside it as `<sig>.v<N>` (N: the key version of the key that made
    /// it), updates the catalog's signer fingerprints, `vault.json`, `signing-key.pub` and the
    /// passphrase copy of the key. Only manifests that match the authenticated catalog are signed, so nothing an
    /// attacker put in the directory is ever blessed by the new key. Idempotent: a resumed rotation re-runs it.
    func resignManifests(passphrase: String, workFactor: Int) throws {
        let signingKey = keyRing.signingKey
        let publicKey = keyRing.signingPublicKey
        let fingerprint = Self.fingerprint(ofPEM: publicKey)
        let (models, datasets, currentVersion, history) = try catalog.read { db in
            (
                try ModelVersionRow.manifestDigests(db),
                try DatasetVersionRow.all(db),
                try TrustPin.signingKeyVersion(db), try TrustPin.history(db)
            )
        }
        // History is named after the newest replaced key (the one these signatures were made with).
        let outgoing = history.keys.filter { $0 < currentVersion }.max() ?? 1
        for model in models {
            let directory = layout.modelVersion(model.name, model.version)
            let label = "\(model.name)@\(model.version)"
            guard
                let manifestBytes = FileManager.default.contents(
                    atPath: directory.appending(path: VersionManifest.fileName).path(percentEncoded: false)),
                FileDigest(of: manifestBytes).hex == model.digest,
                let manifest = try? JSONDecoder().decode(VersionManifest.self, from: manifestBytes)
            else { throw VaultError(.tampered, "the manifest of \(label) does not match the catalog; not re-signed") }
            let bundle = try signer.sign(
                manifest.signedEntries(manifestBytes: manifestBytes), modelName: label, privateKeyPEM: signingKey)
            try replaceSignature(
                in: directory, name: VersionManifest.signatureFileName, with: bundle, keepingAs: outgoing)
        }
        for dataset in datasets {
            let info = try self.dataset(DatasetReference(name: dataset.name, version: dataset.version))
            let directory = layout.datasetVersion(info.name, info.version, processed: info.processed)
            let label = info.reference
            let files = try catalog.read { db in
                try StoredFile.fetch(
                    db, table: "dataset_files",
                    versionID: try Self.resolveDataset(
                        DatasetReference(name: info.name, version: info.version), db
                    ).id)
            }
            let catalogFiles = files.map { VersionManifest.File(path: $0.path, size: $0.size, sha256: $0.sha256) }
            guard
                let manifestBytes = FileManager.default.contents(
                    atPath: directory.appending(path: DatasetManifest.fileName).path(percentEncoded: false)),
                let manifest = try? JSONDecoder().decode(DatasetManifest.self, from: manifestBytes),
                manifest.dataset == info.name, manifest.version == info.version, manifest.digest == info.digest,
                manifest.files.sorted(by: { $0.path < $1.path }) == catalogFiles.sorted(by: { $0.path < $1.path })
            else { throw VaultError(.tampered, "the manifest of dataset \(label) does not match the catalog") }
            let bundle = try signer.sign(
                manifest.signedEntries(manifestBytes: manifestBytes), modelName: "dataset/\(label)",
                privateKeyPEM: signingKey)
            try replaceSignature(
                in: directory, name: DatasetManifest.signatureFileName, with: bundle, keepingAs: outgoing)
        }
        var configuration = self.configuration
        configuration.signingPublicKey = publicKey
        try configuration.write(to: layout.configuration)
        try VaultFiles.writeAtomically(
            Data(VerificationKey(keyVersion: currentVersion, publicKeyPEM: publicKey).encoded().utf8),
            to: layout.verificationKey)
        try VaultFiles.writeAtomically(
            try suite.seal(Data(signingKey.utf8), passphrase: passphrase, workFactor: workFactor),
            to: layout.signingKeyFile, permissions: 0o600)
        try catalog.write { db in
            try ModelVersionRow.setSignerOfEveryVersion(fingerprint, db)
        }
    }

    /// Writes `bundle` as `name`, first keeping the signature there as `name.vN` (once: a resumed run keeps the
    /// first copy, made by the old key).
    private func replaceSignature(in directory: URL, name: String, with bundle: Data, keepingAs version: Int) throws {
        let current = directory.appending(path: name)
        let history = directory.appending(path: "\(name).v\(version)")
        if !VaultFiles.exists(history), let old = FileManager.default.contents(atPath: current.path) {
            try VaultFiles.writeAtomically(old, to: history)
        }
        try VaultFiles.writeAtomically(bundle, to: current)
    }
}
