import Crypto
public import Foundation

/// A verified signature's contents: what the signer attested to.
public struct SignedModel: Sendable, Equatable {
    /// The model name from the statement's subject (informative only: renaming a model keeps it valid).
    public var modelName: String
    /// The signed files and digests.
    public var manifest: ModelManifest
    /// The model-relative paths the signer excluded from hashing (`ignore_paths` in the statement).
    public var ignoredPaths: [String]
}

/// OpenSSF model signing with ECDSA keys, in the format of PyPI `model_signing` (`sign key` / `verify key`):
/// a Sigstore bundle v0.3 whose DSSE envelope signs an in-toto Statement v1 with predicate
/// `https://model_signing/signature/v1.0`, serialized by the "files" method with SHA-256.
public enum ModelSignature {
    /// Signs a manifest in memory and returns the Sigstore bundle JSON.
    ///
    /// - Parameters:
    ///   - manifest: the files and digests to attest to.
    ///   - key: the signer's private key.
    ///   - modelName: the subject name (the reference uses the model directory's last component).
    ///   - ignoredPaths: model-relative paths excluded from hashing, recorded so verifiers skip them too.
    public static func sign(
        _ manifest: ModelManifest, with key: SigningKey, modelName: String, ignoredPaths: [String] = []
    ) throws -> Data {
        var rootHasher = SHA256()
        var resources = [SigstoreBundle.Resource]()
        for entry in manifest.entries {
            rootHasher.update(data: entry.sha256)
            resources.append(.init(name: entry.path, algorithm: "sha256", digest: entry.sha256.hexString))
        }
        let ignored = Array(Set(ignoredPaths)).sorted()
        let statement = SigstoreBundle.Statement(
            type: SigstoreBundle.statementType,
            subject: [.init(name: modelName, digest: ["sha256": rootHasher.finalize().hexString])],
            predicateType: SigstoreBundle.predicateType,
            predicate: .init(
                serialization: .init(
                    method: "files", hashType: "sha256", allowSymlinks: false,
                    ignorePaths: ignored.isEmpty ? nil : ignored),
                resources: resources))
        let encoder = SigstoreBundle.encoder()
        let payload = try encoder.encode(statement)
        let signature = try key.derSignature(
            for: SigstoreBundle.pae(payloadType: SigstoreBundle.payloadType, payload: payload))
        let bundle = SigstoreBundle.Bundle(
            mediaType: SigstoreBundle.mediaType,
            verificationMaterial: .init(publicKey: .init(hint: key.verifyingKey.hint), tlogEntries: []),
            dsseEnvelope: .init(
                payload: payload.base64EncodedString(), payloadType: SigstoreBundle.payloadType,
                signatures: [.init(sig: signature.base64EncodedString(), keyid: "")]))
        return try encoder.encode(bundle)
    }

    /// Verifies the bundle's signature under `key` and returns the signed manifest.
    ///
    /// - Throws: `ModelSigningError` if the bundle is malformed, the key does not match, the signature is
    ///   invalid, or the statement is inconsistent.
    public static func verify(_ bundle: Data, with key: VerifyingKey) throws -> ModelManifest {
        try open(bundle, with: key).manifest
    }

    /// Verifies the bundle under `key` and checks that it attests exactly to `manifest`.
    ///
    /// - Throws: `ModelSigningError` naming the first file (in path order) that was modified, is not in the
    ///   signature, or is missing.
    public static func verify(_ bundle: Data, against manifest: ModelManifest, with key: VerifyingKey) throws {
        try compare(signed: open(bundle, with: key).manifest, actual: manifest)
    }

    /// Verifies the bundle under `key` and returns everything it attests to.
    public static func open(_ bundle: Data, with key: VerifyingKey) throws -> SignedModel {
        let decoder = JSONDecoder()
        guard let parsed = try? decoder.decode(SigstoreBundle.Bundle.self, from: bundle),
            parsed.mediaType == SigstoreBundle.mediaType,
            let payload = Data(base64Encoded: parsed.dsseEnvelope.payload),
            let first = parsed.dsseEnvelope.signatures.first,
            let signature = Data(base64Encoded: first.sig)
        else { throw ModelSigningError(.malformedBundle) }
        if let hint = parsed.verificationMaterial.publicKey?.hint, !hint.isEmpty, hint != key.hint {
            throw ModelSigningError(.signatureInvalid)
        }
        let envelope = parsed.dsseEnvelope
        let message = SigstoreBundle.pae(payloadType: envelope.payloadType, payload: payload)
        guard key.isValid(derSignature: signature, for: message) else {
            throw ModelSigningError(.signatureInvalid)
        }
        guard envelope.payloadType == SigstoreBundle.payloadType,
            let statement = try? decoder.decode(SigstoreBundle.Statement.self, from: payload),
            statement.type == SigstoreBundle.statementType,
            statement.predicateType == SigstoreBundle.predicateType,
            statement.subject.count == 1,
            let subjectDigest = statement.subject[0].digest["sha256"]
        else { throw ModelSigningError(.malformedBundle) }
        let serialization = statement.predicate.serialization
        guard serialization.method == "files", serialization.hashType == "sha256" else {
            throw ModelSigningError(.unsupportedSerialization)
        }
        var rootHasher = SHA256()
        var entries = [ModelManifest.Entry]()
        for resource in statement.predicate.resources {
            guard resource.algorithm == "sha256" else { throw ModelSigningError(.unsupportedSerialization) }
            guard let digest = [UInt8](hex: resource.digest), digest.count == 32 else {
                throw ModelSigningError(.invalidDigest, path: resource.name)
            }
            rootHasher.update(data: digest)
            entries.append(.init(path: resource.name, sha256: digest))
        }
        guard rootHasher.finalize().hexString == subjectDigest.lowercased() else {
            throw ModelSigningError(.inconsistentManifest)
        }
        return SignedModel(
            modelName: statement.subject[0].name, manifest: try ModelManifest(entries: entries),
            ignoredPaths: serialization.ignorePaths ?? [])
    }

    /// Throws for the first path (in manifest order) where the two manifests disagree.
    /// Paths are keyed by their UTF-8 bytes: `String` keys would merge canonically equivalent spellings.
    static func compare(signed: ModelManifest, actual: ModelManifest) throws {
        let signedDigests = Dictionary(
            signed.entries.map { (Array($0.path.utf8), $0.sha256) }, uniquingKeysWith: { a, _ in a })
        let actualDigests = Dictionary(
            actual.entries.map { (Array($0.path.utf8), $0.sha256) }, uniquingKeysWith: { a, _ in a })
        let paths = Set(signedDigests.keys).union(actualDigests.keys).map { String(decoding: $0, as: UTF8.self) }
            .sorted(by: ModelManifest.precedes)
        for path in paths {
            let key = Array(path.utf8)
            switch (signedDigests[key], actualDigests[key]) {
            case (let expected?, let found?) where expected != found:
                throw ModelSigningError(.fileModified, path: path)
            case (nil, _?):
                throw ModelSigningError(.fileNotSigned, path: path)
            case (_?, nil):
                throw ModelSigningError(.fileMissing, path: path)
            default:
                continue
            }
        }
    }
}
