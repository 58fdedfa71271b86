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
}
