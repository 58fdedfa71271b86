import Crypto
public import Foundation

/// The age v1 file format: encryption to recipients, decryption with identities, header re-wrapping.
public enum Age {
    // MARK: Whole buffers

    /// Encrypts `plaintext` to `recipients`; `armored` gives the PEM-style text form.
    public static func encrypt(
        _ plaintext: some DataProtocol, to recipients: [any AgeRecipient], armored: Bool = false
    ) throws -> Data {
        var output = Data()
        try encrypt(from: ByteReader(bytes: Array(plaintext)), recipients: recipients, armored: armored) {
            output += $0
        }
        return output
    }

    /// Decrypts an age file (binary or armored) held in memory.
    public static func decrypt(_ file: some DataProtocol, using identities: [any AgeIdentity]) throws -> Data {
        var output = Data()
        try decrypt(from: ByteReader(bytes: Array(file)), using: identities) { output += $0 }
        return output
    }

    // MARK: Streams

    /// Encrypts from `input` to `output` in constant memory, sealing chunks in parallel. A regular input file is
    /// read by offset in parallel segments; other inputs (pipes, terminals) stream sequentially.
    public static func encrypt(
        from input: FileHandle, to output: FileHandle, recipients: [any AgeRecipient], armored: Bool = false
    ) throws {
        if !armored, let file = RegularFile(input) {
            try encrypt(file, to: output.fileDescriptor, recipients: recipients, hashing: false)
            return
        }
        try encrypt(from: ByteReader(handle: input), recipients: recipients, armored: armored) {
            try write($0, to: output)
        }
    }

    /// Decrypts from `input` to `output` in constant memory; only authenticated chunks reach `output`, in order.
    /// A binary regular input file is opened in parallel segments; other inputs stream sequentially.
    public static func decrypt(
        from input: FileHandle, to output: FileHandle, using identities: [any AgeIdentity]
    ) throws {
        if let file = RegularFile(input), let opened = try openBinary(file, using: identities) {
            _ = try AgePipeline(payload: opened.payload).open(
                from: file, at: opened.offset, count: file.size - opened.offset, to: output.fileDescriptor,
                hashing: false)
            return
        }
        try decrypt(from: ByteReader(handle: input), using: identities) { try write($0, to: output) }
    }

    // MARK: Files

    /// Encrypts the file at `input` into `output` atomically.
    public static func encryptFile(
        at input: URL, to output: URL, recipients: [any AgeRecipient], armored: Bool = false
    ) throws {
        let source = try openForReading(input)
        defer { try? source.close() }
        try AtomicFile.write(to: output) { handle in
            if !armored, let file = RegularFile(source) {
                try encrypt(
                    file, to: handle.fileDescriptor, recipients: recipients, hashing: false, flushBehind: true)
            } else {
                try encrypt(from: source, to: handle, recipients: recipients, armored: armored)
            }
        }
    }

    /// Decrypts the file at `input` into `output` (mode 0600); the output appears only once the last chunk has
    /// authenticated, and a failure leaves no output file.
    public static func decryptFile(at input: URL, to output: URL, using identities: [any AgeIdentity]) throws {
        let source = try openForReading(input)
        defer { try? source.close() }
        try AtomicFile.write(to: output, permissions: 0o600) { handle in
            try decrypt(from: source, to: handle, using: identities)
        }
    }

    // MARK: Re-wrapping

    /// Returns `file` with a new header for `recipients` around the same file key; the payload bytes are copied
    /// unchanged. An armored input gives an armored output.
    public static func rewrap(
        _ file: some DataProtocol, using identities: [any AgeIdentity], for recipients: [any AgeRecipient]
    ) throws -> Data {
        var output = Data()
        try rewrap(from: ByteReader(bytes: Array(file)), using: identities, for: recipients) { output += $0 }
        return output
    }

    /// Re-wraps the file at `input` into `output` atomically, streaming the payload.
    public static func rewrapFile(
        at input: URL, to output: URL, using identities: [any AgeIdentity], for recipients: [any AgeRecipient]
    ) throws {
        let source = try openForReading(input)
        defer { try? source.close() }
        try AtomicFile.write(to: output) { handle in
            try rewrap(from: ByteReader(handle: source), using: identities, for: recipients) {
                try write($0, to: handle)
            }
        }
    }

    /// Re-wraps the file at `input` into `output` atomically, decrypting the payload as it is copied, and returns
    /// the digest of the plaintext those very bytes hold. The caller compares it with what it expects before it
    /// hands the output on: the bytes checked are the bytes copied, so a file swapped or rewritten after an
    /// earlier check cannot be handed out. A payload that fails to authenticate throws and leaves no output.
    public static func rewrapFileDigestingPlaintext(
        at input: URL, to output: URL, using identities: [any AgeIdentity], for recipients: [any AgeRecipient]
    ) throws -> AgePlaintextDigest {
        let source = try openForReading(input)
        defer { try? source.close() }
        var hasher = SHA256()
        var count = 0
        try AtomicFile.write(to: output) { handle in
            try rewrap(
                from: ByteReader(handle: source), using: identities, for: recipients,
                write: { try write($0, to: handle) },
                plaintext: { bytes in
                    hasher.update(data: bytes)
                    count += bytes.count
                })
        }
        return AgePlaintextDigest(sha256: Array(hasher.finalize()), count: count)
    }

    // MARK: Core

