import Foundation
import TestSupport
import Testing

@testable import Vault
@testable import VaultCrypto

/// Defect 9 of issue #15: `model pull` and `data get` deleted files a user added to the output directory while
/// the pull ran. Pulls fill a fresh private directory and rename it into place; they never delete what they did
/// not create.
@Suite struct VaultPullOutputTests {
    @Test func aFileAddedToTheOutputDuringAPullSurvives() async throws {
        let directory = try TemporaryDirectory()
        let output = directory.url.appending(path: "out")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let mine = output.appending(path: "notes.txt")
        await #expect(throws: VaultError.self) {
            try await Vault.writeAtomically(to: output) { temporary in
                try Data("pulled".utf8).write(to: temporary.appending(path: "model.bin"))
                // The user saves a file into the (so far empty) output while the pull runs.
                try Data("mine".utf8).write(to: mine)
            }
        }
        #expect(try Data(contentsOf: mine) == Data("mine".utf8))
        // Nothing of the pull is left behind: no partial directory beside the output.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.url.path)
        #expect(leftovers == ["out"], "\(leftovers)")
    }

    /// Review 5, deploy F2: a re-wrap or pull whose output cannot be written (a full disk) was reported as "the stored
    /// file is damaged or tampered" (exit 6), sending the operator after an attacker who was never there. An output
    /// failure (`AgeError.Kind.output`, seen on a real full disk in `AgeRewrapTests.aFullDiskIsAnOutputFailureNotDamage`)
    /// is a storage error now; a file that does not decrypt is still reported as damaged.
    @Test func aRewrapThatCannotWriteItsOutputIsAStorageErrorNotTampering() {
        let full = Vault.readFailure(AgeError.output("cannot write the output"), of: "w.bin", in: "m@1")
        #expect(full.code == .storage, "\(full)")
        #expect(Vault.readFailure(AgeError.headerMAC, of: "w.bin", in: "m@1").code == .decryptionFailed)
        #expect(Vault.readFailure(AgeError.truncated, of: "w.bin", in: "m@1").code == .decryptionFailed)
    }

    @Test func aPullIntoAnEmptyDirectoryStillWorks() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        _ = try await vault.pushModel("m", from: .files(["a.bin": Data([1, 2, 3])]))
        let output = directory.url.appending(path: "empty")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        _ = try await vault.pullModel(ModelReference(parsing: "m@1"), to: output)
        #expect(try Data(contentsOf: output.appending(path: "a.bin")) == Data([1, 2, 3]))
    }
}
