import Crypto
import Foundation
import TestSupport
import Testing

@testable import VaultCrypto

/// The parallel file pipeline (regular files read by offset, segments sealed and opened across cores) behaves
/// exactly like the sequential stream: same bytes, same errors, same plaintext released before a failure.
@Suite struct AgePipelineTests {
    /// Sizes around chunk and segment boundaries (a segment is 16 chunks).
    static let sizes = [
        0, 1, 4_095, 4_096, 65_535, 65_536, 65_537, 16 * 65_536 - 1, 16 * 65_536, 16 * 65_536 + 1,
        40 * 65_536 + 123,
    ]

    /// Decrypts `file` through file handles (the parallel path for binary files) and returns what reached the
    /// output and the error, if any.
    static func decryptThroughFiles(
        _ file: [UInt8], using identities: [any AgeIdentity]
    ) throws -> (released: [UInt8], error: (any Error)?) {
        let directory = try TemporaryDirectory()
        let input = directory.url.appendingPathComponent("in.age")
        let output = directory.url.appendingPathComponent("out")
        try Data(file).write(to: input)
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let source = try FileHandle(forReadingFrom: input)
        let sink = try FileHandle(forWritingTo: output)
        var failure: (any Error)?
        do { try Age.decrypt(from: source, to: sink, using: identities) } catch { failure = error }
        try source.close()
        try sink.close()
        return ([UInt8](try Data(contentsOf: output)), failure)
    }

    /// Decrypts `file` as pull does (into a handle of a file that will be fsynced: written around the page cache
    /// where possible), after `lead` bytes already in the output so the writes start unaligned, and returns what
    /// reached the output after them and the error, if any.
    static func decryptIntoAtomicOutput(
        _ file: [UInt8], using identities: [any AgeIdentity], lead: Int
    ) throws -> (released: [UInt8], error: (any Error)?) {
        let directory = try TemporaryDirectory()
        let input = directory.url.appendingPathComponent("in.age")
        let output = directory.url.appendingPathComponent("out")
        try Data(file).write(to: input)
        try Data(repeating: 0x5A, count: lead).write(to: output)
        let sink = try FileHandle(forWritingTo: output)
        try sink.seekToEnd()
        var failure: (any Error)?
        do { _ = try Age.decryptFileDigestingPlaintext(at: input, into: sink, using: identities) } catch {
            failure = error
        }
        try sink.close()
        let written = [UInt8](try Data(contentsOf: output))
        #expect(written.prefix(lead).allSatisfy { $0 == 0x5A })
        return (Array(written.dropFirst(lead)), failure)
    }

    /// Decrypts `file` sequentially in memory and returns what was released and the error, if any.
    static func decryptSequentially(
        _ file: [UInt8], using identities: [any AgeIdentity]
    ) -> (released: [UInt8], error: (any Error)?) {
        var released: [UInt8] = []
        do {
            try Age.decrypt(from: ByteReader(bytes: file), using: identities) { released += $0 }
        } catch {
            return (released, error)
        }
        return (released, nil)
    }

    /// Every binary CCTV vector through file handles (armored files stream sequentially, as before).
    @Test(arguments: CCTVVector.names)
    func vectorGivesExpectedResultThroughFiles(_ name: String) throws {
        let vector = try CCTVVector.load(name)
        guard !vector.armored else { return }
        let identities = try AgeCCTVTests.identities(for: vector)
        let (released, error) = try Self.decryptThroughFiles(vector.file, using: identities)
        #expect((error.map(AgeCCTVTests.outcome) ?? "success") == vector.expect, "\(name)")
        if vector.expect == "success" || vector.expect == "payload failure" {
            #expect(Array(SHA256.hash(data: released)).hex == vector.payloadHash, "\(name) released plaintext")
        }
    }

    @Test(arguments: sizes)
    func fileRoundTripMatchesSequentialStream(size: Int) throws {
        let directory = try TemporaryDirectory()
        let identity = AgeX25519Identity.generate()
        let plain = AgeRoundTripTests.plaintext(size)
        let plainURL = directory.url.appendingPathComponent("plain")
        let sealedURL = directory.url.appendingPathComponent("sealed.age")
        let openedURL = directory.url.appendingPathComponent("opened")
        try plain.write(to: plainURL)
        let expected = AgePlaintextDigest(sha256: Array(SHA256.hash(data: plain)), count: size)

        let sealingDigest = try Age.encryptFileDigestingPlaintext(
            at: plainURL, to: sealedURL, recipients: [identity.recipient])
        #expect(sealingDigest == expected)
        let sealed = try Data(contentsOf: sealedURL)
        #expect(try Age.decrypt(sealed, using: [identity]) == plain)

        let openingDigest = try Age.decryptFileDigestingPlaintext(at: sealedURL, to: openedURL, using: [identity])
        #expect(openingDigest == expected)
        #expect(try Data(contentsOf: openedURL) == plain)
        #expect(try Age.plaintextDigest(ofFileAt: sealedURL, using: [identity]) == expected)

        // Into a handle after unaligned leading bytes, as a pull writes (around the page cache where possible).
        let atomic = try Self.decryptIntoAtomicOutput([UInt8](sealed), using: [identity], lead: 4_095)
        #expect(atomic.error == nil)
        #expect(Data(atomic.released) == plain)

        // A file sealed sequentially in memory opens through the parallel path too.
        let sequential = try Age.encrypt(plain, to: [identity.recipient])
        let (released, error) = try Self.decryptThroughFiles([UInt8](sequential), using: [identity])
        #expect(error == nil)
        #expect(Data(released) == plain)
    }

