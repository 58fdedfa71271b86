import Foundation
import TestSupport
import Testing

@testable import VaultCrypto

/// Replays `Fuzz/Corpus/age` and `Fuzz/Corpus/age-armor` with the fuzz targets' calls, then seeded mutations of
/// them (`FuzzCorpus`): decryption either succeeds or throws, never traps.
@Suite struct AgeFuzzCorpusTests {
    static let identity = try! AgeX25519Identity(
        "AGE-SECRET-KEY-1C092QNJR55LNQPNW6A860PZYZWEGQ2WCUNT54KG77KRZD90RR62QDFD5TT")
    static let beginLine = Array("-----BEGIN AGE ENCRYPTED FILE-----\n".utf8)

    @Test func ageCorpusReplays() throws {
        let run = try FuzzCorpus.replay("age") { bytes in
            (try? Age.decrypt(Data(bytes), using: [Self.identity])) != nil
        }
        #expect(run.replayed >= 4)
        #expect(run.accepted >= 1)
    }

    @Test func ageArmorCorpusReplays() throws {
        let run = try FuzzCorpus.replay("age-armor") { bytes in
            let input =
                bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: " ") ? bytes : Self.beginLine + bytes
            return (try? Age.decrypt(Data(input), using: [Self.identity])) != nil
        }
        #expect(run.replayed >= 4)
        #expect(run.accepted >= 1)
    }
}
