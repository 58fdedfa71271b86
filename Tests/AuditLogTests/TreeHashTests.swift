import Crypto
import Foundation
import Testing

@testable import AuditLog

/// `TreeHash` keeps its bytes in four words. A `SIMD32<UInt8>` here made Swift 6.3.1's optimiser lay out async
/// frames that hold one across an `await` larger than the context it allocates (heap corruption in the release
/// test build, see ARCHITECTURE.md, "Tests and CI"); these tests pin the layout and the byte order.
@Suite struct TreeHashTests {
    @Test func isThirtyTwoBytesWithNoVectorAlignment() {
        #expect(MemoryLayout<TreeHash>.size == 32)
        #expect(MemoryLayout<TreeHash>.alignment == MemoryLayout<UInt64>.alignment)
    }

    @Test func keepsTheBytesInOrder() throws {
        let bytes = (0..<32).map { UInt8($0 * 7 + 1) }
        let hash = try #require(TreeHash(bytes: bytes))
        #expect(hash.bytes == bytes)
        #expect(hash.hex == bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined())
        #expect(TreeHash(hex: hash.hex) == hash)
        #expect(TreeHash(hex: hash.hex.uppercased()) == hash)
        #expect(TreeHash(base64: hash.base64) == hash)
        #expect(TreeHash(bytes: bytes.dropLast()) == nil)
        #expect(TreeHash(hex: String(hash.hex.dropLast()) + "g") == nil)
        let digest = SHA256.hash(data: Data("abc".utf8))
        #expect(TreeHash(digest).bytes == Array(digest))
    }

    @Test func everyByteCountsForEqualityAndHashing() throws {
        let bytes = [UInt8](repeating: 0xAB, count: 32)
        let hash = try #require(TreeHash(bytes: bytes))
        for index in 0..<32 {
            var changed = bytes
            changed[index] ^= 1
            let other = try #require(TreeHash(bytes: changed))
            #expect(other != hash)
            #expect(Set([hash, other]).count == 2)
        }
    }
}
