import Crypto
import Foundation
import TestSupport
import Testing

@testable import ModelSigning

/// Replays `Fuzz/Corpus/model-signing` with the fuzz target's calls, then seeded mutations of it (`FuzzCorpus`):
/// a Sigstore bundle (or an in-toto statement signed in the harness) verifies or throws, never traps.
@Suite struct ModelSignatureFuzzCorpusTests {
    static let key = try! SigningKey(
        pem: P256.Signing.PrivateKey(rawRepresentation: Data(repeating: 5, count: 32)).pemRepresentation)

    /// A bundle around `payload`, as `fuzz-model-signing` builds it.
    static func bundle(signing payload: Data) throws -> Data {
        let type = "application/vnd.in-toto+json"
        let pae = Data("DSSEv1 \(type.utf8.count) \(type) \(payload.count) ".utf8) + payload
        guard case .p256(let privateKey) = key else { throw CocoaError(.featureUnsupported) }
        let signature = try privateKey.signature(for: pae).derRepresentation
        let object: [String: Any] = [
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": ["publicKey": ["hint": key.verifyingKey.hint], "tlogEntries": [Any]()],
            "dsseEnvelope": [
                "payload": payload.base64EncodedString(), "payloadType": type,
                "signatures": [["sig": signature.base64EncodedString(), "keyid": ""]],
            ],
        ]
        return try JSONSerialization.data(withJSONObject: object)
    }

    @Test func modelSigningCorpusReplays() throws {
        let run = try FuzzCorpus.replay("model-signing") { bytes in
            guard let mode = bytes.first else { return false }
            let rest = Data(bytes.dropFirst())
            if mode & 1 == 0 { return (try? ModelSignature.open(rest, with: Self.key.verifyingKey)) != nil }
            guard let bundle = try? Self.bundle(signing: rest) else { return false }
            return (try? ModelSignature.open(bundle, with: Self.key.verifyingKey)) != nil
        }
        #expect(run.replayed >= 3)
        #expect(run.accepted >= 1)
    }
}
