import Crypto
import Foundation
import TestSupport
import Testing

@testable import VaultCrypto

/// A re-wrap streamed from the stored file (#14): a new header, then the stored payload read from the file that was
/// checked, with no re-wrapped copy written anywhere.
@Suite struct AgeStreamedRewrapTests {
    /// The bytes a source sends: its header, then its payload.
    static func sent(_ source: AgeRewrappedSource) throws -> Data {
        var output = Data(source.header)
        var payload = [UInt8](repeating: 0, count: source.payloadCount)
        let read = try payload.withUnsafeMutableBytes { try source.readPayload(into: $0, at: 0) }
        #expect(read == source.payloadCount)
        output += payload
        return output
    }

    @Test(arguments: [0, 1, 65_536, 300_000])
    func aStreamedRewrapDecryptsForTheNewRecipientOnlyAndDigestsThePlaintext(size: Int) throws {
        let directory = try TemporaryDirectory()
        let vault = AgeX25519Identity.generate()
        let caller = AgeX25519Identity.generate()
        let plain = AgeRoundTripTests.plaintext(size)
        let stored = directory.url.appending(path: "w.bin.age")
        try Age.encrypt(plain, to: [vault.recipient]).write(to: stored)
        let planned = try Age.rewrappedSize(ofFileAt: stored, for: [caller.recipient])
        let source = try Age.openRewrapped(
            at: stored, using: [vault], for: [caller.recipient], digestingPlaintext: true)
        #expect(source.size == planned)
        #expect(source.plaintextDigest?.sha256 == Array(SHA256.hash(data: plain)))
        let sent = try Self.sent(source)
        #expect(try Age.decrypt(sent, using: [caller]) == plain)
        #expect(throws: AgeError.self) { try Age.decrypt(sent, using: [vault]) }
        // What streams is what the whole-file re-wrap writes, but for the fresh header.
        let rewrapped = try Age.rewrap(try Data(contentsOf: stored), using: [vault], for: [caller.recipient])
        #expect(rewrapped.count == sent.count)
        #expect(rewrapped.suffix(source.payloadCount) == sent.suffix(source.payloadCount))
    }

    /// The streamed re-wrap is a standard age file: the reference `age` decrypts it with the caller's identity.
    @Test func aStreamedRewrapDecryptsWithAge() throws {
        guard Interop.available("age") else { try Interop.skipOrFail("age") }
        let directory = try TemporaryDirectory()
        let vault = AgeX25519Identity.generate()
        let caller = AgeX25519Identity.generate()
        let plain = AgeRoundTripTests.plaintext(3 * 65_536 + 17)
        let stored = directory.url.appending(path: "w.bin.age")
        try Age.encrypt(plain, to: [vault.recipient]).write(to: stored)
        let source = try Age.openRewrapped(
            at: stored, using: [vault], for: [caller.recipient], digestingPlaintext: true)
        let sent = directory.url.appending(path: "sent.age")
        try Self.sent(source).write(to: sent)
        let key = directory.url.appending(path: "key.txt")
        try AgeInteropTests.identityFile(caller).write(to: key, atomically: true, encoding: .utf8)
        let result = try Interop.run("age", ["-d", "-i", key.path, sent.path])
        #expect(result.status == 0, "age -d: \(result.stderr)")
        #expect(result.stdoutData == plain)
    }

