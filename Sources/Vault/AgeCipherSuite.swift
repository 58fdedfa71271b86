import Crypto
import Foundation
import Synchronization
import VaultCrypto

/// The vault's cipher suite on VaultCrypto's age v1: X25519 or ML-KEM-768+X25519 identities, scrypt key files.
struct AgeCipherSuite: VaultCipherSuite {
    static let hybridPrefix = "AGE-SECRET-KEY-PQ-1"

    func identity(_ text: String) throws -> any AgeIdentity {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.uppercased().hasPrefix(Self.hybridPrefix) { return try AgeHybridIdentity(trimmed) }
        return try AgeX25519Identity(trimmed)
    }

    func identities(_ texts: [String]) throws -> [any AgeIdentity] { try texts.map(identity) }

    func recipients(_ texts: [String]) throws -> [any AgeRecipient] { try texts.map(AgeKeys.parseRecipient) }

    func generateIdentity(postQuantum: Bool) throws -> String {
        postQuantum ? AgeHybridIdentity.generate().encoded : AgeX25519Identity.generate().encoded
    }

    func recipient(ofIdentity identity: String) throws -> String {
        let trimmed = identity.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.uppercased().hasPrefix(Self.hybridPrefix) { return try AgeHybridIdentity(trimmed).recipient.encoded }
        return try AgeX25519Identity(trimmed).recipient.encoded
    }

    func validateRecipient(_ recipient: String) throws -> String {
        let trimmed = recipient.trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try AgeKeys.parseRecipient(trimmed)
        return trimmed
    }

    func parseIdentities(_ text: String) throws -> [String] {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        for line in lines { _ = try identity(line) }
        return lines
    }

    func seal(_ plaintext: Data, passphrase: String, workFactor: Int) throws -> Data {
        try Age.encrypt(plaintext, to: [AgeScryptRecipient(passphrase: passphrase, workFactor: workFactor)])
    }

    func open(_ file: Data, passphrase: String) throws -> Data {
        try Age.decrypt(file, using: [AgeScryptIdentity(passphrase: passphrase)])
    }

    func encrypt(_ plaintext: Data, to recipients: [String]) throws -> Data {
        try Age.encrypt(plaintext, to: self.recipients(recipients))
    }

    func decrypt(_ file: Data, using identities: [String]) throws -> Data {
        try Age.decrypt(file, using: self.identities(identities))
    }

    func encryptFile(at input: URL, to output: URL, recipients: [String]) throws {
        try Age.encryptFile(at: input, to: output, recipients: self.recipients(recipients))
    }

    func decryptFile(at input: URL, to output: URL, using identities: [String]) throws {
        try Age.decryptFile(at: input, to: output, using: self.identities(identities))
    }

    func encryptFileDigesting(at input: URL, into output: FileHandle, recipients: [String]) throws -> FileDigest {
        FileDigest(
            try Age.encryptFileDigestingPlaintext(at: input, into: output, recipients: self.recipients(recipients)))
    }

    func encryptFileDigesting(
        reading input: FileHandle, into output: FileHandle, recipients: [String]
    ) throws
        -> FileDigest
    {
        FileDigest(
            try Age.encryptFileDigestingPlaintext(
                reading: input, into: output, recipients: self.recipients(recipients)))
    }

    func encryptFileDigestingHeader(at input: URL, into output: FileHandle, recipients: [String]) throws -> SealedDigest
    {
        SealedDigest(
            try Age.encryptFileDigestingPlaintextAndHeader(
                at: input, into: output, recipients: self.recipients(recipients)))
    }

    func encryptFileDigestingHeader(
        reading input: FileHandle, into output: FileHandle, recipients: [String]
    ) throws -> SealedDigest {
        SealedDigest(
            try Age.encryptFileDigestingPlaintextAndHeader(
                reading: input, into: output, recipients: self.recipients(recipients)))
    }

    func headerSHA256(ofSealed sealed: Data) -> [UInt8]? { try? Age.headerSHA256(of: sealed) }

    func decryptFileDigesting(at input: URL, into output: FileHandle, using identities: [String]) throws -> FileDigest {
        FileDigest(
            try Age.decryptFileDigestingPlaintext(at: input, into: output, using: self.identities(identities)))
    }

