import Crypto
import Foundation
import ModelSigning
import TestSupport
import Testing
import VaultCrypto

@testable import Vault

/// The vault on its production primitives: age files and OpenSSF model-signing bundles.
@Suite struct OpenSSFManifestSignerTests {
    func productionVault(_ directory: TemporaryDirectory) throws -> Vault {
        try Vault.create(
            at: directory.url.appending(path: "vault"), passphrase: TestVault.passphrase, postQuantum: false,
            workFactor: 10, suite: AgeCipherSuite(), signer: OpenSSFManifestSigner())
    }

    @Test func vaultSignatureIsAnOpenSSFBundleOutsideVerifiersAccept() async throws {
        let directory = try TemporaryDirectory()
        let vault = try productionVault(directory)
        let source = directory.url.appending(path: "model")
        let files = try TestVault.writeModel(in: source, seed: 21)
        _ = try await vault.pushModel("m", from: .path(source))
        try await vault.verifyModel(ModelReference(parsing: "m@1"))
        let bundle = try Data(contentsOf: vault.root.appending(path: "models/encrypted/m/1/model.sig"))
        let signed = try ModelSignature.verify(bundle, with: VerifyingKey(pem: vault.signingPublicKey))
        let paths = signed.entries.map(\.path)
        #expect(paths.contains(".modelvault/manifest.json"))
        for (path, data) in files {
            #expect(signed.entries.first { $0.path == path }?.sha256 == Array(SHA256.hash(data: data)))
        }
    }

    @Test(arguments: ["p256", "p384", "p521"])
    func publisherSignaturesFromModelSigningAreChecked(curve: String) async throws {
        let directory = try TemporaryDirectory()
        let vault = try productionVault(directory)
        let source = directory.url.appending(path: "model")
        _ = try TestVault.writeModel(in: source, seed: 22)
        let (privatePEM, publicPEM): (String, String) =
            switch curve {
            case "p256":
                {
                    let key = P256.Signing.PrivateKey(); return (key.pemRepresentation, key.publicKey.pemRepresentation)
                }()
            case "p384":
                {
                    let key = P384.Signing.PrivateKey(); return (key.pemRepresentation, key.publicKey.pemRepresentation)
                }()
            default:
                {
                    let key = P521.Signing.PrivateKey(); return (key.pemRepresentation, key.publicKey.pemRepresentation)
                }()
            }
        let manifest = try ModelManifest.hashing(directoryAt: source)
        let bundle = try ModelSignature.sign(manifest, with: SigningKey(pem: privatePEM), modelName: "model")
        let info = try await vault.pushModel(
            "m", from: .path(source), publisherSignature: PublisherSignature(bundle: bundle, publicKeyPEM: publicPEM))
        #expect(info.publisher != nil)

        // A file added after signing is refused, naming it.
        try Data([1]).write(to: source.appending(path: "extra.bin"))
        do {
            _ = try await vault.pushModel(
                "m", from: .path(source),
                publisherSignature: PublisherSignature(bundle: bundle, publicKeyPEM: publicPEM))
            Issue.record("accepted an unsigned file")
        } catch let error as VaultError {
            #expect(error.code == .publisherSignatureInvalid)
            #expect(error.description.contains("extra.bin"))
        }
    }

    @Test func singleFileModelsUseTheDotEntry() async throws {
        let directory = try TemporaryDirectory()
        let vault = try productionVault(directory)
        let file = directory.url.appending(path: "model.bin")
        try TestVault.bytes(4096, seed: 3).write(to: file)
        let key = P256.Signing.PrivateKey()
        let bundle = try ModelSignature.sign(
            try ModelManifest.hashing(fileAt: file), with: .p256(key), modelName: "model.bin")
        let info = try await vault.pushModel(
            "single", from: .path(file),
            publisherSignature: PublisherSignature(bundle: bundle, publicKeyPEM: key.publicKey.pemRepresentation))
        #expect(info.files.map(\.path) == ["model.bin"])
    }

    @Test func fernetTokensImport() async throws {
        let directory = try TemporaryDirectory()
        let vault = try productionVault(directory)
        let keyText = Data((0..<32).map { UInt8($0) }).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        let weights = TestVault.bytes(10_000, seed: 8)
        let token = try Fernet.encrypt(weights, key: FernetKey(base64URL: keyText))
        let info = try await vault.importFernetModel(
            "legacy", token: Data(token.utf8), keyText: keyText + "\n", fileName: "model.bin")
        #expect(try await vault.loadModel(ModelReference(parsing: "legacy@\(info.version)")) == ["model.bin": weights])
        var tampered = Array(token.utf8)
        tampered[40] = tampered[40] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        await expectVaultError(.legacyImportFailed) {
            try await vault.importFernetModel("legacy", token: Data(tampered), keyText: keyText, fileName: "model.bin")
        }
        #expect(try await vault.modelVersions("legacy").count == 1)
    }
}
