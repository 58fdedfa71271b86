import Foundation
import TestSupport
import Testing
import VaultCrypto

/// Issue #19: no stanza limit stricter than `age`'s (a file `age` decrypts, ours decrypts), and the limits that
/// bound a hostile header (how many stanzas, how many bytes) are documented and fail with a clear error.
@Suite struct AgeHeaderLimitsTests {
    /// A header: the version line, `stanzas`, and a (wrong) MAC line; then a few payload bytes.
    static func header(_ stanzas: [String]) -> Data {
        var text = "age-encryption.org/v1\n"
        for stanza in stanzas { text += stanza }
        text += "--- " + String(repeating: "A", count: 43) + "\n"
        return Data(text.utf8) + Data(repeating: 0, count: 32)
    }

    @Test func aFileToMoreThan1024RecipientsDecryptsAsWithAge() throws {
        let identities = (0..<1_500).map { _ in AgeX25519Identity.generate() }
        let plain = Data("to many recipients".utf8)
        let file = try Age.encrypt(plain, to: identities.map(\.recipient))
        #expect(try Age.decrypt(file, using: [identities[1_499]]) == plain)
        guard Interop.available("age") else { try Interop.skipOrFail("age") }
        let directory = try TemporaryDirectory()
        let encrypted = directory.url.appendingPathComponent("f.age")
        try file.write(to: encrypted)
        let key = directory.url.appendingPathComponent("key.txt")
        try AgeInteropTests.identityFile(identities[1_499]).write(to: key, atomically: true, encoding: .utf8)
        let result = try Interop.run("age", ["-d", "-i", key.path, encrypted.path])
        #expect(result.status == 0, "age -d: \(result.stderr)")
        #expect(result.stdoutData == plain)
    }

    /// One stanza whose body never ends: refused once the header passes 16 MiB, before it is held whole.
    @Test func aStanzaBodyThatNeverEndsIsRefusedAtTheDocumentedHeaderSize() throws {
        let line = String(repeating: "A", count: 64) + "\n"
        let body = String(repeating: line, count: (17 << 20) / 65)
        let file = Self.header(["-> X25519 " + String(repeating: "A", count: 43) + "\n" + body + "AAAA\n"])
        let identity = AgeX25519Identity.generate()
        do {
            _ = try Age.decrypt(file, using: [identity])
            Issue.record("a 17 MiB header was accepted")
        } catch let error as AgeError {
            #expect(error.kind == .header)
            #expect(error.description.contains("16 MiB"), "\(error)")
        }
    }

    @Test func moreStanzasThanTheDocumentedLimitAreRefusedWithAClearError() throws {
        let file = Self.header(Array(repeating: "-> x\n\n", count: 65_537))
        do {
            _ = try Age.decrypt(file, using: [AgeX25519Identity.generate()])
            Issue.record("65,537 stanzas were accepted")
        } catch let error as AgeError {
            #expect(error.kind == .header)
            #expect(error.description.contains("65,536"), "\(error)")
        }
        // At the limit the header parses; it then fails only because no identity matches.
        let atLimit = Self.header(Array(repeating: "-> x\n\n", count: 65_536))
        do {
            _ = try Age.decrypt(atLimit, using: [AgeX25519Identity.generate()])
            Issue.record("no identity matches, yet the file decrypted")
        } catch let error as AgeError {
            #expect(error.kind == .noIdentityMatched, "\(error)")
        }
    }
}