    /// Opens the regular file at `url` for reading; anything else (a FIFO, a device, a directory) is refused without
    /// blocking on it: a FIFO put in a stored file's place, with or without a writer holding it, must not hold a vault
    /// thread (reviews of the recorded headers, finding 2 and the second review's finding 3). Streams (pipes,
    /// terminals) go through the `FileHandle` APIs.
    static func openForReading(_ url: URL) throws -> FileHandle {
        let descriptor = openRegularFile(url.path(percentEncoded: false), followingLinks: true)
        guard descriptor >= 0 else { throw AgeError.io("cannot open the input file") }
        return FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    }

    static func write(_ bytes: Data, to handle: FileHandle) throws {
        guard !bytes.isEmpty else { return }
        do { try handle.write(contentsOf: bytes) } catch { throw AgeError.output("cannot write the output") }
    }

    /// Refuses recipient sets the format forbids or discourages.
    static func validate(_ recipients: [any AgeRecipient]) throws {
        guard !recipients.isEmpty else { throw AgeError.request("no recipients given") }
        if recipients.contains(where: { $0 is AgeScryptRecipient }) && recipients.count > 1 {
            throw AgeError.request("a passphrase recipient must be the only recipient")
        }
        let hybrid = recipients.filter { $0 is AgeHybridRecipient }.count
        if hybrid > 0 && hybrid < recipients.count {
            throw AgeError.request("post-quantum recipients cannot be mixed with classic recipients")
        }
    }

    /// Encrypts what `reader` reads, handing the output to `write`; returns the SHA-256 of the header (of its binary
    /// form, when armored).
    @discardableResult
    static func encrypt(
        from reader: ByteReader, recipients: [any AgeRecipient], armored: Bool, write: (Data) throws -> Void
    ) throws -> [UInt8] {
        try validate(recipients)
        let fileKey = SymmetricKey(size: .bits128)
        let header = AgeHeader.encode(stanzas: try recipients.flatMap { try $0.wrap(fileKey) }, fileKey: fileKey)
        let nonce = SymmetricKey(size: .bits128).withUnsafeBytes { [UInt8]($0) }
        var armor = armored ? AgeArmor.Encoder() : nil
        func emit(_ bytes: Data) throws {
            if armor != nil { try write(Data(armor!.write(Array(bytes)))) } else { try write(bytes) }
        }
        try emit(Data(header + nonce))
        try AgePayload(fileKey: fileKey, nonce: nonce).encrypt(from: reader, to: emit)
        if armor != nil { try write(Data(armor!.finish())) }
        return Array(SHA256.hash(data: header))
    }

    /// Reads the header (through the armor if any) and unwraps and checks the file key.
    /// `armored` nil detects the armor.
    static func open(
        _ reader: ByteReader, using identities: [any AgeIdentity], armored: Bool? = nil
    ) throws -> (source: ByteReader, header: AgeHeader, fileKey: SymmetricKey, armored: Bool) {
        let armored = try armored ?? AgeArmor.isArmored(reader)
        let source = armored ? ByteReader(pull: AgeArmor.decoder(reader)) : reader
        let header = try AgeHeader.read(from: source)
        let fileKey = try header.unwrapFileKey(using: identities)
        try header.verifyMAC(fileKey: fileKey)
        return (source, header, fileKey, armored)
    }

    static func decrypt(
        from reader: ByteReader, using identities: [any AgeIdentity], armored: Bool? = nil,
        write: (Data) throws -> Void
    ) throws {
        let (source, _, fileKey, _) = try open(reader, using: identities, armored: armored)
        let nonce = try source.read(upTo: AgePayload.nonceSize)
        guard nonce.count == AgePayload.nonceSize else { throw AgeError.header("missing payload nonce") }
        try AgePayload(fileKey: fileKey, nonce: nonce).decrypt(from: source, to: write)
    }

    /// Writes `reader`'s file with a new header for `recipients` and the same payload. With `plaintext`, the
    /// payload is also decrypted as it is copied (each chunk authenticated) and its plaintext handed over.
    static func rewrap(
        from reader: ByteReader, using identities: [any AgeIdentity], for recipients: [any AgeRecipient],
        write: (Data) throws -> Void, plaintext: ((Data) throws -> Void)? = nil
    ) throws {
        try validate(recipients)
        let (source, _, fileKey, armored) = try open(reader, using: identities)
        let header = AgeHeader.encode(stanzas: try recipients.flatMap { try $0.wrap(fileKey) }, fileKey: fileKey)
        var armor = armored ? AgeArmor.Encoder() : nil
        func emit(_ bytes: Data) throws {
            if armor != nil { try write(Data(armor!.write(Array(bytes)))) } else { try write(bytes) }
        }
        try emit(Data(header))
        if let plaintext {
            let nonce = try source.read(upTo: AgePayload.nonceSize)
            guard nonce.count == AgePayload.nonceSize else { throw AgeError.header("missing payload nonce") }
            try emit(Data(nonce))
            // Every byte the decryption reads is copied out as it is read: what is checked is what is written.
            // The reader lives only for this call, so `emit` does not actually escape.
            try withoutActuallyEscaping(emit) { emit in
                let copying = ByteReader { count in
                    let block = try source.read(upTo: count)
                    if !block.isEmpty { try emit(Data(block)) }
                    return block
                }
                try AgePayload(fileKey: fileKey, nonce: nonce).decrypt(from: copying, to: plaintext)
            }
        } else {
            while true {
                let block = try source.read(upTo: 1 << 20)
                if block.isEmpty { break }
                try emit(Data(block))
            }
        }
        if armor != nil { try write(Data(armor!.finish())) }
    }
}
