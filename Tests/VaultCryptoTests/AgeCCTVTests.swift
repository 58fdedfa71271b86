import Crypto
import Foundation
import Testing

@testable import VaultCrypto

/// Every C2SP CCTV age vector gives exactly its expected result, and the plaintext released before any failure
/// hashes to the vector's `payload`.
@Suite struct AgeCCTVTests {
    static func identities(for vector: CCTVVector) throws -> [any AgeIdentity] {
        var identities = try vector.identities.flatMap { try AgeKeys.parseIdentities($0) }
        identities += vector.passphrases.map { AgeScryptIdentity(passphrase: $0) }
        return identities
    }

    static func outcome(of error: any Error) -> String {
        guard let error = error as? AgeError else { return "unexpected error \(error)" }
        switch error.kind {
        case .armor: return "armor failure"
        case .header: return "header failure"
        case .noIdentityMatched: return "no match"
        case .headerMAC: return "HMAC failure"
        case .payload: return "payload failure"
        default: return "unexpected \(error.kind)"
        }
    }

    @Test(arguments: CCTVVector.names)
    func vectorGivesExpectedResult(_ name: String) throws {
        let vector = try CCTVVector.load(name)
        let identities = try Self.identities(for: vector)
        var released: [UInt8] = []
        var result = "success"
        do {
            try Age.decrypt(from: ByteReader(bytes: vector.file), using: identities, armored: vector.armored) {
                released += $0
            }
        } catch {
            result = Self.outcome(of: error)
        }
        #expect(result == vector.expect, "\(name)")
        if vector.expect == "success" || vector.expect == "payload failure" {
            #expect(Array(SHA256.hash(data: released)).hex == vector.payloadHash, "\(name) released plaintext")
        }
    }

    @Test func allVectorsArePresent() {
        #expect(CCTVVector.names.count == 143)
    }

    /// Armor decode/encode round-trip, modulo CRLF and surrounding whitespace.
    @Test(arguments: CCTVVector.names)
    func armorRoundTrips(_ name: String) throws {
        let vector = try CCTVVector.load(name)
        guard vector.armored, vector.expect != "armor failure" else { return }
        let reader = ByteReader(bytes: vector.file)
        let decoded = ByteReader(pull: AgeArmor.decoder(reader))
        var bytes: [UInt8] = []
        while true {
            let block = try decoded.read(upTo: 4096)
            if block.isEmpty { break }
            bytes += block
        }
        var encoder = AgeArmor.Encoder()
        let encoded = encoder.write(bytes) + encoder.finish()
        let text = String(decoding: vector.file, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(String(decoding: encoded, as: UTF8.self) == text + "\n", "\(name)")
    }

    /// Header decode/encode round-trip for every vector whose header parses.
    @Test(arguments: CCTVVector.names)
    func headerRoundTrips(_ name: String) throws {
        let vector = try CCTVVector.load(name)
        guard !["header failure", "armor failure"].contains(vector.expect) else { return }
        let reader = ByteReader(bytes: vector.file)
        let source = vector.armored ? ByteReader(pull: AgeArmor.decoder(reader)) : reader
        let header = try AgeHeader.read(from: source)
        var encoded = AgeHeader.versionLine
        for stanza in header.stanzas { encoded += stanza.encoded }
        encoded += "---".utf8
        #expect(encoded == header.macInput, "\(name)")
    }

    /// STREAM decrypt/encrypt round-trip with the vector's file key and nonce.
    @Test(arguments: CCTVVector.names)
    func streamRoundTrips(_ name: String) throws {
        let vector = try CCTVVector.load(name)
        guard vector.expect == "success", let hex = vector.fileKeyHex, let keyBytes = [UInt8](hex: hex) else { return }
        let fileKey = SymmetricKey(data: keyBytes)
        let reader = ByteReader(bytes: vector.file)
        let source = vector.armored ? ByteReader(pull: AgeArmor.decoder(reader)) : reader
        _ = try AgeHeader.read(from: source)
        let nonce = try source.read(upTo: 16)
        var sealed: [UInt8] = []
        while true {
            let block = try source.read(upTo: 1 << 20)
            if block.isEmpty { break }
            sealed += block
        }
        let payload = AgePayload(fileKey: fileKey, nonce: nonce)
        var plain: [UInt8] = []
        try payload.decrypt(from: ByteReader(bytes: sealed)) { plain += $0 }
        var resealed: [UInt8] = []
        try payload.encrypt(from: ByteReader(bytes: plain)) { resealed += $0 }
        #expect(resealed == sealed, "\(name)")
    }
}