    /// The attack (the review of 2026-12-04, now on the streamed path): once the file was opened and checked, a
    /// file renamed over it (anyone can encrypt to the vault's recipient) is never what is sent; and a stored
    /// payload that does not authenticate fails the open, before any header exists to send.
    @Test func aFileSwappedAfterTheCheckIsNeverSentAndABadPayloadFailsTheOpen() throws {
        let directory = try TemporaryDirectory()
        let vault = AgeX25519Identity.generate()
        let caller = AgeX25519Identity.generate()
        let genuine = Data("genuine weights".utf8)
        let stored = directory.url.appending(path: "w.bin.age")
        try Age.encrypt(genuine, to: [vault.recipient]).write(to: stored)
        let source = try Age.openRewrapped(
            at: stored, using: [vault], for: [caller.recipient], digestingPlaintext: true)
        try Age.encrypt(Data("EVIL-EVIL-EVIL!".utf8), to: [vault.recipient]).write(to: stored, options: .atomic)
        #expect(try Age.decrypt(try Self.sent(source), using: [caller]) == genuine)

        var damaged = try Age.encrypt(AgeRoundTripTests.plaintext(100_000), to: [vault.recipient])
        damaged[damaged.count - 10] ^= 0x01
        try damaged.write(to: stored, options: .atomic)
        #expect(throws: AgeError.self) {
            _ = try Age.openRewrapped(at: stored, using: [vault], for: [caller.recipient], digestingPlaintext: true)
        }
    }
}

/// The header digest an encryption returns (#14): the SHA-256 of exactly the header bytes written, which a streamed
/// re-wrap can require, checked before any key is unwrapped and from the very bytes it then parses.
@Suite struct AgeRecordedHeaderTests {
    @Test(arguments: [0, 65_536, 300_000])
    func theHeaderDigestIsTheStoredHeadersAndARequiredHeaderOpensWithoutReadingThePayload(size: Int) throws {
        let directory = try TemporaryDirectory()
        let vault = AgeX25519Identity.generate()
        let caller = AgeX25519Identity.generate()
        let plain = AgeRoundTripTests.plaintext(size)
        let input = directory.url.appending(path: "w.bin")
        try plain.write(to: input)
        let stored = directory.url.appending(path: "w.bin.age")
        FileManager.default.createFile(atPath: stored.path, contents: nil)
        let output = try FileHandle(forWritingTo: stored)
        let digests = try Age.encryptFileDigestingPlaintextAndHeader(
            at: input, into: output, recipients: [vault.recipient])
        try output.close()
        #expect(digests.plaintext.sha256 == Array(SHA256.hash(data: plain)))
        let file = try Data(contentsOf: stored)
        #expect(digests.headerSHA256 == (try Age.headerSHA256(of: file)))
        #expect(try Age.headerSHA256(of: Age.encrypt(plain, to: [vault.recipient])) != digests.headerSHA256)

        // A damaged payload still opens under the recorded header: the receiver authenticates the payload.
        var damaged = file
        damaged[damaged.count - 1] ^= 0x01
        try damaged.write(to: stored, options: .atomic)
        let source = try Age.openRewrapped(
            at: stored, using: [vault], for: [caller.recipient], digestingPlaintext: false,
            requiringHeaderSHA256: digests.headerSHA256)
        #expect(source.plaintextDigest == nil)
        // The vault compares the payload's length with this before it sends a recorded-header file.
        #expect(source.payloadCount == Age.sealedPayloadSize(ofPlaintext: size))
        #expect(throws: AgeError.self) { try Age.decrypt(try AgeStreamedRewrapTests.sent(source), using: [caller]) }
    }

    /// The attack: another file encrypted to the same recipient (so its header unwraps with the same identity) put
    /// where the recorded one was. Its header differs, and the open throws before any key is unwrapped or wrapped.
    @Test func anotherFilesHeaderIsRefused() throws {
        let directory = try TemporaryDirectory()
        let vault = AgeX25519Identity.generate()
        let genuine = try Age.encrypt(Data("genuine weights".utf8), to: [vault.recipient])
        let stored = directory.url.appending(path: "w.bin.age")
        try Age.encrypt(Data("another model".utf8), to: [vault.recipient]).write(to: stored)
        let error = #expect(throws: AgeError.self) {
            _ = try Age.openRewrapped(
                at: stored, using: [vault], for: [AgeX25519Identity.generate().recipient],
                digestingPlaintext: false, requiringHeaderSHA256: try Age.headerSHA256(of: genuine))
        }
        #expect(error == .headerMismatch)
    }
}
