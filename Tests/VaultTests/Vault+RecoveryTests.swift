import Foundation
import TestSupport
import Testing

@testable import Vault

/// Crash recovery when the vault is opened: what it removes, and what it must never touch.
@Suite struct VaultRecoveryTests {
    /// A directory outside the vault holding a file that must survive, shaped like a model with a version.
    static func victim(in directory: TemporaryDirectory) throws -> URL {
        let outside = directory.url.appending(path: "victim")
        try FileManager.default.createDirectory(
            at: outside.appending(path: "1"), withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: outside.appending(path: "1/precious.txt"))
        try Data("keep me".utf8).write(to: outside.appending(path: "precious.txt"))
        return outside
    }

    static func survived(_ outside: URL) -> Bool {
        FileManager.default.fileExists(atPath: outside.appending(path: "1/precious.txt").path)
            && FileManager.default.fileExists(atPath: outside.appending(path: "precious.txt").path)
    }

    /// Defect 2 of issue #15: a symlink placed under `models/encrypted/` (or a data directory) by someone with
    /// write access to the vault directory must not make recovery delete the directory it points at.
    @Test(arguments: ["models/encrypted/evil", "data/raw/evil", "data/processed/evil"])
    func recoveryRefusesASymlinkedModelOrDatasetDirectory(_ place: String) async throws {
        let directory = try TemporaryDirectory()
        _ = try TestVault.create(in: directory)
        let outside = try Self.victim(in: directory)
        let link = directory.url.appending(path: "vault").appending(path: place)
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: outside)
        do {
            _ = try TestVault.open(in: directory)
            Issue.record("opening a vault with a symlink in it should be refused")
        } catch let error as VaultError {
            #expect(error.code == .invalidPath)
            #expect(error.description.contains("symbolic link"), "\(error.description)")
            #expect(error.description.contains(place), "\(error.description)")
        }
        #expect(Self.survived(outside))
    }

    /// Review finding 4: only the last component was checked, so `models` (or `data`) replaced by a link to a
    /// tree shaped like the vault's had the "versions" there deleted. Every component from the vault root down
    /// is now opened without following links.
    @Test(arguments: ["models", "data"])
    func recoveryNeverFollowsALinkHigherUpThePath(_ component: String) async throws {
        let directory = try TemporaryDirectory()
        _ = try TestVault.create(in: directory)
        let vault = directory.url.appending(path: "vault")
        let outside = directory.url.appending(path: "outside-\(component)")
        try FileManager.default.moveItem(at: vault.appending(path: component), to: outside)
        let planted = outside.appending(path: component == "models" ? "encrypted/evil/1" : "raw/evil/1")
        try FileManager.default.createDirectory(at: planted, withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: planted.appending(path: "precious.txt"))
        try Data("keep me".utf8).write(to: planted.appending(path: ".precious.tmp"))
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSinceNow: -3600)],
            ofItemAtPath: planted.appending(path: ".precious.tmp").path)
        try FileManager.default.createSymbolicLink(at: vault.appending(path: component), withDestinationURL: outside)
        do {
            _ = try TestVault.open(in: directory)
            Issue.record("opening a vault whose \(component) directory is a link should be refused")
        } catch let error as VaultError {
            #expect(error.code == .invalidPath)
            #expect(error.description.contains("symbolic link"), "\(error.description)")
        }
        #expect(FileManager.default.fileExists(atPath: planted.appending(path: "precious.txt").path))
        #expect(FileManager.default.fileExists(atPath: planted.appending(path: ".precious.tmp").path))
    }

    /// Defect 2, staging: a symlinked orphan (with or without a lock file) and a symlink inside an orphaned
    /// staging directory are refused, and what they point at survives.
    @Test(arguments: [false, true])
    func recoveryRefusesSymlinksInStaging(withLockFile: Bool) async throws {
        let directory = try TemporaryDirectory()
        _ = try TestVault.create(in: directory)
        let outside = try Self.victim(in: directory)
        let staging = directory.url.appending(path: "vault/.staging")
        try FileManager.default.createSymbolicLink(
            at: staging.appending(path: "orphan"), withDestinationURL: outside)
        if withLockFile { try Data().write(to: staging.appending(path: "orphan.lock")) }
        await expectVaultError(.invalidPath) { try TestVault.open(in: directory) }
        #expect(Self.survived(outside))
        // A link one level down in a real orphaned directory: the directory goes, the link's target stays.
        try FileManager.default.removeItem(at: staging.appending(path: "orphan"))
        try FileManager.default.createDirectory(
            at: staging.appending(path: "orphan"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: staging.appending(path: "orphan/inner"), withDestinationURL: outside)
        _ = try TestVault.open(in: directory)
        #expect(!FileManager.default.fileExists(atPath: staging.appending(path: "orphan").path))
        #expect(Self.survived(outside))
    }

    /// Defect 12 of issue #15: a killed rotation left a `*.rotate.*.tmp` file (81 MB) that recovery never
    /// removed. Every temporary-file pattern the vault writes is removed once it is stale.
    @Test func recoveryRemovesStaleRotationAndAtomicWriteDebris() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        _ = try await vault.pushModel("m", from: .files(["a.bin": Data([1, 2, 3])]))
        let version = directory.url.appending(path: "vault/models/encrypted/m/1")
        let debris = ["..a.bin.age.rotate.k3j9x.tmp", ".a.bin.age.rotate", ".a.bin.age.5f2a.tmp"]
        let old = Date().addingTimeInterval(-3600)
        for name in debris {
            let url = version.appending(path: name)
            try Data(repeating: 7, count: 64).write(to: url)
            try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: url.path)
        }
        // A fresh one may belong to a writer at work right now: it stays.
        try Data([1]).write(to: version.appending(path: ".b.bin.age.rotate"))
        _ = try TestVault.open(in: directory)
        let left = try FileManager.default.contentsOfDirectory(atPath: version.path).sorted()
        #expect(left.filter { $0.hasPrefix(".") } == [".b.bin.age.rotate"], "\(left)")
        #expect(left.contains("a.bin.age"))
    }

    /// Defect 12: rotated blobs changed mode from 0600 to 0644.
    @Test(arguments: [false, true])
    func rotationKeepsBlobsPrivate(reencrypt: Bool) async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        _ = try await vault.pushModel("m", from: .files(["a.bin": Data([1, 2, 3])]))
        let blob = directory.url.appending(path: "vault/models/encrypted/m/1/a.bin.age")
        func mode() throws -> Int? {
            try FileManager.default.attributesOfItem(atPath: blob.path)[.posixPermissions] as? Int
        }
        #expect(try mode() == 0o600)
        _ = try await vault.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: reencrypt, workFactor: 10, stopAfter: nil, context: .local)
        #expect(try mode() == 0o600)
    }
}