    /// Damage in a later segment: the parallel path releases exactly the authenticated prefix the sequential
    /// stream releases and reports the same error.
    @Test(arguments: ["flip", "swap", "truncate", "drop-last", "append", "final-early"])
    func damageReleasesTheSamePrefix(_ damage: String) throws {
        let identity = AgeX25519Identity.generate()
        let plain = AgeRoundTripTests.plaintext(40 * 65_536 + 123)
        var file = [UInt8](try Age.encrypt(plain, to: [identity.recipient]))
        let payloadStart = file.count - (plain.count + 41 * 16)
        func chunk(_ index: Int) -> Range<Int> {
            let lower = payloadStart + index * 65_552
            return lower..<min(file.count, lower + 65_552)
        }
        switch damage {
        case "flip": file[chunk(21).lowerBound + 100] ^= 0x01
        case "swap":
            let third = Array(file[chunk(3)])
            file.replaceSubrange(chunk(3), with: file[chunk(30)])
            file.replaceSubrange(chunk(30), with: third)
        case "truncate": file.removeLast(10)
        case "drop-last": file.removeSubrange(chunk(40))
        case "append": file += file[chunk(40)]
        case "final-early":
            // Re-seal chunk 20 as the final chunk: authentic, but data follows it.
            let payload = try Self.payload(of: file, identity: identity)
            let resealed = payload.seal(plain[(20 * 65_536)..<(21 * 65_536)], index: 20, final: true)
            file.replaceSubrange(chunk(20), with: resealed)
        default: Issue.record("unknown damage")
        }
        let sequential = Self.decryptSequentially(file, using: [identity])
        let parallel = try Self.decryptThroughFiles(file, using: [identity])
        let sequentialError = try #require(sequential.error as? AgeError, "\(damage)")
        let parallelError = try #require(parallel.error as? AgeError, "\(damage)")
        #expect(parallelError == sequentialError, "\(damage)")
        #expect(parallel.released == sequential.released, "\(damage)")
        #expect(parallel.released.count < plain.count, "\(damage)")
        for lead in [0, 1_000] {
            let atomic = try Self.decryptIntoAtomicOutput(file, using: [identity], lead: lead)
            #expect(atomic.error as? AgeError == sequentialError, "\(damage), lead \(lead)")
            #expect(atomic.released == sequential.released, "\(damage), lead \(lead)")
        }
    }

    /// A damaged file gives no output file and no digest.
    @Test func damagedFileLeavesNoOutput() throws {
        let directory = try TemporaryDirectory()
        let identity = AgeX25519Identity.generate()
        var file = try Age.encrypt(AgeRoundTripTests.plaintext(20 * 65_536), to: [identity.recipient])
        file[file.count - 70_000] ^= 0x80
        let input = directory.url.appendingPathComponent("in.age")
        try file.write(to: input)
        #expect(throws: AgeError.self) {
            try Age.decryptFileDigestingPlaintext(
                at: input, to: directory.url.appendingPathComponent("out"), using: [identity])
        }
        #expect(throws: AgeError.self) { try Age.plaintextDigest(ofFileAt: input, using: [identity]) }
        #expect(try directory.contents() == ["in.age"])
    }

    /// Armored files still decrypt through file handles (sequentially).
    @Test func armoredFileDecryptsThroughFiles() throws {
        let identity = AgeX25519Identity.generate()
        let plain = AgeRoundTripTests.plaintext(100_000)
        let file = try Age.encrypt(plain, to: [identity.recipient], armored: true)
        let (released, error) = try Self.decryptThroughFiles([UInt8](file), using: [identity])
        #expect(error == nil)
        #expect(Data(released) == plain)
    }

    static func payload(of file: [UInt8], identity: AgeX25519Identity) throws -> AgePayload {
        let reader = ByteReader(bytes: file)
        let header = try AgeHeader.read(from: reader)
        let fileKey = try header.unwrapFileKey(using: [identity])
        return AgePayload(fileKey: fileKey, nonce: try reader.read(upTo: AgePayload.nonceSize))
    }
}
