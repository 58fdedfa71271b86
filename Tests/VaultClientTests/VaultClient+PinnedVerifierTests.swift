import Crypto
import Foundation
import ModelSigning
import TestSupport
import Testing

@testable import VaultClient

/// A decrypting pull believes only what the pinned vault key signed (review 4, F3): the hostile answers a server
/// could give are each refused before anything is decrypted or renamed into place.
@Suite struct VaultClientPinnedVerifierTests {
    static let signature = ".modelvault/model.sig"

    /// Writes what a pull of `model`@`version` receives (one file `weights.bin`), signed with `key`.
    static func received(
        in directory: URL, model: String = "alpha", version: Int = 1, signedBy key: SigningKey,
        extra: [String] = []
    ) throws -> [String] {
        let weights = SHA256.hash(data: Data("weights".utf8)).map { String(format: "%02x", $0) }.joined()
        let manifest = Data(
            #"{"files":[{"path":"weights.bin","sha256":"\#(weights)","size":7}],"model":"\#(model)","version":\#(version)}"#
                .utf8)
        let signed = try ModelManifest(entries: [
            .init(path: "weights.bin", sha256: Array(SHA256.hash(data: Data("weights".utf8)))),
            .init(path: ".modelvault/manifest.json", sha256: Array(SHA256.hash(data: manifest))),
        ])
        let bundle = try ModelSignature.sign(signed, with: key, modelName: model)
        try FileManager.default.createDirectory(
            at: directory.appending(path: ".modelvault"), withIntermediateDirectories: true)
        try manifest.write(to: directory.appending(path: ".modelvault/manifest.json"))
        try bundle.write(to: directory.appending(path: signature))
        return ["weights.bin.age", ".modelvault/manifest.json", signature] + extra
    }

    static func check(
        _ directory: URL, _ received: [String], key: SigningKey, version: String = "1"
    ) throws
        -> [String: String]
    {
        try VaultClient.verifiedDigests(
            in: directory, received: received, signatureFileName: signature,
            verifier: .init(key: key.verifyingKey), name: "alpha", version: version)
    }

    @Test func onlyTheSignedModelAndVersionFromThePinnedKeyAreAccepted() throws {
        let vault = SigningKey.p256(P256.Signing.PrivateKey())
        let other = SigningKey.p256(P256.Signing.PrivateKey())
        let work = try TemporaryDirectory()
        let honest = try Self.received(in: work.url, signedBy: vault)
        #expect(try Self.check(work.url, honest, key: vault).keys.sorted() == ["weights.bin"])
        // Signed by another key (another vault, or the server's own).
        #expect(throws: VaultClientError.self) { try Self.check(work.url, honest, key: other) }
        // Another version of the same model, validly signed (a rollback), or another model.
        #expect(throws: VaultClientError.self) { try Self.check(work.url, honest, key: vault, version: "2") }
        let beta = try TemporaryDirectory()
        let swapped = try Self.received(in: beta.url, model: "beta", signedBy: vault)
        #expect(throws: VaultClientError.self) { try Self.check(beta.url, swapped, key: vault) }
        // A file the signature does not list, or a manifest edited after signing.
        let extra = try TemporaryDirectory()
        let more = try Self.received(in: extra.url, signedBy: vault, extra: ["payload.bin.age"])
        #expect(throws: VaultClientError.self) { try Self.check(extra.url, more, key: vault) }
        let edited = work.url.appending(path: ".modelvault/manifest.json")
        try Data(try Data(contentsOf: edited).map { $0 == UInt8(ascii: "7") ? UInt8(ascii: "8") : $0 }).write(
            to: edited)
        #expect(throws: VaultClientError.self) { try Self.check(work.url, honest, key: vault) }
        // No signature at all.
        #expect(throws: VaultClientError.self) {
            try Self.check(work.url, ["weights.bin.age", ".modelvault/manifest.json"], key: vault)
        }
    }

    @Test func aVerifierFileIsAPEMPublicKeyOrTheVaultsKeyFile() throws {
        let key = P256.Signing.PrivateKey().publicKey
        let pem = key.pemRepresentation
        #expect(throws: Never.self) { try VaultClient.PinnedVerifier(parsing: pem) }
        let keyFile = "modelvault verification key v1\nkey-version: 1\nalgorithm: ecdsa-p256-sha256\n" + pem + "\n"
        #expect(throws: Never.self) { try VaultClient.PinnedVerifier(parsing: keyFile) }
        #expect(throws: VaultClientError.self) { try VaultClient.PinnedVerifier(parsing: "not a key") }
    }
}
