import Crypto
public import Foundation
public import ModelSigning

/// The check a decrypting pull makes before anything is renamed into place (review 4, F3): the version's signed
/// manifest must verify with the vault key the caller pinned, name the model and version asked for, and list
/// exactly the files received. The digests the decrypted files are checked against come from that signed
/// manifest, never from the server's unsigned JSON, so a hostile or compromised server (or a man in the middle a
/// wrongly trusted CA lets in) cannot hand out another model, another version or altered bytes.
extension VaultClient {
    /// A vault's pinned verification key: what `modelvault keys export-verifier` writes (a PEM public key), or the
    /// vault's `signing-key.pub` (its PEM block is used).
    public struct PinnedVerifier: Sendable {
        /// The key signatures must verify with.
        public let key: VerifyingKey

        /// Parses a verifier file's text: the PEM `PUBLIC KEY` block in it.
        public init(parsing text: String) throws {
            let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let begin = lines.firstIndex(of: "-----BEGIN PUBLIC KEY-----"),
                let end = lines[begin...].firstIndex(of: "-----END PUBLIC KEY-----")
            else { throw VaultClientError(.invalidInput, "the verifier holds no PEM public key") }
            do {
                key = try VerifyingKey(pem: lines[begin...end].joined(separator: "\n"))
            } catch {
                throw VaultClientError(.invalidInput, "the verifier's public key cannot be read")
            }
        }

        /// A verifier for `key`.
        public init(key: VerifyingKey) {
            self.key = key
        }
    }

    /// The fields of the vault's `manifest.json` a pull checks (it has more; they are covered by the signature).
    struct SignedVersionManifest: Decodable {
        struct File: Decodable {
            var path: String
            var sha256: String
            var size: UInt64?
        }
        var model: String
        var version: Int
        var files: [File]
    }

    /// Checks the signed manifest and signature bundle a pull received with `verifier` and returns the signed
    /// digest of each model file (path → SHA-256 hex). Refuses (`.integrity`) a signature that does not verify, a
    /// manifest whose digest is not the signed one, another model or version than `name`@`version`, and a signature
    /// that covers anything but the manifest and its files. Called before any file is decrypted.
    static func verifiedDigests(
        manifest manifestBytes: Data, signature bundle: Data, verifier: PinnedVerifier, name: String, version: String
    ) throws -> [String: String] {
        let label = "\(name)@\(version)"
        let refused = VaultClientError(
            .integrity, "the signature of \(label) does not verify with the pinned verifier: refusing the pull")
        guard let signed = try? ModelSignature.verify(bundle, with: verifier.key),
            signed.digest(of: signedManifestPath) == Array(SHA256.hash(data: manifestBytes)),
            let manifest = try? JSONDecoder().decode(SignedVersionManifest.self, from: manifestBytes)
        else { throw refused }
        // Model names are case-sensitive in the vault; a version is a number.
        guard manifest.model == name, String(manifest.version) == version else {
            throw VaultClientError(
                .integrity, "the server sent a signed version that is not \(label): refusing the pull")
        }
        var digests: [String: String] = [:]
        for file in manifest.files {
            guard signed.digest(of: file.path).map(hex) == file.sha256.lowercased(), digests[file.path] == nil else {
                throw refused
            }
            digests[file.path] = file.sha256.lowercased()
        }
        // Exactly the signed files, each once: the manifest entry plus one per listed file.
        guard signed.entries.count == digests.count + 1 else { throw refused }
        return digests
    }

    /// The plaintext size of each file in a signed manifest that ``verifiedDigests(manifest:signature:verifier:name:version:)``
    /// accepted (path → bytes); a file without one counts as empty.
    static func signedSizes(manifest manifestBytes: Data) -> [String: UInt64] {
        guard let manifest = try? JSONDecoder().decode(SignedVersionManifest.self, from: manifestBytes) else {
            return [:]
        }
        return Dictionary(manifest.files.map { ($0.path, $0.size ?? 0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The most bytes an age file of `plaintext` bytes can take: a header of at most 64 KiB (recipient stanzas,
    /// post-quantum ones included, the MAC and the nonce), and 16 bytes of tag per 64 KiB chunk (one for an empty
    /// file). Saturates rather than overflows.
    static func largestSealedSize(ofPlaintext plaintext: UInt64) -> UInt64 {
        let chunks = max(1, plaintext / 65_536 + 1)
        let (tags, tagOverflow) = chunks.multipliedReportingOverflow(by: 16)
        let (body, bodyOverflow) = plaintext.addingReportingOverflow(tags)
        let (total, totalOverflow) = body.addingReportingOverflow(65_536)
        return tagOverflow || bodyOverflow || totalOverflow ? .max : total
    }

    /// The same check over signature files received into `directory`, with the received set of `.age` files,
    /// which must be exactly the signed one (what a staged re-wrapped pull holds).
    static func verifiedDigests(
        in directory: URL, received: [String], signatureFileName: String, verifier: PinnedVerifier,
        name: String, version: String
    ) throws -> [String: String] {
        let label = "\(name)@\(version)"
        guard received.contains(signedManifestPath), received.contains(signatureFileName),
            let manifestBytes = try? read(directory.appending(path: signedManifestPath), named: "", limit: 16 << 20),
            let bundle = try? read(directory.appending(path: signatureFileName), named: "", limit: 16 << 20)
        else {
            throw VaultClientError(
                .integrity, "the signature of \(label) does not verify with the pinned verifier: refusing the pull")
        }
        let digests = try verifiedDigests(
            manifest: manifestBytes, signature: bundle, verifier: verifier, name: name, version: version)
        let sealed = received.filter { !isSignatureFile($0, signatureFileName: signatureFileName) }
        guard sealed.allSatisfy({ $0.hasSuffix(".age") }), sealed.count == digests.count,
            Set(sealed.map { String($0.dropLast(4)) }) == Set(digests.keys)
        else { throw VaultClientError(.integrity, "the pulled files are not those of \(label)") }
        return digests
    }

    private static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}
