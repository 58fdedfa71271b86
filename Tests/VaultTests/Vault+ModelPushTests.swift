import Foundation
import TestSupport
import Testing

@testable import Vault

@Suite struct VaultModelPushTests {
    @Test func pushedDirectoryRoundTripsThroughPull() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        let source = directory.url.appending(path: "model")
        let files = try TestVault.writeModel(in: source)
        let info = try await vault.pushModel("classifier", from: .path(source))
        #expect(info.reference == "classifier@1")
        #expect(info.files.map(\.path) == ["config/model_config.json", "model.safetensors"])
        #expect(
            info.files.first { $0.path == "model.safetensors" }?.sha256
                == FileDigest(of: files["model.safetensors"]!).hex)
        #expect(info.signer == vault.signerFingerprint)

        let output = directory.url.appending(path: "pulled")
        try await vault.pullModel(ModelReference(parsing: "classifier@1"), to: output)
        for (path, data) in files {
            #expect(try Data(contentsOf: output.appending(path: path)) == data, "\(path)")
        }
        try await vault.verifyModel(ModelReference(parsing: "classifier"))
    }

    @Test func versionsAutoIncrement() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        let first = try await vault.pushModel("m", from: .files(["w": Data([1])]))
        let second = try await vault.pushModel("m", from: .files(["w": Data([2])]))
        #expect([first.version, second.version] == [Int](1...2))
        #expect(try await vault.loadModel(ModelReference(parsing: "m")) == ["w": Data([2])])
        #expect(try await vault.models() == [ModelSummary(name: "m", versions: [1, 2], aliases: [:])])
    }

    @Test(arguments: [false, true])
    func noPlaintextWindowSurvivesInTheVault(realAge: Bool) async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory, suite: realAge ? AgeCipherSuite() : FakeCipherSuite())
        let source = directory.url.appending(path: "model")
        let files = try TestVault.writeModel(in: source, seed: 7)
        _ = try await vault.pushModel("secret", from: .path(source))
        _ = try await vault.pushModel("secret-mem", from: .files(files))
        let plaintext = files["model.safetensors"]!
        // Every 64-byte window of the plaintext, as a set of hashes for a fast sliding scan.
        var windows = Set<Data>()
        var offset = 0
        while offset + 64 <= plaintext.count {
            windows.insert(plaintext.subdata(in: offset..<offset + 64))
            offset += 1
        }
        for file in TestVault.allFiles(under: vault.root) {
            let data = try Data(contentsOf: file)
            guard data.count >= 64 else { continue }
            var found = false
            var start = 0
            while start + 64 <= data.count {
                if windows.contains(data.subdata(in: start..<start + 64)) {
                    found = true
                    break
                }
                start += 1
            }
            #expect(!found, "plaintext found in \(file.lastPathComponent)")
        }
    }

    @Test func lineageRecordsDatasetDigests() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        let dataset = try await vault.addDataset("cancer", contents: ["train.csv": Data("a,b\n1,2\n".utf8)])
        let info = try await vault.pushModel(
            "m", from: .files(["w": Data([1])]), datasets: [try DatasetReference(parsing: "cancer@1")],
            metrics: .object(["accuracy": .number(0.97)]))
        #expect(info.lineage == [LineageEntry(dataset: "cancer", version: 1, digest: dataset.digest)])
        #expect(info.metrics == .object(["accuracy": .number(0.97)]))
        await expectVaultError(.notFound) {
            try await vault.pushModel(
                "m", from: .files(["w": Data([1])]), datasets: [try DatasetReference(parsing: "cancer@9")])
        }
    }

    @Test func publisherSignatureIsCheckedOnPush() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        let source = directory.url.appending(path: "model")
        let files = try TestVault.writeModel(in: source)
        let signer = FakeManifestSigner()
        let publisherKey = signer.generateSigningKey()
        let entries = files.map { SignedEntry(path: $0.key, sha256: FileDigest(of: $0.value).sha256) }
        let bundle = try signer.sign(entries, modelName: "model", privateKeyPEM: publisherKey)
        let publicKey = try signer.publicKey(ofSigningKey: publisherKey)
        let info = try await vault.pushModel(
            "signed", from: .path(source),
            publisherSignature: PublisherSignature(bundle: bundle, publicKeyPEM: publicKey))
        #expect(info.publisher == Vault.fingerprint(ofPEM: publicKey))

        // A modified file is refused, and nothing is recorded.
        try Data("tampered".utf8).write(to: source.appending(path: "config/model_config.json"))
        await expectVaultError(.publisherSignatureInvalid) {
            try await vault.pushModel(
                "signed", from: .path(source),
                publisherSignature: PublisherSignature(bundle: bundle, publicKeyPEM: publicKey))
        }
        // Another key is refused.
        let stranger = try signer.publicKey(ofSigningKey: signer.generateSigningKey())
        await expectVaultError(.publisherSignatureInvalid) {
            try await vault.pushModel(
                "signed", from: .path(source),
                publisherSignature: PublisherSignature(bundle: bundle, publicKeyPEM: stranger))
        }
        #expect(try await vault.modelVersions("signed").count == 1)
    }

    @Test func unknownModelsAndVersionsAreReported() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        await expectVaultError(.notFound) { try await vault.model(ModelReference(parsing: "nope")) }
        _ = try await vault.pushModel("m", from: .files(["w": Data([1])]))
        await expectVaultError(.notFound) { try await vault.model(ModelReference(parsing: "m@2")) }
        await expectVaultError(.notFound) { try await vault.model(ModelReference(parsing: "m:production")) }
        await expectVaultError(.notFound) {
            try await vault.pullModel(ModelReference(parsing: "m@5"), to: directory.url.appending(path: "out"))
        }
        #expect(!FileManager.default.fileExists(atPath: directory.url.appending(path: "out").path))
    }

    @Test func fernetImportStoresAProperVersion() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        let info = try await vault.importFernetModel(
            "legacy", token: Data([3, 2, 1]), keyText: "right\n", fileName: "model.bin")
        #expect(info.source == "fernet-import")
        #expect(try await vault.loadModel(ModelReference(parsing: "legacy@1")) == ["model.bin": Data([1, 2, 3])])
        await expectVaultError(.legacyImportFailed) {
            try await vault.importFernetModel("legacy", token: Data([1]), keyText: "wrong", fileName: "model.bin")
        }
    }
}
