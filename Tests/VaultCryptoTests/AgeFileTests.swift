import Foundation
import TestSupport
import Testing

@testable import VaultCrypto

@Suite struct AgeFileTests {
    @Test func encryptAndDecryptFiles() throws {
        let directory = try TemporaryDirectory()
        let identity = AgeX25519Identity.generate()
        let plainURL = directory.url.appendingPathComponent("model.bin")
        let encryptedURL = directory.url.appendingPathComponent("model.bin.age")
        let decryptedURL = directory.url.appendingPathComponent("model.out")
        let plain = AgeRoundTripTests.plaintext(1_000_000)
        try plain.write(to: plainURL)
        try Age.encryptFile(at: plainURL, to: encryptedURL, recipients: [identity.recipient])
        try Age.decryptFile(at: encryptedURL, to: decryptedURL, using: [identity])
        #expect(try Data(contentsOf: decryptedURL) == plain)
        let attributes = try FileManager.default.attributesOfItem(atPath: decryptedURL.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    /// Flipping any single byte of a small encrypted file makes decryption fail and leaves no output file.
    @Test func everySingleByteFlipFails() throws {
        let directory = try TemporaryDirectory()
        let identity = AgeX25519Identity.generate()
        let file = try Age.encrypt(AgeRoundTripTests.plaintext(100), to: [identity.recipient])
        let input = directory.url.appendingPathComponent("in.age")
        let output = directory.url.appendingPathComponent("out")
        for position in 0..<file.count {
            var tampered = file
            tampered[position] ^= 0x01
            try tampered.write(to: input)
            #expect(throws: AgeError.self, "byte \(position)") {
                try Age.decryptFile(at: input, to: output, using: [identity])
            }
            #expect(try directory.contents() == ["in.age"], "byte \(position)")
        }
    }

    @Test func truncationAndTrailingDataFail() throws {
        let identity = AgeX25519Identity.generate()
        let file = try Age.encrypt(AgeRoundTripTests.plaintext(200_000), to: [identity.recipient])
        #expect(throws: AgeError.self) { try Age.decrypt(file.prefix(file.count - 1), using: [identity]) }
        #expect(throws: AgeError.truncated) {
            try Age.decrypt(file.prefix(file.count - (200_000 - 3 * 65536 + 16)), using: [identity])
        }
        #expect(throws: AgeError.self) { try Age.decrypt(file + Data([0]), using: [identity]) }
    }

    @Test func atomicWriteSetsPermissions() throws {
        let directory = try TemporaryDirectory()
        let url = directory.url.appendingPathComponent("key.txt")
        try AtomicFile.write(Data("secret".utf8), to: url, permissions: 0o600)
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try directory.contents() == ["key.txt"])
    }
}
