import Crypto
public import Foundation

extension Age {
    // MARK: Hashing while encrypting or decrypting

    /// Encrypts the file at `input` into `output` atomically and returns the SHA-256 of the plaintext, computed
    /// from the same read: the file is read once for both.
    public static func encryptFileDigestingPlaintext(
        at input: URL, to output: URL, recipients: [any AgeRecipient]
    ) throws -> AgePlaintextDigest {
        var digest: AgePlaintextDigest?
        try AtomicFile.write(to: output) { handle in
            digest = try encryptFileDigestingPlaintext(at: input, into: handle, recipients: recipients)
        }
        return digest!
    }

    /// Encrypts the file at `input`, writing the age file to `output` (an `AtomicFile.Pending` handle, which the
    /// caller commits), and returns the SHA-256 of the plaintext from the same read. Writeback of the output
    /// starts as it is written, so that committing it later is short.
    public static func encryptFileDigestingPlaintext(
        at input: URL, into output: FileHandle, recipients: [any AgeRecipient]
    ) throws -> AgePlaintextDigest {
        try encryptFileDigestingPlaintextAndHeader(at: input, into: output, recipients: recipients).plaintext
    }

    /// ``encryptFileDigestingPlaintext(at:into:recipients:)`` that also returns the SHA-256 of the header it wrote,
    /// taken from memory, never read back from `output`.
    public static func encryptFileDigestingPlaintextAndHeader(
        at input: URL, into output: FileHandle, recipients: [any AgeRecipient]
    ) throws -> AgeEncryptionDigests {
        let source = try openForReading(input)
        defer { try? source.close() }
        return try encryptFileDigestingPlaintextAndHeader(reading: source, into: output, recipients: recipients)
    }

    /// Encrypts what `source` reads from its current offset to its end (a regular file is read with `pread`, its
    /// offset unmoved) into `output`, and returns the SHA-256 of the plaintext from the same read.
    public static func encryptFileDigestingPlaintext(
        reading source: FileHandle, into output: FileHandle, recipients: [any AgeRecipient]
    ) throws -> AgePlaintextDigest {
        try encryptFileDigestingPlaintextAndHeader(reading: source, into: output, recipients: recipients).plaintext
    }

    /// ``encryptFileDigestingPlaintext(reading:into:recipients:)`` that also returns the SHA-256 of the header it
    /// wrote, taken from memory, never read back from `output`.
    public static func encryptFileDigestingPlaintextAndHeader(
        reading source: FileHandle, into output: FileHandle, recipients: [any AgeRecipient]
    ) throws -> AgeEncryptionDigests {
        if let file = RegularFile(source) {
            let sealed = try encrypt(
                file, to: output.fileDescriptor, recipients: recipients, hashing: true, flushBehind: true)
            return AgeEncryptionDigests(plaintext: sealed.digest!, headerSHA256: sealed.headerSHA256)
        }
        var hasher = SHA256()
        var count = 0
        let reader = ByteReader { size in
            let bytes = [UInt8](try source.read(upToCount: size) ?? Data())
            hasher.update(data: bytes)
            count += bytes.count
            return bytes
        }
        let headerSHA256 = try encrypt(from: reader, recipients: recipients, armored: false) {
            try write($0, to: output)
        }
        return AgeEncryptionDigests(
            plaintext: AgePlaintextDigest(sha256: Array(hasher.finalize()), count: count), headerSHA256: headerSHA256)
    }

    /// Decrypts the file at `input` into `output` (mode 0600) atomically, as `decryptFile` does, and returns the
    /// SHA-256 of the plaintext written, computed in the same pass.
    public static func decryptFileDigestingPlaintext(
        at input: URL, to output: URL, using identities: [any AgeIdentity]
    ) throws -> AgePlaintextDigest {
        var digest: AgePlaintextDigest?
        try AtomicFile.write(to: output, permissions: 0o600) { handle in
            digest = try decryptFileDigestingPlaintext(at: input, into: handle, using: identities)
        }
        return digest!
    }

