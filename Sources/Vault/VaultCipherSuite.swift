import Foundation
import VaultCrypto

/// The encryption primitives the vault stores files with (age v1 in production).
///
/// A seam so the catalog, registry and rotation logic do not depend on how files are encrypted. Identities
/// and recipients travel as their text encodings; identities are secrets and are never logged.
protocol VaultCipherSuite: Sendable {
    /// A new vault identity (X25519, or the ML-KEM-768+X25519 hybrid), as secret text.
    func generateIdentity(postQuantum: Bool) throws -> String
    /// The public recipient of a secret identity.
    func recipient(ofIdentity identity: String) throws -> String
    /// Checks a recipient's encoding and returns it normalised.
    func validateRecipient(_ recipient: String) throws -> String
    /// The identities of an identity file (comments and blank lines allowed).
    func parseIdentities(_ text: String) throws -> [String]

    /// Encrypts a small secret under a passphrase (scrypt).
    func seal(_ plaintext: Data, passphrase: String, workFactor: Int) throws -> Data
    /// Decrypts a passphrase-encrypted secret.
    func open(_ file: Data, passphrase: String) throws -> Data

    /// Encrypts a buffer for recipients.
    func encrypt(_ plaintext: Data, to recipients: [String]) throws -> Data
    /// Decrypts a buffer with any of the identities.
    func decrypt(_ file: Data, using identities: [String]) throws -> Data
    /// Encrypts a file for recipients, streaming; the output appears atomically.
    func encryptFile(at input: URL, to output: URL, recipients: [String]) throws
    /// Decrypts a file, streaming; the output appears atomically.
    func decryptFile(at input: URL, to output: URL, using identities: [String]) throws
    /// Encrypts a file for recipients into `output` and returns its plaintext digest, reading the file once for
    /// both. `output` is the handle of an `AtomicFile.Pending`: the caller commits it (flushes it to disk) or
    /// discards it.
    func encryptFileDigesting(at input: URL, into output: FileHandle, recipients: [String]) throws -> FileDigest
    /// Encrypts what an open file handle reads (from its offset) into `output`; returns the plaintext digest.
    func encryptFileDigesting(
        reading input: FileHandle, into output: FileHandle, recipients: [String]
    ) throws
        -> FileDigest
    /// Decrypts a file into `output` (an `AtomicFile.Pending` handle the caller commits or discards) and returns
    /// the digest of the plaintext written, in one pass.
    func decryptFileDigesting(at input: URL, into output: FileHandle, using identities: [String]) throws -> FileDigest
    /// The SHA-256 and size of a file's plaintext, decrypted in memory chunk by chunk.
    func plaintextDigest(ofFileAt url: URL, using identities: [String]) throws -> FileDigest
    /// Re-wraps a file's key for new recipients; the payload is copied unchanged; the output appears atomically.
    func rewrapFile(at input: URL, to output: URL, using identities: [String], for recipients: [String]) throws
    /// Re-wraps a file's key for new recipients, decrypting the payload as it is copied: returns the digest of the
    /// plaintext of exactly the bytes written (the output appears atomically; the caller checks the digest).
    func rewrapFileDigesting(
        at input: URL, to output: URL, using identities: [String], for recipients: [String]
    )
        throws -> FileDigest
    /// The size of the stored file at `url` re-wrapped for `recipients` (what ``openRewrapped(at:using:for:)``
    /// sends), known before any file is opened for sending.
    func rewrappedSize(ofFileAt url: URL, using identities: [String], for recipients: [String]) throws -> Int
    /// Opens a stored file to be sent re-wrapped for `recipients` without writing it anywhere: the payload is
    /// decrypted in memory first and the digest of its plaintext returned, and what is sent afterwards comes from the
    /// same open file under the file key that was checked (`AgeRewrappedSource`).
    func openRewrapped(
        at url: URL, using identities: [String], for recipients: [String]
    ) throws -> (source: AgeRewrappedSource, digest: FileDigest)
    /// ``encryptFileDigesting(at:into:recipients:)`` that also returns the SHA-256 of the header written, taken from
    /// memory: the vault records it to recognise that header, and so the file key, at a streamed pull.
    func encryptFileDigestingHeader(at input: URL, into output: FileHandle, recipients: [String]) throws -> SealedDigest
    /// ``encryptFileDigesting(reading:into:recipients:)`` that also returns the SHA-256 of the header written.
    func encryptFileDigestingHeader(
        reading input: FileHandle, into output: FileHandle, recipients: [String]
    ) throws -> SealedDigest
    /// The SHA-256 of the header of `sealed`, a file this suite's ``encrypt(_:to:)`` just returned (in memory, never
    /// read back from disk); nil for a suite without one.
    func headerSHA256(ofSealed sealed: Data) -> [UInt8]?
    /// Opens a stored file to be sent re-wrapped for `recipients` when its header has the SHA-256 the vault recorded
    /// as it wrote the file: the file key wrapped for the caller is then the one the vault encrypted that file with,
    /// and the payload is not read (the receiver authenticates it against the signed digest). Throws when the header
    /// differs; nil when the suite cannot check a header (the caller then checks the payload).
    func openRewrapped(
        at url: URL, using identities: [String], for recipients: [String], requiringHeaderSHA256 header: [UInt8]
    ) throws -> AgeRewrappedSource?
    /// Opens a stored file to be sent re-wrapped for `recipients` to a receiver that will not check it (`model pull
    /// --to`, a deployment): the payload is copied into a private file first, that copy is decrypted in memory and the
    /// digest of its plaintext returned, and the copy is what is sent, so a stored file rewritten in place after the
    /// check is never sent. With `header`, the stored header must have that SHA-256 (throws otherwise).
    func openRewrappedCopy(
        at url: URL, using identities: [String], for recipients: [String], requiringHeaderSHA256 header: [UInt8]?
    ) throws -> (source: AgeRewrappedSource, digest: FileDigest)
    /// Re-encrypts a file under a fresh file key for new recipients, streaming the plaintext through memory
    /// only; the output appears atomically.
    func reencryptFile(at input: URL, to output: URL, using identities: [String], for recipients: [String]) throws
    /// Decrypts a legacy Fernet token with its key text.
    func decryptFernet(token: Data, keyText: String) throws -> Data
}

