import Crypto
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

    /// Review 5, deploy F2: writing to a full disk (`/dev/full` answers every write with ENOSPC) while decrypting or
    /// re-wrapping is an output failure, which the vault reports as storage, not as a damaged file; the same input
    /// still decrypts.
    @Test(.enabled(if: FileManager.default.isWritableFile(atPath: "/dev/full")))
    func aFullDiskIsAnOutputFailureNotDamage() throws {
        let directory = try TemporaryDirectory()
        let old = AgeX25519Identity.generate()
        let new = AgeX25519Identity.generate()
        let input = directory.url.appendingPathComponent("in.age")
        let plain = AgeRoundTripTests.plaintext(300_000)
        try Age.encrypt(plain, to: [old.recipient]).write(to: input)
        let full = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        defer { try? full.close() }
        do {
            _ = try Age.decryptFileDigestingPlaintext(at: input, into: full, using: [old])
            Issue.record("decrypting into a full disk succeeded")
        } catch let error as AgeError {
            #expect(error.kind == .output, "\(error)")
        }
        do {
            let source = try FileHandle(forReadingFrom: input)
            defer { try? source.close() }
            try Age.rewrap(from: ByteReader(handle: source), using: [old], for: [new.recipient]) {
                try Age.write($0, to: full)
            }
            Issue.record("re-wrapping into a full disk succeeded")
        } catch let error as AgeError {
            #expect(error.kind == .output, "\(error)")
        }
        #expect(try Age.decrypt(try Data(contentsOf: input), using: [old]) == plain)
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

    /// The digesting re-wrap hands back the digest of the plaintext its output holds, copies the payload byte for
    /// byte, and leaves no output when a chunk fails to authenticate.
    @Test func digestingRewrapChecksWhatItCopies() throws {
        let directory = try TemporaryDirectory()
        let old = AgeX25519Identity.generate()
        let new = AgeX25519Identity.generate()
        let plain = AgeRoundTripTests.plaintext(200_000)
        let input = directory.url.appendingPathComponent("in.age")
        let output = directory.url.appendingPathComponent("out.age")
        let sealed = try Age.encrypt(plain, to: [old.recipient])
        try sealed.write(to: input)
        let digest = try Age.rewrapFileDigestingPlaintext(at: input, to: output, using: [old], for: [new.recipient])
        #expect(digest == AgePlaintextDigest(sha256: Array(SHA256.hash(data: plain)), count: plain.count))
        #expect(try Age.decrypt(Data(contentsOf: output), using: [new]) == plain)
        #expect(try Self.payload(of: Data(contentsOf: output)) == Self.payload(of: sealed))
        var flipped = sealed
        flipped[flipped.count - 100] ^= 1
        try flipped.write(to: input)
        try FileManager.default.removeItem(at: output)
        #expect(throws: AgeError.self) {
            try Age.rewrapFileDigestingPlaintext(at: input, to: output, using: [old], for: [new.recipient])
        }
        #expect(try directory.contents() == ["in.age"])
    }
}
