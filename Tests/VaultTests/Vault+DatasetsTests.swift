import Foundation
import TestSupport
import Testing

@testable import Vault

@Suite struct VaultDatasetsTests {
    @Test func addListShowGet() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        let train = directory.url.appending(path: "train.csv")
        let test = directory.url.appending(path: "test.csv")
        try Data("x,y\n1,0\n".utf8).write(to: train)
        try Data("x,y\n2,1\n".utf8).write(to: test)
        let first = try await vault.addDataset("cancer", files: [train, test], description: "UCI")
        #expect(first.reference == "cancer@1")
        #expect(first.files.map(\.path) == ["test.csv", "train.csv"])
        #expect(
            FileManager.default.fileExists(atPath: vault.root.appending(path: "data/raw/cancer/1/train.csv.age").path))
        let second = try await vault.addDataset("cancer", files: [train], processed: true)
        #expect(second.version == 2)
        #expect(
            FileManager.default.fileExists(
                atPath: vault.root.appending(path: "data/processed/cancer/2/train.csv.age").path))
        #expect(try await vault.datasets() == [DatasetSummary(name: "cancer", latestVersion: 2, versionCount: 2)])
        #expect(try await vault.dataset(DatasetReference(parsing: "cancer@1")).description == "UCI")

        let memory = try await vault.readDataset(DatasetReference(parsing: "cancer@1"))
        #expect(memory == ["train.csv": Data("x,y\n1,0\n".utf8), "test.csv": Data("x,y\n2,1\n".utf8)])
        let output = directory.url.appending(path: "out")
        try await vault.getDataset(DatasetReference(parsing: "cancer@1"), to: output)
        #expect(try Data(contentsOf: output.appending(path: "test.csv")) == Data("x,y\n2,1\n".utf8))
    }

    @Test func digestCoversPathsAndContents() {
        let a = Vault.datasetDigest([("a.csv", "00"), ("b.csv", "11")])
        #expect(a == Vault.datasetDigest([("b.csv", "11"), ("a.csv", "00")]))
        #expect(a != Vault.datasetDigest([("a.csv", "11"), ("b.csv", "00")]))
    }

    @Test func tamperedDatasetIsRefused() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        _ = try await vault.addDataset("d", contents: ["rows.csv": TestVault.bytes(1000, seed: 5)])
        let blob = vault.root.appending(path: "data/raw/d/1/rows.csv.age")
        var bytes = try Data(contentsOf: blob)
        bytes[bytes.count - 3] ^= 0x80
        try bytes.write(to: blob)
        await expectVaultError(.decryptionFailed) { try await vault.readDataset(DatasetReference(parsing: "d@1")) }
        let output = directory.url.appending(path: "out")
        await expectVaultError(.decryptionFailed) {
            try await vault.getDataset(DatasetReference(parsing: "d@1"), to: output)
        }
        #expect(!FileManager.default.fileExists(atPath: output.path))
    }

    @Test func duplicateAndMissingFilesAreRefused() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        let a = directory.url.appending(path: "a/rows.csv")
        let b = directory.url.appending(path: "b/rows.csv")
        for url in [a, b] {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data([1]).write(to: url)
        }
        await expectVaultError(.duplicateFile) { try await vault.addDataset("d", files: [a, b]) }
        await expectVaultError(.unreadableInput) {
            try await vault.addDataset("d", files: [directory.url.appending(path: "missing.csv")])
        }
        #expect(try await vault.datasets().isEmpty)
    }
}
