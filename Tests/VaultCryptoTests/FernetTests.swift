import Foundation
import Testing

@testable import VaultCrypto

/// One entry of the Fernet spec's vector files (generate.json, verify.json, invalid.json).
struct FernetVector: Decodable, Sendable, CustomTestStringConvertible {
    var token: String
    var now: String
    var secret: String
    var src: String?
    var iv: [UInt8]?
    var ttlSec: Double?
    var desc: String?

    enum CodingKeys: String, CodingKey {
        case token, now, secret, src, iv, desc
        case ttlSec = "ttl_sec"
    }

    var testDescription: String { desc ?? "vector" }

    var date: Date {
        get throws { try #require(ISO8601DateFormatter().date(from: now)) }
    }

    static func load(_ name: String) throws -> [FernetVector] {
        let url = try #require(
            Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures/fernet"))
        return try JSONDecoder().decode([FernetVector].self, from: Data(contentsOf: url))
    }
}

@Test(arguments: try FernetVector.load("generate"))
func fernetGenerateVectors(vector: FernetVector) throws {
    let key = try FernetKey(base64URL: vector.secret)
    let token = try Fernet.encrypt(
        Data(try #require(vector.src).utf8), key: key, iv: try #require(vector.iv), now: try vector.date)
    #expect(token == vector.token)
}

@Test(arguments: try FernetVector.load("verify"))
func fernetVerifyVectors(vector: FernetVector) throws {
    let key = try FernetKey(base64URL: vector.secret)
    let plaintext = try Fernet.decrypt(token: vector.token, key: key, ttl: vector.ttlSec, now: try vector.date)
    #expect(plaintext == Data(try #require(vector.src).utf8))
}

/// The reason each invalid vector must be refused for: a check that is skipped shows up as another reason.
private let expectedRefusals: [String: FernetError.Kind] = [
    "incorrect mac": .authenticationFailed,
    "too short": .malformedToken,
    "invalid base64": .malformedToken,
    "payload size not multiple of block size": .decryptionFailed,
    "payload padding error": .decryptionFailed,
    "far-future TS (unacceptable clock skew)": .futureTimestamp,
    "expired TTL": .expired,
    "incorrect IV (causes padding error)": .decryptionFailed,
]

@Test(arguments: try FernetVector.load("invalid"))
func fernetInvalidVectors(vector: FernetVector) throws {
    let key = try FernetKey(base64URL: vector.secret)
    let expected = try #require(expectedRefusals[vector.desc ?? ""])
    #expect(throws: FernetError(expected)) {
        try Fernet.decrypt(token: vector.token, key: key, ttl: vector.ttlSec, now: try vector.date)
    }
}

@Test func fernetRoundTripsAndRejectsTampering() throws {
    let key = FernetKey(bytes: (0..<32).map { UInt8($0) })
    let plaintext = Data((0..<1000).map { UInt8(truncatingIfNeeded: $0 * 13) })
    let token = try Fernet.encrypt(plaintext, key: key)
    #expect(try Fernet.decrypt(token: token, key: key) == plaintext)
    #expect(try Fernet.decrypt(token: token, key: key, ttl: 60) == plaintext)

    var bytes = try #require(Fernet.decodeBase64URL(token))
    for index in [0, 5, 20, 40, bytes.count - 1] {
        bytes[index] ^= 0x01
        let altered = Fernet.encodeBase64URL(bytes)
        #expect(throws: FernetError.self) { try Fernet.decrypt(token: altered, key: key) }
        bytes[index] ^= 0x01
    }
    let otherKey = FernetKey(bytes: [UInt8](repeating: 7, count: 32))
    #expect(throws: FernetError(.authenticationFailed)) { try Fernet.decrypt(token: token, key: otherKey) }
}

@Test func fernetTTLBoundaries() throws {
    let key = FernetKey(bytes: [UInt8](repeating: 1, count: 32))
    let issued = Date(timeIntervalSince1970: 1_000_000)
    let token = try Fernet.encrypt(Data("x".utf8), key: key, now: issued)
    _ = try Fernet.decrypt(token: token, key: key, ttl: 10, now: issued.addingTimeInterval(10))
    #expect(throws: FernetError(.expired)) {
        try Fernet.decrypt(token: token, key: key, ttl: 10, now: issued.addingTimeInterval(11))
    }
    _ = try Fernet.decrypt(token: token, key: key, ttl: 10, now: issued.addingTimeInterval(-60))
    #expect(throws: FernetError(.futureTimestamp)) {
        try Fernet.decrypt(token: token, key: key, ttl: 10, now: issued.addingTimeInterval(-61))
    }
    // Without a TTL the timestamp is not checked, as in Python's cryptography.
    _ = try Fernet.decrypt(token: token, key: key, now: issued.addingTimeInterval(1e9))
}

@Test func fernetKeysMustBe32Bytes() {
    #expect(throws: FernetError(.invalidKey)) { try FernetKey(base64URL: "c2hvcnQ=") }
    #expect(throws: FernetError(.invalidKey)) { try FernetKey(base64URL: "not base64!") }
}
