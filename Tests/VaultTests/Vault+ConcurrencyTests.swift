import Foundation
import TestSupport
import Testing

@testable import Vault

@Suite struct VaultConcurrencyTests {
    @Test func concurrentPushesFromSeparateInstancesGetDistinctVersions() async throws {
        let directory = try TemporaryDirectory()
        _ = try TestVault.create(in: directory)
        let instances = try (0..<4).map { _ in try TestVault.open(in: directory) }
        let versions = try await withThrowingTaskGroup(of: Int.self) { group in
            for (index, vault) in instances.enumerated() {
                for round in 0..<3 {
                    group.addTask {
                        let data = TestVault.bytes(20_000, seed: UInt64(index * 10 + round))
                        return try await vault.pushModel("shared", from: .files(["w.bin": data])).version
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(versions.sorted() == Array(1...12))
        let check = try TestVault.open(in: directory)
        for version in 1...12 {
            try await check.verifyModel(ModelReference(name: "shared", selector: .version(version)))
        }
    }

    @Test func crashedPushLeavesNothingVisibleAndIsCleanedOnOpen() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        _ = try await vault.pushModel("m", from: .files(["w": Data([1])]))
        let root = vault.root
        // What a process killed mid-push leaves: a staging directory with an unheld lock, and a version
        // directory renamed into place whose transaction never committed.
        let staging = root.appending(path: ".staging/dead-push")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        try Data([0]).write(to: staging.appending(path: "w.age"))
        try Data().write(to: root.appending(path: ".staging/dead-push.lock"))
        let orphan = root.appending(path: "models/encrypted/m/2")
        try FileManager.default.createDirectory(at: orphan, withIntermediateDirectories: true)
        try Data([0]).write(to: orphan.appending(path: "w.age"))
        let orphanDataset = root.appending(path: "data/raw/d/1")
        try FileManager.default.createDirectory(at: orphanDataset, withIntermediateDirectories: true)

        #expect(try await vault.modelVersions("m").count == 1)
        let reopened = try TestVault.open(in: directory)
        #expect(!FileManager.default.fileExists(atPath: staging.path))
        #expect(!FileManager.default.fileExists(atPath: orphan.path))
        #expect(!FileManager.default.fileExists(atPath: orphanDataset.path))
        #expect(FileManager.default.fileExists(atPath: root.appending(path: "models/encrypted/m/1/w.age").path))
        let next = try await reopened.pushModel("m", from: .files(["w": Data([2])]))
        #expect(next.version == 2)
        try await reopened.verifyModel(ModelReference(parsing: "m@2"))
    }

    @Test func liveStagingOfAnotherInstanceSurvivesAnOpen() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        let area = try StagingArea(in: VaultLayout(root: vault.root).staging)
        _ = try TestVault.open(in: directory)
        #expect(FileManager.default.fileExists(atPath: area.directory.path))
    }
}
