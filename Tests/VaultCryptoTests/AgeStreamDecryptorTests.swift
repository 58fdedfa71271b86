import Crypto
import Foundation
import TestSupport
import Testing

@testable import VaultCrypto

/// Decrypting an age file as it arrives in pieces (#14, the remote pull): the same plaintext and digest as a whole-
/// file decryption whatever the piece sizes, and every way a stream can be altered or cut short is refused.
@Suite struct AgeStreamDecryptorTests {
    /// Decrypts `file` handed over in pieces of `piece` bytes into a temporary file; returns the digest and the
    /// plaintext written.
    static func decrypt(
        _ file: Data, piece: Int, using identities: [any AgeIdentity]
    ) throws -> (digest: AgePlaintextDigest, plaintext: Data) {
        let directory = try TemporaryDirectory()
        let url = directory.url.appending(path: "out")
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        let decryptor = AgeStreamDecryptor(identities: identities, output: descriptor)
        var offset = 0
        while offset < file.count {
            let end = min(file.count, offset + piece)
            try file[offset..<end].withUnsafeBytes { try decryptor.consume($0) }
            offset = end
        }
        let digest = try decryptor.finish()
        return (digest, try Data(contentsOf: url))
    }

    static let chunk = 64 * 1024

    @Test(arguments: [0, 1, chunk - 1, chunk, chunk + 1, 16 * chunk, 16 * chunk + 1, 40 * chunk + 5])
    func anyPieceSizeGivesTheWholeFilesPlaintextAndDigest(size: Int) throws {
        let identity = AgeX25519Identity.generate()
        let plain = AgeRoundTripTests.plaintext(size)
        let file = try Age.encrypt(plain, to: [identity.recipient])
        let pieces = size <= 2 * Self.chunk ? [1, 7, 65_552, 1 << 20] : [4093, 65_552, 1 << 20]
        for piece in pieces {
            let (digest, written) = try Self.decrypt(file, piece: piece, using: [identity])
            #expect(written == plain, "piece \(piece)")
            #expect(digest.sha256 == Array(SHA256.hash(data: plain)))
            #expect(digest.count == size)
        }
    }

    /// The attacks on a stream: a flipped payload byte, a last chunk dropped at a chunk boundary (which a reader
    /// that took every whole chunk as it came would accept as a shorter file), a cut inside a chunk, bytes after
    /// the final chunk, and another recipient's file. Each is refused.
    @Test func alteredOrCutStreamsAreRefused() throws {
        let identity = AgeX25519Identity.generate()
        let plain = AgeRoundTripTests.plaintext(5 * Self.chunk + 100)
        let file = try Age.encrypt(plain, to: [identity.recipient])
        var flipped = file
        flipped[file.count - 3 * Self.chunk] ^= 0x01
        let sealedChunk = Self.chunk + 16
        let droppedLast = file.prefix(file.count - 116)  // the final chunk: 100 bytes and its tag
        #expect(droppedLast.count > 0 && (file.count - droppedLast.count) == 116)
        let cut = file.prefix(file.count - sealedChunk / 2)
        let trailing = file + Data([0])
        for (name, hostile) in [
            ("flipped", flipped), ("dropped last chunk", Data(droppedLast)), ("cut", Data(cut)),
            ("trailing", trailing),
        ] {
            #expect(throws: AgeError.self, "\(name)") {
                _ = try Self.decrypt(hostile, piece: 65_552, using: [identity])
            }
        }
        #expect(throws: AgeError.self) {
            _ = try Self.decrypt(file, piece: 4096, using: [AgeX25519Identity.generate()])
        }
    }

    /// A hostile header costs bounded memory: bytes that are not an age file are refused at once, and a header that
    /// never ends is refused past ModelVault's 16 MiB limit.
    @Test func aHostileHeaderIsRefusedEarly() throws {
        let identity = AgeX25519Identity.generate()
        #expect(throws: AgeError.self) {
            _ = try Self.decrypt(Data("GET / HTTP/1.1\r\n".utf8), piece: 4, using: [identity])
        }
        var endless = Data("age-encryption.org/v1\n-> X25519 abc\n".utf8)
        endless += Data(repeating: UInt8(ascii: "A"), count: (16 << 20) + 1024)
        #expect(throws: AgeError.self) { _ = try Self.decrypt(endless, piece: 1 << 20, using: [identity]) }
    }
}
