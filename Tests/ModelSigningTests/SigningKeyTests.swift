import Crypto
import Foundation
import TestSupport
import Testing

@testable import ModelSigning

@Test func signingKeysRoundTripThroughPEMOnEveryCurve() throws {
    let pems = [
        P256.Signing.PrivateKey().pemRepresentation, P384.Signing.PrivateKey().pemRepresentation,
        P521.Signing.PrivateKey().pemRepresentation,
    ]
    for pem in pems {
        let key = try SigningKey(pem: pem)
        let publicKey = try VerifyingKey(pem: key.verifyingKey.pemRepresentation)
        #expect(publicKey.derRepresentation == key.verifyingKey.derRepresentation)
        let message = Data("message".utf8)
        #expect(publicKey.isValid(derSignature: try key.derSignature(for: message), for: message))
        #expect(!publicKey.isValid(derSignature: try key.derSignature(for: message), for: Data("other".utf8)))
    }
}

@Test func verifyingKeyPEMMatchesTheSwiftCryptoEncoding() throws {
    // The hint hashes this PEM text, so it must be the canonical OpenSSL layout.
    let key = P384.Signing.PrivateKey().publicKey
    let ours = VerifyingKey.p384(key).pemRepresentation
    #expect(ours.trimmingCharacters(in: .newlines) == key.pemRepresentation.trimmingCharacters(in: .newlines))
    #expect(ours.hasSuffix("-----END PUBLIC KEY-----\n"))
}

@Test func keysRejectNonECDSAText() {
    #expect(throws: ModelSigningError(.unsupportedKey)) { try SigningKey(pem: "not a key") }
    let ed25519 = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString()
    #expect(throws: ModelSigningError(.unsupportedKey)) {
        try VerifyingKey(pem: "-----BEGIN PUBLIC KEY-----\n\(ed25519)\n-----END PUBLIC KEY-----\n")
    }
}

@Test(arguments: ["prime256v1", "secp384r1", "secp521r1"])
func signingKeysReadOpenSSLSEC1AndPKCS8Files(curve: String) throws {
    guard Interop.runs("openssl", ["version"]) else { try Interop.skipOrFail("openssl") }
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let sec1 = directory.url.appendingPathComponent("sec1.pem").path
    let pkcs8 = directory.url.appendingPathComponent("pkcs8.pem").path
    let pub = directory.url.appendingPathComponent("key.pub").path
    #expect(
        try ChildProcess.tool("openssl", ["ecparam", "-name", curve, "-genkey", "-noout", "-out", sec1]).run().status
            == 0)
    #expect(
        try ChildProcess.tool("openssl", ["pkcs8", "-topk8", "-nocrypt", "-in", sec1, "-out", pkcs8]).run().status == 0)
    #expect(try ChildProcess.tool("openssl", ["ec", "-in", sec1, "-pubout", "-out", pub]).run().status == 0)
    let fromSEC1 = try SigningKey(pem: String(contentsOfFile: sec1, encoding: .utf8))
    let fromPKCS8 = try SigningKey(pem: String(contentsOfFile: pkcs8, encoding: .utf8))
    let publicPEM = try String(contentsOfFile: pub, encoding: .utf8)
    #expect(fromSEC1.verifyingKey.derRepresentation == fromPKCS8.verifyingKey.derRepresentation)
    // Our PEM must be byte-identical to OpenSSL's, since the key hint hashes it.
    #expect(fromSEC1.verifyingKey.pemRepresentation == publicPEM)
    #expect(try VerifyingKey(pem: publicPEM).hint == fromSEC1.verifyingKey.hint)
}