    func plaintextDigest(ofFileAt url: URL, using identities: [String]) throws -> FileDigest {
        FileDigest(try Age.plaintextDigest(ofFileAt: url, using: self.identities(identities)))
    }

    func rewrapFile(at input: URL, to output: URL, using identities: [String], for recipients: [String]) throws {
        try Age.rewrapFile(at: input, to: output, using: self.identities(identities), for: self.recipients(recipients))
    }

    func rewrapFileDigesting(
        at input: URL, to output: URL, using identities: [String], for recipients: [String]
    )
        throws -> FileDigest
    {
        FileDigest(
            try Age.rewrapFileDigestingPlaintext(
                at: input, to: output, using: self.identities(identities), for: self.recipients(recipients)))
    }

    func rewrappedSize(ofFileAt url: URL, using identities: [String], for recipients: [String]) throws -> Int {
        try Age.rewrappedSize(ofFileAt: url, for: self.recipients(recipients))
    }

    func openRewrapped(
        at url: URL, using identities: [String], for recipients: [String]
    ) throws -> (source: AgeRewrappedSource, digest: FileDigest) {
        let source = try Age.openRewrapped(
            at: url, using: self.identities(identities), for: self.recipients(recipients), digestingPlaintext: true)
        return (source, FileDigest(source.plaintextDigest!))
    }

    func openRewrapped(
        at url: URL, using identities: [String], for recipients: [String], requiringHeaderSHA256 header: [UInt8]
    ) throws -> AgeRewrappedSource? {
        try Age.openRewrapped(
            at: url, using: self.identities(identities), for: self.recipients(recipients), digestingPlaintext: false,
            requiringHeaderSHA256: header)
    }

    func openRewrappedCopy(
        at url: URL, using identities: [String], for recipients: [String], requiringHeaderSHA256 header: [UInt8]?
    ) throws -> (source: AgeRewrappedSource, digest: FileDigest) {
        let source = try Age.openRewrapped(
            at: url, using: self.identities(identities), for: self.recipients(recipients), digestingPlaintext: true,
            requiringHeaderSHA256: header, snapshotIn: FileManager.default.temporaryDirectory)
        return (source, FileDigest(source.plaintextDigest!))
    }

    /// Streams the plaintext through a pipe from a decrypting thread to the encrypting one: it never
    /// touches disk and memory stays constant.
    func reencryptFile(at input: URL, to output: URL, using identities: [String], for recipients: [String]) throws {
        let identities = try self.identities(identities)
        let recipients = try self.recipients(recipients)
        let source = try FileHandle(forReadingFrom: input)
        defer { try? source.close() }
        try AtomicFile.write(to: output, permissions: 0o644) { destination in
            let pipe = Pipe()
            let failed = Mutex(false)
            let writer = pipe.fileHandleForWriting
            let group = DispatchGroup()
            DispatchQueue.global().async(group: group) {
                do {
                    try Age.decrypt(from: source, to: writer, using: identities)
                } catch {
                    failed.withLock { $0 = true }
                }
                try? writer.close()
            }
            var encryptError: (any Error)?
            do {
                try Age.encrypt(from: pipe.fileHandleForReading, to: destination, recipients: recipients)
            } catch {
                encryptError = error
            }
            // Unblock the decrypting side if encryption stopped early, then wait for it.
            try? pipe.fileHandleForReading.close()
            group.wait()
            if let encryptError { throw encryptError }
            guard !failed.withLock({ $0 }) else {
                throw VaultError(.decryptionFailed, "cannot decrypt a stored file")
            }
        }
    }

    func decryptFernet(token: Data, keyText: String) throws -> Data {
        let key = try FernetKey(base64URL: keyText.trimmingCharacters(in: .whitespacesAndNewlines))
        let text = String(decoding: token, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return try Fernet.decrypt(token: text, key: key)
    }
}

extension FileDigest {
    /// The digest VaultCrypto computed while streaming a file.
    init(_ digest: AgePlaintextDigest) {
        self.init(sha256: digest.sha256, size: digest.count)
    }
}

extension SealedDigest {
    /// The digests VaultCrypto computed while encrypting a file.
    init(_ digests: AgeEncryptionDigests) {
        self.init(plaintext: FileDigest(digests.plaintext), headerSHA256: digests.headerSHA256)
    }
}
