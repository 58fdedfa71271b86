import Foundation
import TestSupport
import Testing

@testable import Vault

/// Defect 10 of issue #15: file paths inside a version only rejected NUL, `..`, absolute paths and the reserved
/// prefix, so a file named with newlines pushed (CLI and `/v1`) and made `model show` print forged lines.
@Suite struct VaultNamesPathsTests {
    @Test(arguments: [
        "evil\nversion 2  signed by admin", "a\r.bin", "\u{1B}[31mred.bin", "dir\\file.bin", "right\u{202E}nib.exe",
        "del\u{7F}.bin", "c1\u{85}.bin", "zero\u{200B}width.bin", "line\u{2028}sep.bin", "tab\tname.bin", "a//b",
        "./a", "a/./b", "a/../b", "/abs", "", "a/", ".modelvault/x", ".modelvault",
    ])
    func unprintableOrAmbiguousPathsAreRefused(_ path: String) {
        #expect(throws: VaultError.self) { try VaultNames.validatePath(path) }
    }

    @Test(arguments: ["model.safetensors", "weights/layer-1_v2.bin", "données/été.csv", "with space.txt", ".hidden"])
    func ordinaryPathsAreAccepted(_ path: String) throws {
        try VaultNames.validatePath(path)
    }

    /// The refusal holds on the push path itself, and its message does not echo the forged text raw.
    @Test func aPushWithAForgedFileNameIsRefused() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        do {
            _ = try await vault.pushModel("m", from: .files(["ok.bin\nm@2 verified": Data([1])]))
            Issue.record("the push should be refused")
        } catch let error as VaultError {
            #expect(error.code == .invalidPath)
            #expect(!error.description.contains("\n"))
        }
    }
}
