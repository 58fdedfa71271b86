import Crypto
import Foundation
import Testing

@testable import ModelSigning

private func entry(_ path: String, _ text: String) -> ModelManifest.Entry {
    .init(path: path, sha256: Array(SHA256.hash(data: Data(text.utf8))))
}

private let keys: [SigningKey] = [
    .p256(P256.Signing.PrivateKey()), .p384(P384.Signing.PrivateKey()), .p521(P521.Signing.PrivateKey()),
]

private func sampleManifest() throws -> ModelManifest {
    try ModelManifest(entries: [entry("weights/x.bin", "x"), entry("a.bin", "a"), entry("config.json", "{}")])
}

@Test(arguments: 0..<3)
func signedManifestVerifiesAndRoundTrips(curve: Int) throws {
    let key = keys[curve]
    let manifest = try sampleManifest()
    let bundle = try ModelSignature.sign(manifest, with: key, modelName: "demo", ignoredPaths: ["model.sig"])
    #expect(try ModelSignature.verify(bundle, with: key.verifyingKey) == manifest)
    let signed = try ModelSignature.open(bundle, with: key.verifyingKey)
    #expect(signed.modelName == "demo")
    #expect(signed.ignoredPaths == ["model.sig"])
    try ModelSignature.verify(bundle, against: manifest, with: key.verifyingKey)
}

@Test func bundleHasTheReferenceStructure() throws {
    let key = keys[0]
    let manifest = try sampleManifest()
    let bundle = try ModelSignature.sign(manifest, with: key, modelName: "demo")
    let json = try #require(try JSONSerialization.jsonObject(with: bundle) as? [String: Any])
    #expect(json["mediaType"] as? String == "application/vnd.dev.sigstore.bundle.v0.3+json")
    let material = try #require(json["verificationMaterial"] as? [String: Any])
    let hint = try #require((material["publicKey"] as? [String: Any])?["hint"] as? String)
    let pem = Data(key.verifyingKey.pemRepresentation.utf8)
    #expect(hint == SHA256.hash(data: pem).hexString)
    let envelope = try #require(json["dsseEnvelope"] as? [String: Any])
    #expect(envelope["payloadType"] as? String == "application/vnd.in-toto+json")
    let payloadText = try #require(envelope["payload"] as? String)
    let payload = try #require(Data(base64Encoded: payloadText))
    let statement = try #require(try JSONSerialization.jsonObject(with: payload) as? [String: Any])
    #expect(statement["_type"] as? String == "https://in-toto.io/Statement/v1")
    #expect(statement["predicateType"] as? String == "https://model_signing/signature/v1.0")
    let subject = try #require((statement["subject"] as? [[String: Any]])?.first)
    #expect(subject["name"] as? String == "demo")
    // The model digest: SHA-256 over the concatenated resource digests, in path order.
    var root = SHA256()
    for entry in manifest.entries { root.update(data: entry.sha256) }
    #expect((subject["digest"] as? [String: String])?["sha256"] == root.finalize().hexString)
    let predicate = try #require(statement["predicate"] as? [String: Any])
    let serialization = try #require(predicate["serialization"] as? [String: Any])
    #expect(serialization["method"] as? String == "files")
    #expect(serialization["hash_type"] as? String == "sha256")
    let resources = try #require(predicate["resources"] as? [[String: String]])
    #expect(resources.map { $0["name"] } == ["a.bin", "config.json", "weights/x.bin"])
    #expect(resources.allSatisfy { $0["algorithm"] == "sha256" })
}

@Test func verificationFailsWithAnotherKeyOrCurve() throws {
    let bundle = try ModelSignature.sign(try sampleManifest(), with: keys[0], modelName: "demo")
    for other in [SigningKey.p256(P256.Signing.PrivateKey()), keys[1], keys[2]] {
        #expect(throws: ModelSigningError(.signatureInvalid)) {
            try ModelSignature.verify(bundle, with: other.verifyingKey)
        }
    }
}