/// The signing primitives the vault signs manifests with (OpenSSF model signing in production).
protocol VaultManifestSigner: Sendable {
    /// A new ECDSA P-256 private key, PEM (a secret).
    func generateSigningKey() -> String
    /// The public key of a private key, PEM.
    func publicKey(ofSigningKey privateKeyPEM: String) throws -> String
    /// Signs file digests; returns the signature bundle.
    func sign(_ entries: [SignedEntry], modelName: String, privateKeyPEM: String) throws -> Data
    /// Verifies a bundle with a public key; returns the signed entries.
    func verify(_ bundle: Data, publicKeyPEM: String) throws -> [SignedEntry]
}

/// What the vault's encryption of one file yields: the digest of its plaintext and, when the cipher suite has one, the
/// SHA-256 of the header it wrote (the vault's record of that header, `blob_headers`).
struct SealedDigest: Sendable, Hashable {
    var plaintext: FileDigest
    var headerSHA256: [UInt8]? = nil
}

/// One file of a signed manifest: a relative path and the SHA-256 of its contents.
struct SignedEntry: Sendable, Hashable {
    var path: String
    var sha256: [UInt8]
}

extension VaultCipherSuite {
    /// For a suite without headers to record.
    func encryptFileDigestingHeader(at input: URL, into output: FileHandle, recipients: [String]) throws -> SealedDigest
    {
        SealedDigest(plaintext: try encryptFileDigesting(at: input, into: output, recipients: recipients))
    }

    /// For a suite without headers to record.
    func encryptFileDigestingHeader(
        reading input: FileHandle, into output: FileHandle, recipients: [String]
    ) throws -> SealedDigest {
        SealedDigest(plaintext: try encryptFileDigesting(reading: input, into: output, recipients: recipients))
    }

    /// For a suite without headers to record.
    func headerSHA256(ofSealed sealed: Data) -> [UInt8]? { nil }

    /// For a suite without headers to check: the caller checks the payload.
    func openRewrapped(
        at url: URL, using identities: [String], for recipients: [String], requiringHeaderSHA256 header: [UInt8]
    ) throws -> AgeRewrappedSource? { nil }

    /// For a suite without streamed re-wrapping: re-wraps into a temporary file and measures it.
    func rewrappedSize(ofFileAt url: URL, using identities: [String], for recipients: [String]) throws -> Int {
        try openRewrapped(at: url, using: identities, for: recipients).source.size
    }

    /// For a suite without streamed re-wrapping: ``openRewrapped(at:using:for:)`` already sends a private copy (a suite
    /// without headers has none to check).
    func openRewrappedCopy(
        at url: URL, using identities: [String], for recipients: [String], requiringHeaderSHA256 header: [UInt8]?
    ) throws -> (source: AgeRewrappedSource, digest: FileDigest) {
        try openRewrapped(at: url, using: identities, for: recipients)
    }

    /// For a suite without streamed re-wrapping: re-wraps into a temporary file (removed at once, read through its
    /// open descriptor) and sends that whole file as the payload.
    func openRewrapped(
        at url: URL, using identities: [String], for recipients: [String]
    ) throws -> (source: AgeRewrappedSource, digest: FileDigest) {
        let temporary = FileManager.default.temporaryDirectory.appending(path: "modelvault-rewrap-\(UUID().uuidString)")
        defer { unlink(temporary.path(percentEncoded: false)) }
        let digest = try rewrapFileDigesting(at: url, to: temporary, using: identities, for: recipients)
        // The suite's own `open` shadows open(2) here: the descriptor comes from a handle.
        guard let handle = try? FileHandle(forReadingFrom: temporary) else {
            throw VaultError.storage("cannot read a re-wrapped file")
        }
        let descriptor = dup(handle.fileDescriptor)
        try? handle.close()
        var info = stat()
        guard descriptor >= 0, fstat(descriptor, &info) == 0 else {
            if descriptor >= 0 { close(descriptor) }
            throw VaultError.storage("cannot read a re-wrapped file")
        }
        let source = AgeRewrappedSource(
            header: [], descriptor: descriptor, payloadOffset: 0, payloadCount: Int(info.st_size),
            plaintextDigest: nil)
        return (source, digest)
    }
}
