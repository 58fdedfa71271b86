import Foundation
import TestSupport
import Testing

@testable import VaultCrypto

@Suite struct AgeRewrapTests {
    static func payload(of file: Data) throws -> [UInt8] {
        let reader = ByteReader(bytes: Array(file))
        _ = try AgeHeader.read(from: reader)
        return try reader.read(upTo: file.count)
    }

    @Test func rewrapKeepsPayloadAndChangesRecipients() throws {
        let old = AgeX25519Identity.generate()
        let new = AgeX25519Identity.generate()
        let plain = AgeRoundTripTests.plaintext(200_000)
        let file = try Age.encrypt(plain, to: [old.recipient])
        let rewrapped = try Age.rewrap(file, using: [old], for: [new.recipient])
        #expect(try Self.payload(of: rewrapped) == Self.payload(of: file))
        #expect(try Age.decrypt(rewrapped, using: [new]) == plain)
        #expect(throws: AgeError.noMatch) { try Age.decrypt(rewrapped, using: [old]) }
    }

    @Test func rewrapToHybridAndArmored() throws {
        let old = AgeX25519Identity.generate()
        let new = AgeHybridIdentity.generate()
        let plain = AgeRoundTripTests.plaintext(5000)
        let file = try Age.encrypt(plain, to: [old.recipient], armored: true)
        let rewrapped = try Age.rewrap(file, using: [old], for: [new.recipient])
        #expect(rewrapped.starts(with: "-----BEGIN AGE ENCRYPTED FILE-----".utf8))
        #expect(try Age.decrypt(rewrapped, using: [new]) == plain)
    }

    @Test func rewrapFileIsAtomicAndRefusesWrongIdentity() throws {
        let directory = try TemporaryDirectory()
        let old = AgeX25519Identity.generate()
        let new = AgeX25519Identity.generate()
        let input = directory.url.appendingPathComponent("in.age")
        let output = directory.url.appendingPathComponent("out.age")
        try Age.encrypt(AgeRoundTripTests.plaintext(70_000), to: [old.recipient]).write(to: input)
        #expect(throws: AgeError.noMatch) {
            try Age.rewrapFile(at: input, to: output, using: [new], for: [new.recipient])
        }
        #expect(try directory.contents() == ["in.age"])
        try Age.rewrapFile(at: input, to: output, using: [old], for: [new.recipient])
        #expect(try Age.decrypt(Data(contentsOf: output), using: [new]) == AgeRoundTripTests.plaintext(70_000))
        #expect(try Self.payload(of: Data(contentsOf: output)) == Self.payload(of: Data(contentsOf: input)))
    }
}
