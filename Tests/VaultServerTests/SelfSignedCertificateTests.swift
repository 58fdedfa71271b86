import Foundation
import Testing
import X509

@testable import VaultServer

/// `--self-signed` (issue #19): the served certificate is a leaf (`CA:FALSE`, serverAuth, no `keyCertSign`),
/// issued by a throwaway CA whose private key is discarded, so the anchor clients trust can mint nothing else.
@Suite struct SelfSignedCertificateTests {
    @Test func servedCertificateIsALeafUnderADiscardedThrowawayCA() throws {
        let generated = try SelfSignedCertificate.generate(host: "vault.internal")
        let leaf = try Certificate(pemEncoded: generated.certificatePEM)
        let constraints = try #require(try leaf.extensions.basicConstraints)
        #expect(constraints == .notCertificateAuthority)
        let usage = try #require(try leaf.extensions.keyUsage)
        #expect(!usage.keyCertSign)
        #expect(usage.digitalSignature)
        #expect(try leaf.extensions.extendedKeyUsage?.contains(.serverAuth) == true)
        // Issued by the trust anchor, not by itself.
        let anchor = try Certificate(pemEncoded: generated.trustAnchorPEM)
        #expect(leaf.issuer == anchor.subject)
        #expect(leaf.issuer != leaf.subject)
        #expect(anchor.publicKey.isValidSignature(leaf.signature, for: leaf))
        // The anchor can sign only this leaf: path length 0, and its key exists nowhere in what is returned.
        #expect(try anchor.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        #expect(!generated.trustAnchorPEM.contains("PRIVATE KEY"))
        #expect(!generated.certificatePEM.contains("PRIVATE KEY"))
        let mirror = Mirror(reflecting: generated).children.compactMap(\.label)
        #expect(mirror.sorted() == ["certificatePEM", "fingerprint", "names", "privateKeyPEM", "trustAnchorPEM"])
        // Two generations use two different throwaway CAs.
        let other = try SelfSignedCertificate.generate(host: "vault.internal")
        #expect(other.trustAnchorPEM != generated.trustAnchorPEM)
    }
}
