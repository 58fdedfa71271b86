import Foundation

/// The JSON shapes of a Sigstore bundle v0.3 holding a DSSE envelope over an in-toto Statement v1, as
/// `model_signing` writes them for key-based signing.
enum SigstoreBundle {
    static let mediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
    static let payloadType = "application/vnd.in-toto+json"
    static let statementType = "https://in-toto.io/Statement/v1"
    static let predicateType = "https://model_signing/signature/v1.0"

    struct Bundle: Codable {
        var mediaType: String
        var verificationMaterial: VerificationMaterial
        var dsseEnvelope: Envelope
    }

    struct VerificationMaterial: Codable {
        var publicKey: PublicKeyIdentifier?
        var tlogEntries: [TlogEntry]?
    }

    /// Key-based bundles carry no log entries; the shape only needs to decode.
    struct TlogEntry: Codable {}

    struct PublicKeyIdentifier: Codable {
        var hint: String?
    }

    struct Envelope: Codable {
        var payload: String
        var payloadType: String
        var signatures: [EnvelopeSignature]
    }

    struct EnvelopeSignature: Codable {
        var sig: String
        var keyid: String?
    }

    struct Statement: Codable {
        var type: String
        var subject: [Subject]
        var predicateType: String
        var predicate: Predicate

        enum CodingKeys: String, CodingKey {
            case type = "_type"
            case subject, predicateType, predicate
        }
    }

    struct Subject: Codable {
        var name: String
        var digest: [String: String]
    }

    struct Predicate: Codable {
        var serialization: Serialization
        var resources: [Resource]
    }

    struct Serialization: Codable {
        var method: String
        var hashType: String
        var allowSymlinks: Bool
        var ignorePaths: [String]?

        enum CodingKeys: String, CodingKey {
            case method
            case hashType = "hash_type"
            case allowSymlinks = "allow_symlinks"
            case ignorePaths = "ignore_paths"
        }
    }

    struct Resource: Codable {
        var name: String
        var algorithm: String
        var digest: String
    }

    /// DSSE v1 pre-authentication encoding: `DSSEv1 SP len(type) SP type SP len(body) SP body`.
    static func pae(payloadType: String, payload: Data) -> Data {
        var encoded = Data("DSSEv1 \(payloadType.utf8.count) \(payloadType) \(payload.count) ".utf8)
        encoded.append(payload)
        return encoded
    }

    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

extension Sequence<UInt8> {
    /// Lower-case hexadecimal, as the reference writes digests.
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension [UInt8] {
    /// Parses lower- or upper-case hexadecimal; nil on any other character or an odd length.
    init?(hex: String) {
        let characters = Array(hex.utf8)
        guard characters.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(characters.count / 2)
        for index in stride(from: 0, to: characters.count, by: 2) {
            guard let high = value(characters[index]), let low = value(characters[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        self = bytes
    }
}
