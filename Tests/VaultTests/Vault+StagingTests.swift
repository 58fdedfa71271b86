import Foundation
import TestSupport
import Testing

@testable import Vault

/// What `data add` and `model push` accept as input files.
@Suite struct VaultStagingTests {
    /// Defect 11 of issue #15: `data add NAME /dev/zero` wrote 643 MB into staging in 4 s, without end. A
    /// device is refused before anything is staged.
    @Test func aDeviceIsRefusedBeforeStaging() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        do {
            _ = try await vault.addDataset("zeros", files: [URL(filePath: "/dev/zero")])
            Issue.record("/dev/zero should be refused")
        } catch let error as VaultError {
            #expect(error.description.contains("not a regular file"), "\(error.description)")
        }
        let staged = try FileManager.default.contentsOfDirectory(
            atPath: directory.url.appending(path: "vault/.staging").path)
        #expect(staged.isEmpty, "\(staged)")
    }

    /// Defect 14 of issue #15: `data add` on a directory said "cannot encrypt NAME".
    @Test func aDirectoryIsNamedAsADirectory() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        let folder = directory.url.appending(path: "folder")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        do {
            _ = try await vault.addDataset("d", files: [folder])
            Issue.record("a directory should be refused")
        } catch let error as VaultError {
            #expect(error.description.contains("folder is a directory"), "\(error.description)")
            #expect(!error.description.contains("cannot encrypt"))
        }
    }
}