    /// Decrypts the file at `input`, writing the plaintext to `output` (an `AtomicFile.Pending` handle, which the
    /// caller commits, or discards on failure), and returns the SHA-256 of the plaintext written.
    public static func decryptFileDigestingPlaintext(
        at input: URL, into output: FileHandle, using identities: [any AgeIdentity]
    ) throws -> AgePlaintextDigest {
        let source = try openForReading(input)
        defer { try? source.close() }
        return try decryptDigesting(source, to: output, using: identities)
    }

    /// Decrypts the file at `url` in memory, chunk by chunk, writing nothing, and returns the plaintext's digest;
    /// throws if any chunk fails to authenticate.
    public static func plaintextDigest(
        ofFileAt url: URL, using identities: [any AgeIdentity]
    ) throws
        -> AgePlaintextDigest
    {
        let source = try openForReading(url)
        defer { try? source.close() }
        return try decryptDigesting(source, to: nil, using: identities)
    }

    // MARK: Core

    /// Writes the header and seals the whole of `file` to `output` in parallel segments; returns the plaintext's
    /// digest (with `hashing`) and the SHA-256 of the header written.
    @discardableResult
    static func encrypt(
        _ file: RegularFile, to output: Int32, recipients: [any AgeRecipient], hashing: Bool,
        flushBehind: Bool = false
    ) throws -> (digest: AgePlaintextDigest?, headerSHA256: [UInt8]) {
        try validate(recipients)
        let fileKey = SymmetricKey(size: .bits128)
        let header = AgeHeader.encode(stanzas: try recipients.flatMap { try $0.wrap(fileKey) }, fileKey: fileKey)
        let nonce = SymmetricKey(size: .bits128).withUnsafeBytes { [UInt8]($0) }
        try (header + nonce).withUnsafeBytes { try writeFully(output, $0) }
        let pipeline = AgePipeline(payload: AgePayload(fileKey: fileKey, nonce: nonce), flushBehind: flushBehind)
        let digest = try pipeline.seal(from: file, count: file.size, to: output, hashing: hashing)
        return (digest, Array(SHA256.hash(data: header)))
    }

    /// Reads and checks the header of a binary age file by offset; `nil` when the file is armored (the caller
    /// streams it sequentially instead). Armor is detected before any identity is asked for its key.
    static func openBinary(
        _ file: RegularFile, using identities: [any AgeIdentity]
    ) throws -> (payload: AgePayload, offset: Int)? {
        let reader = file.reader()
        guard try !AgeArmor.isArmored(reader) else { return nil }
        let header = try AgeHeader.read(from: reader)
        let fileKey = try header.unwrapFileKey(using: identities)
        try header.verifyMAC(fileKey: fileKey)
        let nonce = try reader.read(upTo: AgePayload.nonceSize)
        guard nonce.count == AgePayload.nonceSize else { throw AgeError.header("missing payload nonce") }
        return (AgePayload(fileKey: fileKey, nonce: nonce), reader.consumed)
    }

    /// Decrypts `source` to `output` (or nowhere) while hashing the plaintext released.
    static func decryptDigesting(
        _ source: FileHandle, to output: FileHandle?, using identities: [any AgeIdentity]
    ) throws -> AgePlaintextDigest {
        if let file = RegularFile(source), let opened = try openBinary(file, using: identities) {
            // An output here is always an atomic file, fsynced at the end.
            return try AgePipeline(payload: opened.payload, flushBehind: output != nil).open(
                from: file, at: opened.offset, count: file.size - opened.offset, to: output?.fileDescriptor,
                hashing: true)!
        }
        var hasher = SHA256()
        var count = 0
        try decrypt(from: ByteReader(handle: source), using: identities) { bytes in
            hasher.update(data: bytes)
            count += bytes.count
            if let output { try write(bytes, to: output) }
        }
        return AgePlaintextDigest(sha256: Array(hasher.finalize()), count: count)
    }
}
