import Crypto
import Foundation
import TestSupport
import Testing

@testable import VaultCrypto

#if canImport(Glibc)
import Glibc
#endif

/// A file that is not in the page cache (as the vault's blobs are after a push) is opened by direct reads ahead
/// of the workers, with exactly the bytes, errors and released prefix of the buffered path.
@Suite(.enabled(if: DirectReads.work, "the temporary directory's file system takes no O_DIRECT reads"))
struct DirectInputTests {
    /// Over `DirectInput.minimumSize`, ending mid-chunk, with more segments than the read-ahead holds.
    static let plainSize = 150 * 65_536 + 123

    @Test func anUncachedFileIsReadDirectlyAndACachedOneIsNot() throws {
        let directory = try TemporaryDirectory()
        let url = directory.url.appendingPathComponent("file")
        try DirectReads.writeUncached(AgeRoundTripTests.plaintext(DirectInput.minimumSize).map { $0 }, to: url)
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        let file = try #require(RegularFile(handle))
        #expect(!DirectInput.isMostlyCached(file))
        #expect(DirectInput(file, segmentCount: 1, maximumSegment: 4096) { _ in (0, 4096) } != nil)
        // Read it buffered once: now it is cached, and read buffered again.
        _ = try Data(contentsOf: url)
        #expect(DirectInput.isMostlyCached(file))
        #expect(DirectInput(file, segmentCount: 1, maximumSegment: 4096) { _ in (0, 4096) } == nil)
    }

    @Test func anUncachedFileDecryptsToTheSameBytesAndDigest() throws {
        let directory = try TemporaryDirectory()
        let identity = AgeX25519Identity.generate()
        let plain = AgeRoundTripTests.plaintext(Self.plainSize)
        let sealed = directory.url.appendingPathComponent("sealed.age")
        try DirectReads.writeUncached([UInt8](try Age.encrypt(plain, to: [identity.recipient])), to: sealed)
        let expected = AgePlaintextDigest(sha256: Array(SHA256.hash(data: plain)), count: plain.count)
        #expect(try Age.plaintextDigest(ofFileAt: sealed, using: [identity]) == expected)
        let opened = directory.url.appendingPathComponent("opened")
        try DirectReads.writeUncached([UInt8](try Age.encrypt(plain, to: [identity.recipient])), to: sealed)
        #expect(try Age.decryptFileDigestingPlaintext(at: sealed, to: opened, using: [identity]) == expected)
        #expect(try Data(contentsOf: opened) == plain)
    }

    /// Damage anywhere, read directly: the same error and the same released prefix as the sequential stream.
    @Test(arguments: ["flip-early", "flip-late", "truncate", "truncate-aligned", "drop-last", "append"])
    func damageReadDirectlyReleasesTheSamePrefix(_ damage: String) throws {
        let identity = AgeX25519Identity.generate()
        let plain = AgeRoundTripTests.plaintext(Self.plainSize)
        var file = [UInt8](try Age.encrypt(plain, to: [identity.recipient]))
        let chunks = (plain.count + 65_535) / 65_536
        let payloadStart = file.count - (plain.count + chunks * 16)
        func chunk(_ index: Int) -> Range<Int> {
            let lower = payloadStart + index * 65_552
            return lower..<min(file.count, lower + 65_552)
        }
        switch damage {
        case "flip-early": file[chunk(3).lowerBound + 9] ^= 0x01
        case "flip-late": file[chunk(140).lowerBound + 100] ^= 0x01
        case "truncate": file.removeLast(10)
        case "truncate-aligned": file.removeLast(file.count % 4096 + 4096)
        case "drop-last": file.removeSubrange(chunk(chunks - 1))
        case "append": file += file[chunk(chunks - 1)]
        default: Issue.record("unknown damage")
        }
        let sequential = AgePipelineTests.decryptSequentially(file, using: [identity])
        let sequentialError = try #require(sequential.error as? AgeError, "\(damage)")

        let directory = try TemporaryDirectory()
        let input = directory.url.appendingPathComponent("in.age")
        let output = directory.url.appendingPathComponent("out")
        try DirectReads.writeUncached(file, to: input)
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let sink = try FileHandle(forWritingTo: output)
        var failure: (any Error)?
        do { _ = try Age.decryptFileDigestingPlaintext(at: input, into: sink, using: [identity]) } catch {
            failure = error
        }
        try sink.close()
        #expect(failure as? AgeError == sequentialError, "\(damage)")
        #expect([UInt8](try Data(contentsOf: output)) == sequential.released, "\(damage)")
        try DirectReads.writeUncached(file, to: input)
        #expect(throws: sequentialError) { try Age.plaintextDigest(ofFileAt: input, using: [identity]) }
    }
}

