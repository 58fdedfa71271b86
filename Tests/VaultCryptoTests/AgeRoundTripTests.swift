import Crypto
import Foundation
import Testing

@testable import VaultCrypto

@Suite struct AgeRoundTripTests {
    static let sizes = [0, 1, 100, 65535, 65536, 65537, 3 * 65536 + 5]

    static func plaintext(_ count: Int) -> Data {
        Data((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
    }

    @Test(arguments: sizes, [false, true])
    func x25519RoundTrip(size: Int, armored: Bool) throws {
        let identity = AgeX25519Identity.generate()
        let plain = Self.plaintext(size)
        let file = try Age.encrypt(plain, to: [identity.recipient], armored: armored)
        #expect(try Age.decrypt(file, using: [identity]) == plain)
    }

    @Test func severalRecipientsEachDecrypt() throws {
        let identities = (0..<3).map { _ in AgeX25519Identity.generate() }
        let plain = Self.plaintext(70000)
        let file = try Age.encrypt(plain, to: identities.map(\.recipient))
        for identity in identities {
            #expect(try Age.decrypt(file, using: [identity]) == plain)
        }
    }

    @Test func wrongIdentityIsNoMatch() throws {
        let file = try Age.encrypt(Self.plaintext(10), to: [AgeX25519Identity.generate().recipient])
        #expect(throws: AgeError.noMatch) { try Age.decrypt(file, using: [AgeX25519Identity.generate()]) }
    }

    @Test(arguments: [0, 1, 65537])
    func hybridRoundTrip(size: Int) throws {
        let identity = AgeHybridIdentity.generate()
        let parsed = try AgeHybridIdentity(identity.encoded)
        let recipient = try AgeHybridRecipient(identity.recipient.encoded)
        #expect(parsed.recipient.encoded == recipient.encoded)
        let plain = Self.plaintext(size)
        let file = try Age.encrypt(plain, to: [recipient], armored: size == 1)
        #expect(try Age.decrypt(file, using: [parsed]) == plain)
        #expect(throws: AgeError.noMatch) { try Age.decrypt(file, using: [AgeHybridIdentity.generate()]) }
    }

    @Test func specExampleHybridKeysMatch() throws {
        // The example pair in the C2SP age spec checks the X-Wing seed expansion.
        let identity = try AgeHybridIdentity(
            "AGE-SECRET-KEY-PQ-1XX76JRALNLXDMEW0CRK45QMCCH4X06SE84UN3VPM33W6HWDX0H3SK3ZQFR")
        #expect(identity.recipient.encoded.hasPrefix("age1pq1x34nzsvr0rxjsgdn8zgyhfe8j7ceq5r9rdelkjuh3y235jzxshfg87"))
    }

    @Test func mixingHybridAndClassicIsRefused() throws {
        let recipients: [any AgeRecipient] = [
            AgeHybridIdentity.generate().recipient, AgeX25519Identity.generate().recipient,
        ]
        #expect(throws: AgeError.self) { try Age.encrypt(Data(), to: recipients) }
    }

    @Test func scryptRoundTripAndLimits() throws {
        let plain = Self.plaintext(1000)
        let file = try Age.encrypt(plain, to: [AgeScryptRecipient(passphrase: "correct horse", workFactor: 10)])
        #expect(try Age.decrypt(file, using: [AgeScryptIdentity(passphrase: "correct horse")]) == plain)
        #expect(throws: AgeError.noMatch) { try Age.decrypt(file, using: [AgeScryptIdentity(passphrase: "wrong")]) }
        #expect(throws: AgeError.self) {
            try Age.decrypt(file, using: [AgeScryptIdentity(passphrase: "correct horse", maxWorkFactor: 9)])
        }
        let mixed: [any AgeRecipient] = [
            AgeScryptRecipient(passphrase: "a", workFactor: 10), AgeX25519Identity.generate().recipient,
        ]
        #expect(throws: AgeError.self) { try Age.encrypt(plain, to: mixed) }
    }

    @Test func defaultScryptWorkFactorIs18() throws {
        let file = try Age.encrypt(Data("x".utf8), to: [AgeScryptRecipient(passphrase: "p")])
        let header = try AgeHeader.read(from: ByteReader(bytes: Array(file)))
        #expect(header.stanzas.first?.arguments.last == "18")
    }

    @Test func keysRoundTripThroughTheirEncodings() throws {
        let identity = AgeX25519Identity.generate()
        let parsed = try AgeX25519Identity(identity.encoded)
        #expect(parsed.recipient == identity.recipient)
        #expect(try AgeX25519Recipient(identity.recipient.encoded) == identity.recipient)
        #expect(identity.encoded.hasPrefix("AGE-SECRET-KEY-1"))
        #expect(identity.recipient.encoded.hasPrefix("age1"))
        var corrupted = Array(identity.recipient.encoded)
        corrupted[10] = corrupted[10] == "q" ? "p" : "q"
        #expect(throws: AgeError.self) { try AgeX25519Recipient(String(corrupted)) }
    }

    @Test func identityFileWithComments() throws {
        let first = AgeX25519Identity.generate()
        let second = AgeHybridIdentity.generate()
        let text = """
            # created: 2026-01-01T00:00:00Z
            # public key: \(first.recipient.encoded)
            \(first.encoded)

            \(second.encoded)
            """
        let identities = try AgeKeys.parseIdentities(text)
        #expect(identities.count == 2)
        #expect(throws: AgeError.self) { try AgeKeys.parseIdentities("# only a comment\n") }
        #expect(throws: AgeError.self) { try AgeKeys.parseIdentities("not a key\n") }
        let recipients = try AgeKeys.parseRecipients("# team\n\(first.recipient.encoded)\n\n")
        #expect(recipients.count == 1)
    }

    @Test func passphraseProtectedIdentityFile() throws {
        let identity = AgeX25519Identity.generate()
        let keyFile = try Age.encrypt(
            Data("\(identity.encoded)\n".utf8), to: [AgeScryptRecipient(passphrase: "pw", workFactor: 10)],
            armored: true)
        #expect(AgeKeys.isEncryptedIdentityFile(keyFile))
        let parsed = try AgeKeys.parseIdentities(keyFile) { "pw" }
        let file = try Age.encrypt(Data("hi".utf8), to: [identity.recipient])
        #expect(try Age.decrypt(file, using: parsed) == Data("hi".utf8))
        #expect(throws: AgeError.self) { try AgeKeys.parseIdentities(keyFile) { "bad" } }
    }
}
