import Crypto
import Foundation
import TestSupport
import Testing

@testable import ModelSigning

/// A signature made by PyPI `model_signing` 1.1.1 (`sign key`, P-384 SEC1 key) over a model of two files:
/// `a.bin` = "hello\n" and `sub/b.txt` = "world\n", signature at `model.sig` inside the model.
enum ReferenceVector {
    static let bundle = Data(
        [
            "{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\",\"verificationMaterial\":{\"publicKey\":{\"h",
            "int\":\"14f51be825fd1747506d525b743858b9040ba693212c9b5aeebafaaf5ab0fae0\"},\"tlogEntries\":[]},\"dsseEnve",
            "lope\":{\"payload\":\"ewogICJfdHlwZSI6ICJodHRwczovL2luLXRvdG8uaW8vU3RhdGVtZW50L3YxIiwKICAic3ViamVjdCI6IF",
            "sKICAgIHsKICAgICAgIm5hbWUiOiAibW9kZWwiLAogICAgICAiZGlnZXN0IjogewogICAgICAgICJzaGEyNTYiOiAiOTZjYjgwNT",
            "hlZDU4YjU4ZjhmYzBhZDQ1OWJhY2Y4MTEwODU5OWI0MDNlOTE2NzQ0NjBjY2IwODlmOGViYjlkYiIKICAgICAgfQogICAgfQogIF",
            "0sCiAgInByZWRpY2F0ZVR5cGUiOiAiaHR0cHM6Ly9tb2RlbF9zaWduaW5nL3NpZ25hdHVyZS92MS4wIiwKICAicHJlZGljYXRlIj",
            "ogewogICAgInNlcmlhbGl6YXRpb24iOiB7CiAgICAgICJtZXRob2QiOiAiZmlsZXMiLAogICAgICAiaGFzaF90eXBlIjogInNoYT",
            "I1NiIsCiAgICAgICJhbGxvd19zeW1saW5rcyI6IGZhbHNlLAogICAgICAiaWdub3JlX3BhdGhzIjogWwogICAgICAgICIuZ2l0aH",
            "ViIiwKICAgICAgICAiLmdpdCIsCiAgICAgICAgIi5naXRpZ25vcmUiLAogICAgICAgICJtb2RlbC5zaWciLAogICAgICAgICIuZ2",
            "l0YXR0cmlidXRlcyIKICAgICAgXQogICAgfSwKICAgICJyZXNvdXJjZXMiOiBbCiAgICAgIHsKICAgICAgICAibmFtZSI6ICJhLm",
            "JpbiIsCiAgICAgICAgImFsZ29yaXRobSI6ICJzaGEyNTYiLAogICAgICAgICJkaWdlc3QiOiAiNTg5MWI1YjUyMmQ1ZGYwODZkMG",
            "ZmMGIxMTBmYmQ5ZDIxYmI0ZmM3MTYzYWYzNGQwODI4NmEyZTg0NmY2YmUwMyIKICAgICAgfSwKICAgICAgewogICAgICAgICJuYW",
            "1lIjogInN1Yi9iLnR4dCIsCiAgICAgICAgImFsZ29yaXRobSI6ICJzaGEyNTYiLAogICAgICAgICJkaWdlc3QiOiAiZTI1OGQyND",
            "hmZGE5NGM2Mzc1MzYwN2Y3YzQ0OTRlZTBmY2JlOTJmMWE3NmJmZGFjNzk1YzlkODQxMDFlYjMxNyIKICAgICAgfQogICAgXQogIH",
            "0KfQ==\",\"payloadType\":\"application/vnd.in-toto+json\",\"signatures\":[{\"sig\":\"MGYCMQCjP/Du6fSqVOGavlnxP",
            "bcfs/Q8QBebMKyjY2XegDEN6zm+deDkRM/43ii5deNZKyQCMQCqhaee516wwixVfh8/ucQwI+H3mZRc6URo8dGIR7eKMYEWi8vex",
            "sHoGHYpzXBahME=\",\"keyid\":\"\"}]}}",
        ].joined().utf8)

    static let publicKey = """
        -----BEGIN PUBLIC KEY-----
        MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEsbDKLzB1BnraJc8OFV3spM7PvCcHjINW
        jwDpC6dO6TDbR7KRK7Hqbgm7HFT9+DZH6dikDZARx4EN+eBhXvyx9hTAIvIQCO2P
        9FsfowMV6wXxtxzuQm7QrPAux3s6k7mi
        -----END PUBLIC KEY-----

        """
}

@Test func referenceSignatureFromModelSigningVerifies() throws {
    let key = try VerifyingKey(pem: ReferenceVector.publicKey)
    let signed = try ModelSignature.open(ReferenceVector.bundle, with: key)
    #expect(signed.modelName == "model")
    #expect(Set(signed.ignoredPaths) == [".git", ".gitattributes", ".github", ".gitignore", "model.sig"])
    let expected = try ModelManifest(entries: [
        .init(path: "a.bin", sha256: Array(SHA256.hash(data: Data("hello\n".utf8)))),
        .init(path: "sub/b.txt", sha256: Array(SHA256.hash(data: Data("world\n".utf8)))),
    ])
    #expect(signed.manifest == expected)
    #expect(key.hint == "14f51be825fd1747506d525b743858b9040ba693212c9b5aeebafaaf5ab0fae0")
}

@Test func referenceSignatureVerifiesAgainstTheModelOnDisk() throws {
    let model = try TemporaryDirectory()
    defer { model.remove() }
    try model.write("hello\n", to: "a.bin")
    try model.write("world\n", to: "sub/b.txt")
    let signature = try model.write(ReferenceVector.bundle, to: "model.sig")
    let key = try VerifyingKey(pem: ReferenceVector.publicKey)
    try ModelSignature.verifyModel(at: model.url, with: key, signature: signature)
    try model.write("hello!\n", to: "a.bin")
    #expect(throws: ModelSigningError(.fileModified, path: "a.bin")) {
        try ModelSignature.verifyModel(at: model.url, with: key, signature: signature)
    }
}

@Test func referenceSignatureFailsUnderAnotherP384Key() throws {
    let other = VerifyingKey.p384(P384.Signing.PrivateKey().publicKey)
    #expect(throws: ModelSigningError(.signatureInvalid)) {
        try ModelSignature.open(ReferenceVector.bundle, with: other)
    }
}