extension DirectInputTests {
    /// The server's streamed pull: an uncached stored file's payload is read directly, in order, in any chunk size;
    /// a read out of order goes on buffered; a stream dropped early does not keep the reader waiting.
    @Test func aStreamedRewrapOfAnUncachedFileReadsItsPayloadDirectly() throws {
        let directory = try TemporaryDirectory()
        let identity = AgeX25519Identity.generate()
        let plain = AgeRoundTripTests.plaintext(Self.plainSize)
        let sealed = [UInt8](try Age.encrypt(plain, to: [identity.recipient]))
        let url = directory.url.appendingPathComponent("blob.age")
        let payload = Array(sealed.dropFirst(sealed.count - (plain.count + 151 * 16) - 16))
        let recipient = AgeX25519Identity.generate().recipient
        for chunk in [300_000, 1 << 20, 3 << 20] {
            try DirectReads.writeUncached(sealed, to: url)
            let source = try Age.openRewrapped(
                at: url, using: [identity], for: [recipient], digestingPlaintext: true)
            #expect(source.direct != nil)
            #expect(source.plaintextDigest?.sha256 == Array(SHA256.hash(data: plain)))
            #expect(source.payloadCount == payload.count)
            var read: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: chunk)
            while read.count < source.payloadCount {
                let count = try buffer.withUnsafeMutableBytes { try source.readPayload(into: $0, at: read.count) }
                #expect(count > 0)
                read += buffer.prefix(count)
            }
            #expect(read == payload, "chunk \(chunk)")
        }
        // Out of order: the rest is read buffered, and right.
        try DirectReads.writeUncached(sealed, to: url)
        let source = try Age.openRewrapped(at: url, using: [identity], for: [recipient], digestingPlaintext: false)
        var buffer = [UInt8](repeating: 0, count: 100_000)
        _ = try buffer.withUnsafeMutableBytes { try source.readPayload(into: $0, at: 0) }
        #expect(buffer == Array(payload.prefix(100_000)))
        let count = try buffer.withUnsafeMutableBytes { try source.readPayload(into: $0, at: 5_000_000) }
        #expect(count == 100_000)
        #expect(buffer == Array(payload[5_000_000..<5_100_000]))
        // Dropped after one read: the reader is cancelled (this would hang in a later test otherwise).
        try DirectReads.writeUncached(sealed, to: url)
        var early: AgeRewrappedSource? = try Age.openRewrapped(
            at: url, using: [identity], for: [recipient], digestingPlaintext: false)
        _ = try buffer.withUnsafeMutableBytes { try early!.readPayload(into: $0, at: 0) }
        early = nil
        #expect(early == nil)
    }
}

/// Writing files out of the page cache, and whether this file system then reads them directly.
enum DirectReads {
    /// Writes `bytes` to `url`, makes them durable and drops them from the page cache.
    static func writeUncached(_ bytes: [UInt8], to url: URL) throws {
        try Data(bytes).write(to: url)
        let descriptor = open(url.path, O_RDONLY)
        #expect(descriptor >= 0)
        defer { close(descriptor) }
        fsync(descriptor)
        _ = posix_fadvise(descriptor, 0, 0, Int32(POSIX_FADV_DONTNEED))
    }

    /// Whether a file written here and dropped from the cache is read directly (not on tmpfs, for one).
    static let work: Bool = {
        guard let directory = try? TemporaryDirectory() else { return false }
        let url = directory.url.appendingPathComponent("probe")
        guard (try? writeUncached([UInt8](repeating: 7, count: DirectInput.minimumSize), to: url)) != nil,
            let handle = try? FileHandle(forReadingFrom: url), let file = RegularFile(handle)
        else { return false }
        defer { try? handle.close() }
        return DirectInput(file, segmentCount: 1, maximumSegment: 4096) { _ in (0, 4096) } != nil
    }()
}
