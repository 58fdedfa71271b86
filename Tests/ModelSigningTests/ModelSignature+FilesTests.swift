import Crypto
import Foundation
import TestSupport
import Testing

@testable import ModelSigning

/// A nested model directory with a key pair; the signature goes to the default name inside the model.
private struct SignedModelFixture {
    let model: TemporaryDirectory
    let key: SigningKey
    var signature: URL { model.url.appendingPathComponent(ModelSignature.defaultSignatureName) }

    init(key: SigningKey = .p256(P256.Signing.PrivateKey())) throws {
        model = try TemporaryDirectory()
        self.key = key
        try model.write("weights", to: "weights/x.bin")
        try model.write("a", to: "a.bin")
        try model.write("{}", to: "config/nested/deeper/params.json")
        try ModelSignature.signModel(at: model.url, with: key, signature: signature)
    }

    func verify() throws {
        try ModelSignature.verifyModel(at: model.url, with: key.verifyingKey, signature: signature)
    }
}

@Test func signedDirectoryVerifiesAndExcludesItsSignature() throws {
    let fixture = try SignedModelFixture()
    defer { fixture.model.remove() }
    try fixture.verify()
    let signed = try ModelSignature.open(Data(contentsOf: fixture.signature), with: fixture.key.verifyingKey)
    #expect(signed.manifest.entries.map(\.path) == ["a.bin", "config/nested/deeper/params.json", "weights/x.bin"])
    #expect(signed.ignoredPaths.contains("model.sig"))
    #expect(signed.modelName == fixture.model.url.lastPathComponent)
}

@Test func modifyingAFileFailsNamingIt() throws {
    let fixture = try SignedModelFixture()
    defer { fixture.model.remove() }
    try fixture.model.write("weightz", to: "weights/x.bin")
    let error = #expect(throws: ModelSigningError.self) { try fixture.verify() }
    #expect(error?.description == "file weights/x.bin was modified")
}

@Test func addingAFileFailsNamingIt() throws {
    let fixture = try SignedModelFixture()
    defer { fixture.model.remove() }
    try fixture.model.write("new", to: "extra.txt")
    let error = #expect(throws: ModelSigningError.self) { try fixture.verify() }
    #expect(error?.description == "file extra.txt is not in the signature")
}

@Test func removingAFileFailsNamingIt() throws {
    let fixture = try SignedModelFixture()
    defer { fixture.model.remove() }
    try FileManager.default.removeItem(at: fixture.model.url.appendingPathComponent("a.bin"))
    let error = #expect(throws: ModelSigningError.self) { try fixture.verify() }
    #expect(error?.description == "file a.bin listed in the signature is missing")
}

@Test func verifyingWithAnotherKeyFails() throws {
    let fixture = try SignedModelFixture()
    defer { fixture.model.remove() }
    let other = VerifyingKey.p256(P256.Signing.PrivateKey().publicKey)
    let error = #expect(throws: ModelSigningError.self) {
        try ModelSignature.verifyModel(at: fixture.model.url, with: other, signature: fixture.signature)
    }
    #expect(error?.description == "signature does not verify with the given key")
}

@Test func ignoredPathsAreLeftOutAtSignAndVerifyTime() throws {
    let model = try TemporaryDirectory()
    defer { model.remove() }
    let key = SigningKey.p384(P384.Signing.PrivateKey())
    try model.write("w", to: "model.bin")
    try model.write("notes", to: "docs/README.md")
    let signature = model.url.appendingPathComponent("sig.json")
    try ModelSignature.signModel(at: model.url, with: key, signature: signature, ignoring: ["docs"])
    // The signer's ignore list travels in the signature, so changes under docs/ do not matter.
    try model.write("changed notes", to: "docs/README.md")
    try ModelSignature.verifyModel(at: model.url, with: key.verifyingKey, signature: signature)
    // A path ignored only at verify time is skipped too.
    try model.write("scratch", to: "scratch.txt")
    try ModelSignature.verifyModel(
        at: model.url, with: key.verifyingKey, signature: signature, ignoring: ["scratch.txt"])
}

@Test func aSingleFileModelSignsAndVerifies() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let key = SigningKey.p521(P521.Signing.PrivateKey())
    let file = try directory.write("weights", to: "model.onnx")
    let signature = directory.url.appendingPathComponent("model.sig")
    try ModelSignature.signModel(at: file, with: key, signature: signature)
    try ModelSignature.verifyModel(at: file, with: key.verifyingKey, signature: signature)
    try directory.write("weightz", to: "model.onnx")
    #expect(throws: ModelSigningError(.fileModified, path: ".")) {
        try ModelSignature.verifyModel(at: file, with: key.verifyingKey, signature: signature)
    }
}

@Test func signatureIsWrittenAtomicallyWithoutLeftovers() throws {
    let fixture = try SignedModelFixture()
    defer { fixture.model.remove() }
    let names = try FileManager.default.contentsOfDirectory(atPath: fixture.model.url.path)
    #expect(!names.contains { $0.hasSuffix(".tmp") })
    // Signing into a missing directory fails without creating anything.
    let nowhere = fixture.model.url.appendingPathComponent("missing/model.sig")
    #expect(throws: ModelSigningError(.writeFailed, path: "model.sig")) {
        try ModelSignature.signModel(at: fixture.model.url, with: fixture.key, signature: nowhere)
    }
}
