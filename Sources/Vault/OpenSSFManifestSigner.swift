import Crypto
import Foundation
import ModelSigning

/// The vault's manifest signer on ModelSigning: OpenSSF model signing bundles, ECDSA P-256.
struct OpenSSFManifestSigner: VaultManifestSigner {
    func generateSigningKey() -> String { P256.Signing.PrivateKey().pemRepresentation }

    func publicKey(ofSigningKey privateKeyPEM: String) throws -> String {
        try P256.Signing.PrivateKey(pemRepresentation: privateKeyPEM).publicKey.pemRepresentation
    }

    func sign(_ entries: [SignedEntry], modelName: String, privateKeyPEM: String) throws -> Data {
        let manifest = try ModelManifest(entries: entries.map { ModelManifest.Entry(path: $0.path, sha256: $0.sha256) })
        return try ModelSignature.sign(manifest, with: SigningKey(pem: privateKeyPEM), modelName: modelName)
    }

    func verify(_ bundle: Data, publicKeyPEM: String) throws -> [SignedEntry] {
        try ModelSignature.verify(bundle, with: VerifyingKey(pem: publicKeyPEM)).entries.map {
            SignedEntry(path: $0.path, sha256: $0.sha256)
        }
    }
}
