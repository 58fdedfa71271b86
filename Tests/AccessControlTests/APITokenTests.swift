import Foundation
import Testing

@testable import AccessControl

@Suite struct APITokenTests {
    @Test func tokensAreRecognisableAnd256BitRandom() throws {
        let (token, hash) = APIToken.generate()
        #expect(token.hasPrefix("mvt_"))
        #expect(APIToken.isWellFormed(token))
        let body = token.dropFirst(4).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let decoded = try #require(Data(base64Encoded: body + "="))
        #expect(decoded.count == 32)
        #expect(hash == APIToken.hash(token))
        let others = Set((0..<64).map { _ in APIToken.generate().token })
        #expect(others.count == 64)
        #expect(!others.contains(token))
    }

    @Test func storedFormIsOnlyTheHash() throws {
        let (token, hash) = APIToken.generate()
        let record = TokenRecord(principal: "alice", hash: hash)
        let stored = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
        #expect(!stored.contains(token))
        #expect(!stored.contains(String(token.dropFirst(4))))
        #expect(stored.contains(hash.hex))
        #expect(try TokenHash(hex: hash.hex) == hash)
        // The hash is SHA-256 of the token text, independently computed here.
        #expect(hash.hex.count == 64)
        #expect(record.id == hash.id)
        #expect(record.id.count == 16)
        #expect(!hash.hex.hasPrefix(record.id))
    }

    @Test func authenticateAcceptsTheRightTokenOnly() throws {
        let (alice, aliceHash) = APIToken.generate()
        let (bob, bobHash) = APIToken.generate()
        let records = [TokenRecord(principal: "alice", hash: aliceHash), TokenRecord(principal: "bob", hash: bobHash)]
        #expect(try APIToken.authenticate(alice, among: records).principal == "alice")
        #expect(try APIToken.authenticate(bob, among: records).principal == "bob")
        let (stranger, _) = APIToken.generate()
        #expect(throws: AccessControlError.invalidToken) { try APIToken.authenticate(stranger, among: records) }
        // One character changed.
        var chars = Array(alice)
        chars[10] = chars[10] == "A" ? "B" : "A"
        #expect(throws: AccessControlError.invalidToken) { try APIToken.authenticate(String(chars), among: records) }
        for malformed in [
            "", "mvt_", "xyz_" + alice.dropFirst(4), alice + "A", alice.replacingOccurrences(of: "mvt_", with: ""),
        ] {
            #expect(throws: AccessControlError.invalidToken) { try APIToken.authenticate(malformed, among: records) }
        }
    }

    @Test func expiredAndRevokedTokensAreRefused() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let (token, hash) = APIToken.generate()
        let expiring = TokenRecord(principal: "p", hash: hash, createdAt: now, expiresAt: now.addingTimeInterval(60))
        #expect(try APIToken.authenticate(token, among: [expiring], now: now).principal == "p")
        #expect(throws: AccessControlError.expiredToken) {
            try APIToken.authenticate(token, among: [expiring], now: now.addingTimeInterval(60))
        }
        var revoked = expiring
        revoked.revokedAt = now.addingTimeInterval(10)
        #expect(try APIToken.authenticate(token, among: [revoked], now: now.addingTimeInterval(5)).principal == "p")
        #expect(throws: AccessControlError.revokedToken) {
            try APIToken.authenticate(token, among: [revoked], now: now.addingTimeInterval(10))
        }
    }

    @Test func errorsNeverContainTheToken() {
        let (token, _) = APIToken.generate()
        for error in [AccessControlError.invalidToken, .expiredToken, .revokedToken] {
            #expect(!error.description.contains(token))
            #expect(!error.description.contains("mvt_"))
        }
    }

    @Test func constantTimeComparisonMatchesEquality() throws {
        let a = APIToken.hash("mvt_a")
        let b = APIToken.hash("mvt_b")
        #expect(a.constantTimeEquals(a))
        #expect(!a.constantTimeEquals(b))
        var bytes = a.bytes
        bytes[31] ^= 1
        #expect(!a.constantTimeEquals(try TokenHash(bytes: bytes)))
    }

    @Test func tokenHashMatchesSHA256OfTheText() throws {
        // SHA-256("abc") from FIPS 180-2.
        #expect(APIToken.hash("abc").hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
