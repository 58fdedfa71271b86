import Foundation
import TestSupport
import Testing
import VaultCrypto

@Suite struct AgeRandomAccessReaderTests {
    @Test(arguments: [1, 65536, 65537, 300_000])
    func rangesMatchThePlaintext(size: Int) throws {
        let directory = try TemporaryDirectory()
        let identity = AgeX25519Identity.generate()
        let plain = AgeRoundTripTests.plaintext(size)
        let url = directory.url.appendingPathComponent("f.age")
        try Age.encrypt(plain, to: [identity.recipient]).write(to: url)
        let reader = try AgeRandomAccessReader(url: url, using: [identity])
        #expect(reader.plaintextCount == size)
        let ranges = [0..<size, 0..<1, (size - 1)..<size, (size / 3)..<(size / 2), (size / 2)..<size, 0..<0]
        for range in ranges {
            #expect(try reader.read(range) == plain.subdata(in: range), "\(range)")
        }
        #expect(throws: AgeError.self) { try reader.read(0..<(size + 1)) }
    }

    @Test func truncatedFileIsRefused() throws {
        let directory = try TemporaryDirectory()
        let identity = AgeX25519Identity.generate()
        let url = directory.url.appendingPathComponent("f.age")
        let file = try Age.encrypt(AgeRoundTripTests.plaintext(200_000), to: [identity.recipient])
        try file.prefix(file.count - 100).write(to: url)
        #expect(throws: AgeError.self) { try AgeRandomAccessReader(url: url, using: [identity]) }
    }
}
