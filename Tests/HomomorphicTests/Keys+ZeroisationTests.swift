import Synchronization
import Testing

@testable import Homomorphic

/// The secret key's residues are zeroed when the key's last owner ends (issue #18, "Zeroisable secret types"),
/// as `SecretBytes` is in VaultCrypto: the test lends the key memory it keeps, so it can look at it afterwards.
@Suite struct SecretKeyZeroisationTests {
    /// Whether adopted residues were handed back, from a `@Sendable` release closure.
    final class ReleaseRecord: Sendable {
        let released = Mutex(false)
    }

    @Test func residuesAreZeroedWhenTheLastOwnerEnds() {
        let degree = 8
        let count = 3
        let pattern = [UInt64](repeating: 0xA5A5_A5A5_A5A5_A5A5, count: degree * count)
        let buffer = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: degree * count)
        defer { buffer.deallocate() }
        _ = buffer.initialize(fromContentsOf: pattern)
        let record = ReleaseRecord()
        do {
            let key = SecretKey(
                storage: SecretKeyStorage(
                    adopting: buffer, degree: degree, count: count, basis: .extended,
                    release: { _ in record.released.withLock { $0 = true } }))
            do {
                // A copy shares the storage: its end leaves the key's residues in place.
                let copy = key
                #expect(copy.poly.data == pattern)
            }
            #expect(!record.released.withLock { $0 })
            #expect(key.poly.data == pattern)
            #expect(key.poly.basis == .extended)
        }
        #expect(record.released.withLock { $0 })
        #expect(Array(buffer) == [UInt64](repeating: 0, count: degree * count))
    }

    @Test func copiesOfAGeneratedKeyShareOneStorage() throws {
        let context = Fixtures.d2
        let key = context.generateSecretKey()
        let copy = key
        #expect(copy.storage === key.storage)
        #expect(key.poly.count == context.moduli.count)
        let values = [0.5, -1.25, 3]
        let decrypted = context.decryptValues(try context.encrypt(values, using: key), using: copy)
        #expect(maxError(Array(decrypted.prefix(3)), values) < 1e-6)
        #expect(String(describing: copy) == "SecretKey(<redacted>)")
    }
}