@Test func verificationFailsWhenTheStatementIsAltered() throws {
    let key = keys[1]
    let bundle = try ModelSignature.sign(try sampleManifest(), with: key, modelName: "demo")
    var json = try #require(try JSONSerialization.jsonObject(with: bundle) as? [String: Any])
    var envelope = try #require(json["dsseEnvelope"] as? [String: Any])
    let payloadText = try #require(envelope["payload"] as? String)
    var payload = try #require(Data(base64Encoded: payloadText))
    payload[payload.count / 2] ^= 0x01
    envelope["payload"] = payload.base64EncodedString()
    json["dsseEnvelope"] = envelope
    let altered = try JSONSerialization.data(withJSONObject: json)
    #expect(throws: ModelSigningError(.signatureInvalid)) { try ModelSignature.verify(altered, with: key.verifyingKey) }
    // Dropping the key hint does not help: the signature itself still fails.
    json["verificationMaterial"] = ["tlogEntries": [Any]()]
    let noHint = try JSONSerialization.data(withJSONObject: json)
    #expect(throws: ModelSigningError(.signatureInvalid)) { try ModelSignature.verify(noHint, with: key.verifyingKey) }
}

@Test func malformedBundlesAreRefused() throws {
    let key = keys[0].verifyingKey
    for text in ["", "{}", "[1]", #"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.2+json"}"#] {
        #expect(throws: ModelSigningError(.malformedBundle)) { try ModelSignature.verify(Data(text.utf8), with: key) }
    }
}

@Test func statementWithAWrongModelDigestIsInconsistent() throws {
    // A validly signed statement whose subject digest disagrees with its resources.
    let key = keys[0]
    let statement = SigstoreBundle.Statement(
        type: SigstoreBundle.statementType,
        subject: [.init(name: "m", digest: ["sha256": String(repeating: "0", count: 64)])],
        predicateType: SigstoreBundle.predicateType,
        predicate: .init(
            serialization: .init(method: "files", hashType: "sha256", allowSymlinks: false, ignorePaths: nil),
            resources: [.init(name: "a", algorithm: "sha256", digest: String(repeating: "1", count: 64))]))
    let payload = try JSONEncoder().encode(statement)
    let signature = try key.derSignature(
        for: SigstoreBundle.pae(payloadType: SigstoreBundle.payloadType, payload: payload))
    let bundle = SigstoreBundle.Bundle(
        mediaType: SigstoreBundle.mediaType, verificationMaterial: .init(publicKey: nil, tlogEntries: []),
        dsseEnvelope: .init(
            payload: payload.base64EncodedString(), payloadType: SigstoreBundle.payloadType,
            signatures: [.init(sig: signature.base64EncodedString(), keyid: nil)]))
    #expect(throws: ModelSigningError(.inconsistentManifest)) {
        try ModelSignature.verify(try JSONEncoder().encode(bundle), with: key.verifyingKey)
    }
}

@Test func verifyingAgainstAManifestNamesTheFirstDifferingFile() throws {
    let key = keys[0]
    let manifest = try sampleManifest()
    let bundle = try ModelSignature.sign(manifest, with: key, modelName: "demo")
    let modified = try ModelManifest(entries: [
        entry("weights/x.bin", "changed"), entry("a.bin", "a"), entry("config.json", "{}"),
    ])
    let error = #expect(throws: ModelSigningError.self) {
        try ModelSignature.verify(bundle, against: modified, with: key.verifyingKey)
    }
    #expect(error?.description == "file weights/x.bin was modified")

    let extra = try ModelManifest(entries: manifest.entries + [entry("extra.txt", "e")])
    #expect(throws: ModelSigningError(.fileNotSigned, path: "extra.txt")) {
        try ModelSignature.verify(bundle, against: extra, with: key.verifyingKey)
    }
    let missing = try ModelManifest(entries: manifest.entries.filter { $0.path != "a.bin" })
    let missingError = #expect(throws: ModelSigningError.self) {
        try ModelSignature.verify(bundle, against: missing, with: key.verifyingKey)
    }
    #expect(missingError?.description == "file a.bin listed in the signature is missing")
}
