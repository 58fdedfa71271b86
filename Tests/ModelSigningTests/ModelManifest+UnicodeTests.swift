import Crypto
import Foundation
import TestSupport
import Testing

@testable import ModelSigning

/// Paths are compared as Unicode scalars, never by Swift `String` equality (which merges canonically equivalent
/// spellings): issue #19's extra, unsigned file named with the NFC spelling of a signed NFD name.
@Suite struct ModelManifestUnicodeTests {
    /// "café.bin" decomposed (e + U+0301) and precomposed (U+00E9): equal as Swift strings, distinct files.
    static let nfd = "cafe\u{301}.bin"
    static let nfc = "caf\u{E9}.bin"
    /// Sorts between the two spellings (0x65 < 0x66 < 0xE9), so they are not neighbours in the manifest.
    static let between = "caff.bin"

    @Test func spellingsAreDistinctScalarsButEqualStrings() {
        #expect(Self.nfd == Self.nfc)
        #expect(!Self.nfd.unicodeScalars.elementsEqual(Self.nfc.unicodeScalars))
    }

    @Test func aManifestWithCanonicallyEquivalentNamesIsRefused() {
        let digest = [UInt8](repeating: 1, count: 32)
        for names in [[Self.nfd, Self.nfc], [Self.nfd, Self.between, Self.nfc], [Self.nfc, "x", Self.nfd]] {
            #expect(throws: ModelSigningError(.equivalentResourceNames, path: Self.nfc)) {
                try ModelManifest(entries: names.map { .init(path: $0, sha256: digest) })
            }
        }
        // Byte-identical duplicates are found across all entries, not only neighbours.
        #expect(throws: ModelSigningError(.duplicateResource, path: "a")) {
            try ModelManifest(entries: ["a", "b", "a"].map { .init(path: $0, sha256: digest) })
        }
    }

    @Test func anUnsignedFileWithTheNFCSpellingOfASignedNFDNameIsRefused() throws {
        let model = try TemporaryDirectory()
        defer { model.remove() }
        let key = SigningKey.p256(P256.Signing.PrivateKey())
        let signature = model.url.appendingPathComponent(ModelSignature.defaultSignatureName)
        try model.write("signed", to: Self.nfd)
        try model.write("other", to: Self.between)
        try ModelSignature.signModel(at: model.url, with: key, signature: signature)
        try ModelSignature.verifyModel(at: model.url, with: key.verifyingKey, signature: signature)
        try model.write("unsigned", to: Self.nfc)
        #expect(try FileManager.default.contentsOfDirectory(atPath: model.url.path).count == 4)
        #expect(throws: ModelSigningError(.equivalentResourceNames, path: Self.nfc)) {
            try ModelSignature.verifyModel(at: model.url, with: key.verifyingKey, signature: signature)
        }
    }

    @Test func aSignedFileRenamedToAnEquivalentSpellingIsRefused() throws {
        let model = try TemporaryDirectory()
        defer { model.remove() }
        let key = SigningKey.p256(P256.Signing.PrivateKey())
        let signature = model.url.appendingPathComponent(ModelSignature.defaultSignatureName)
        try model.write("signed", to: Self.nfd)
        try ModelSignature.signModel(at: model.url, with: key, signature: signature)
        try FileManager.default.moveItem(
            atPath: model.url.path + "/" + Self.nfd, toPath: model.url.path + "/" + Self.nfc)
        #expect(throws: ModelSigningError(.fileMissing, path: Self.nfd)) {
            try ModelSignature.verifyModel(at: model.url, with: key.verifyingKey, signature: signature)
        }
    }

    /// The reference refuses the same model: `model_signing` signs the NFD file, then reports the NFC extra.
    @Test func modelSigningRefusesTheSameExtraFile() throws {
        guard ModelSigningInteropTests.toolAvailable else {
            try Interop.skipOrFail(ModelSigningInteropTests.tool)
        }
        let root = try TemporaryDirectory()
        defer { root.remove() }
        let key = SigningKey.p256(P256.Signing.PrivateKey())
        try root.write("signed", to: "model/" + Self.nfd)
        try root.write("other", to: "model/" + Self.between)
        try root.write(key.pemRepresentation, to: "key.pem")
        try root.write(key.verifyingKey.pemRepresentation, to: "key.pub")
        func tool(_ arguments: [String]) throws -> ChildProcess.Output {
            try ChildProcess.tool(ModelSigningInteropTests.tool, arguments, in: root.url, mergesErrors: true).run()
        }
        let signed = try tool(["sign", "key", "model", "--private_key", "key.pem", "--signature", "model/model.sig"])
        try #require(signed.status == 0, "model_signing failed to sign: \(signed.stdout)")
        let verify = ["verify", "key", "model", "--signature", "model/model.sig", "--public_key", "key.pub"]
        #expect(try tool(verify).status == 0)
        try root.write("unsigned", to: "model/" + Self.nfc)
        #expect(try tool(verify).status != 0)
        let signature = root.url.appendingPathComponent("model/model.sig")
        #expect(throws: ModelSigningError.self) {
            try ModelSignature.verifyModel(
                at: root.url.appendingPathComponent("model"), with: key.verifyingKey, signature: signature)
        }
    }
}
