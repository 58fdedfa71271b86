import Crypto
public import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An age file opened to be sent re-wrapped, without writing the re-wrapped file anywhere: a new header for the
/// new recipients around the stored file key, then the stored payload (its nonce and sealed chunks, which
/// re-wrapping leaves unchanged), read from the open descriptor by offset as it is sent.
///
/// The descriptor stays on the file that was opened and checked: a file renamed over the stored path afterwards is
/// never read, and the new header wraps the file key of the header the payload was checked under. Bytes of that very
/// file rewritten in place after the check are read as they are then: whoever knows the file key (anyone who may pull
/// the file) can seal other chunks under it, so a receiver that does not authenticate and check what it gets is sent
/// a private copy, made before the check (`snapshotIn`).
public final class AgeRewrappedSource: Sendable {
    /// The new header: what the receiver reads first.
    public let header: [UInt8]
    /// The payload's bytes: from `payloadOffset` of the descriptor, `payloadCount` of them.
    public let payloadCount: Int
    /// The SHA-256 and length of the plaintext the payload decrypted to when it was opened, if it was checked.
    public let plaintextDigest: AgePlaintextDigest?
    private let descriptor: Int32
    private let payloadOffset: Int
    /// Direct reads of the payload ahead of the caller, for a stored file not in the page cache (see `DirectInput`:
    /// the vault writes its blobs around the cache, and a buffered read of one fills new pages at a cost of about
    /// 1.3 s of system time per GiB on this project's VMs).
    let direct: DirectInput?
    private let reading = Mutex(DirectReading())
    /// The taken direct segment's bytes; touched only while `reading` is locked.
    nonisolated(unsafe) private var takenBytes = UnsafeRawBufferPointer(start: nil, count: 0)

    /// Where the sequential direct reading stands; any read out of order, or a segment the reader could not read,
    /// ends it and the rest is read buffered.
    private struct DirectReading {
        var segment = -1
        /// Whether `segment` is taken (its bytes in `takenBytes`), to release before the next is taken.
        var taken = false
        var position = 0
        var nextOffset = 0
        var ended = false
    }

    /// Payload bytes per direct segment.
    static let directSegment = 1 << 20

    /// A source that sends `header`, then `payloadCount` bytes of `descriptor` from `payloadOffset`; it owns the
    /// descriptor and closes it when it ends.
    public init(
        header: [UInt8], descriptor: Int32, payloadOffset: Int, payloadCount: Int,
        plaintextDigest: AgePlaintextDigest?
    ) {
        self.header = header
        self.descriptor = descriptor
        self.payloadOffset = payloadOffset
        self.payloadCount = payloadCount
        self.plaintextDigest = plaintextDigest
        direct = nil
    }

    init(
        header: [UInt8], file: RegularFile, payloadOffset: Int, payloadCount: Int,
        plaintextDigest: AgePlaintextDigest?
    ) {
        self.header = header
        self.descriptor = file.descriptor
        self.payloadOffset = file.start + payloadOffset
        self.payloadCount = payloadCount
        self.plaintextDigest = plaintextDigest
        let segment = Self.directSegment
        direct = DirectInput(
            file, segmentCount: (payloadCount + segment - 1) / segment, maximumSegment: segment
        ) { index in
            (payloadOffset + index * segment, min(segment, payloadCount - index * segment))
        }
    }

    deinit {
        reading.withLock { state in
            if let direct { Self.end(&state, direct) }
        }
        close(descriptor)
    }

    /// Ends the direct reading: frees the segment held, if any, and stops the reader.
    private static func end(_ state: inout DirectReading, _ direct: DirectInput) {
        guard !state.ended else { return }
        if state.taken { direct.release(state.segment) }
        direct.cancel()
        state.ended = true
    }

    /// The bytes this source sends: the header and the payload.
    public var size: Int { header.count + payloadCount }

    /// Reads payload bytes from `offset` (within the payload) into `buffer`, up to its size or the payload's end;
    /// returns the count. A payload that shrank since it was opened throws.
    public func readPayload(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int {
        let wanted = min(buffer.count, payloadCount - offset)
        guard wanted > 0 else { return 0 }
        if let direct, let copied = readDirectly(direct, into: buffer, wanted: wanted, at: offset) { return copied }
        var done = 0
        while done < wanted {
            let result = pread(
                descriptor, buffer.baseAddress! + done, wanted - done, off_t(payloadOffset + offset + done))
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { throw AgeError.io("the input changed while it was read") }
            done += result
        }
        return done
    }

    /// Copies up to `wanted` bytes at payload offset `offset` from the direct segments, or returns `nil` when the
    /// direct reading has ended (or ends here: a read out of order, or a segment the reader could not read), so the
    /// caller reads buffered, which reports any problem as before.
    private func readDirectly(
        _ direct: DirectInput, into buffer: UnsafeMutableRawBufferPointer, wanted: Int, at offset: Int
    ) -> Int? {
        reading.withLock { state -> Int? in
            guard !state.ended else { return nil }
            let segmentCount = (payloadCount + Self.directSegment - 1) / Self.directSegment
            guard offset == state.nextOffset else {
                Self.end(&state, direct)
                return nil
            }
            var done = 0
            while done < wanted {
                if !state.taken || state.position == takenBytes.count {
                    if state.taken { direct.release(state.segment) }
                    state.taken = false
                    state.segment += 1
                    state.position = 0
                    guard state.segment < segmentCount else {
                        state.ended = true
                        break
                    }
                    guard let taken = direct.take(state.segment) else {
                        state.taken = true  // taken, with nothing in it: freed as it ends
                        Self.end(&state, direct)
                        break
                    }
                    takenBytes = taken
                    state.taken = true
                }
                let bytes = takenBytes
                let count = min(wanted - done, bytes.count - state.position)
                UnsafeMutableRawBufferPointer(rebasing: buffer[done..<(done + count)])
                    .copyMemory(
                        from: UnsafeRawBufferPointer(rebasing: bytes[state.position..<(state.position + count)]))
                state.position += count
                done += count
            }
            state.nextOffset += done
            return done == 0 ? nil : done
        }
    }
}

extension Age {
    // MARK: Streamed re-wrapping

    /// Opens the binary age file at `url` for a streamed re-wrap for `recipients`: reads its header, unwraps the
    /// file key with `identities`, checks the header's MAC and makes the new header. With `digestingPlaintext`,
    /// the whole payload is also decrypted in memory (in parallel, nothing written) and the plaintext's digest
    /// returned with the source, so the caller can compare it with what it expects before it sends anything:
    /// a payload that does not authenticate throws. With `requiringHeaderSHA256`, the stored header's bytes must
    /// have that SHA-256 (one the caller recorded when it encrypted the file, ``AgeEncryptionDigests``), checked
    /// before any key is unwrapped: the file key wrapped for `recipients` is then the one the caller encrypted with,
    /// whatever the payload holds. Either mismatch throws ``AgeError/headerMismatch``. With `snapshotIn` (and
    /// `digestingPlaintext`), the payload is first copied into a private file in that directory, unlinked as soon as it
    /// is made, and it is that copy which is decrypted and checked and then sent: a stored file rewritten in place after
    /// the check is never what is sent. An armored file is refused.
    public static func openRewrapped(
        at url: URL, using identities: [any AgeIdentity], for recipients: [any AgeRecipient],
        digestingPlaintext: Bool, requiringHeaderSHA256 expectedHeader: [UInt8]? = nil, snapshotIn: URL? = nil
    ) throws -> AgeRewrappedSource {
        try validate(recipients)
        let descriptor = try openDescriptor(url)
        var owned = true
        defer { if owned { close(descriptor) } }
        let (file, headerCount) = try storedHeader(of: descriptor)
        // The header is hashed and parsed from one read (`storedHeader` bounded it at 16 MiB): one rewritten in place
        // after the check is never the one unwrapped.
        var stored = [UInt8](repeating: 0, count: headerCount)
        try stored.withUnsafeMutableBytes { try file.readExactly(into: $0, at: 0) }
        if let expectedHeader, Array(SHA256.hash(data: stored)) != expectedHeader { throw AgeError.headerMismatch }
        let parsed = ByteReader(bytes: stored)
        let header = try AgeHeader.read(from: parsed)
        guard parsed.consumed == headerCount else { throw AgeError.io("the input changed while it was read") }
        let fileKey = try header.unwrapFileKey(using: identities)
        try header.verifyMAC(fileKey: fileKey)
        // What is checked and sent: the stored payload, or a private copy of it.
        let (payload, payloadOffset) =
            digestingPlaintext && snapshotIn != nil
            ? (try snapshot(file, from: headerCount, in: snapshotIn!), 0) : (file, headerCount)
        var sent = false
        defer { if payload.descriptor != file.descriptor, !sent { close(payload.descriptor) } }
        var digest: AgePlaintextDigest?
        if digestingPlaintext {
            var nonce = [UInt8](repeating: 0, count: AgePayload.nonceSize)
            let read = try nonce.withUnsafeMutableBytes { try payload.readFully(into: $0, at: payloadOffset) }
            guard read == AgePayload.nonceSize else { throw AgeError.header("missing payload nonce") }
            let sealedAt = payloadOffset + AgePayload.nonceSize
            digest = try AgePipeline(payload: AgePayload(fileKey: fileKey, nonce: nonce)).open(
                from: payload, at: sealedAt, count: payload.size - sealedAt, to: nil, hashing: true)
        }
        let newHeader = AgeHeader.encode(
            stanzas: try recipients.flatMap { try $0.wrap(fileKey) }, fileKey: fileKey)
        // The source owns the descriptor it reads: the copy (the stored file's is closed on return) or the stored one.
        if payload.descriptor == file.descriptor { owned = false }
        sent = true
        return AgeRewrappedSource(
            header: newHeader, file: payload, payloadOffset: payloadOffset, payloadCount: payload.size - payloadOffset,
            plaintextDigest: digest)
    }

    /// A private copy of `file`'s bytes from `offset` on, in a file made in `directory` (mode 0600) and unlinked at
    /// once, so no one else opens it by name; its descriptor is returned at offset 0.
    private static func snapshot(_ file: RegularFile, from offset: Int, in directory: URL) throws -> RegularFile {
        var template = Array(
            directory.appending(path: "modelvault-snapshot-XXXXXX").path(percentEncoded: false).utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw AgeError.output("cannot make a private copy of the stored file") }
        _ = template.withUnsafeBufferPointer { unlink($0.baseAddress!) }
        var kept = false
        defer { if !kept { close(descriptor) } }
        let count = file.size - offset
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        var done = 0
        while done < count {
            let chunk = UnsafeMutableRawBufferPointer(rebasing: buffer[..<min(buffer.count, count - done)])
            let read = try file.readFully(into: chunk, at: offset + done)
            guard read > 0 else { throw AgeError.io("the input changed while it was read") }
            do {
                try writeFully(descriptor, UnsafeRawBufferPointer(rebasing: chunk[..<read]))
            } catch {
                throw AgeError.output("cannot make a private copy of the stored file")
            }
            done += read
        }
        guard lseek(descriptor, 0, SEEK_SET) == 0,
            let copy = RegularFile(FileHandle(fileDescriptor: descriptor, closeOnDealloc: false)), copy.size == count
        else { throw AgeError.output("cannot make a private copy of the stored file") }
        kept = true
        return copy
    }

    /// The size of the file at `url` re-wrapped for `recipients` (what ``openRewrapped(at:using:for:digestingPlaintext:)``
    /// will send), from its header alone: no key is needed. A header for the same recipient kinds always has the
    /// same size, so the caller can announce the length of a stream before it opens any file.
    public static func rewrappedSize(ofFileAt url: URL, for recipients: [any AgeRecipient]) throws -> Int {
        try validate(recipients)
        let descriptor = try openDescriptor(url)
        defer { close(descriptor) }
        let (file, headerCount) = try storedHeader(of: descriptor)
        let sample = AgeHeader.encode(
            stanzas: try recipients.flatMap { try $0.wrap(SymmetricKey(size: .bits128)) },
            fileKey: SymmetricKey(size: .bits128))
        return sample.count + file.size - headerCount
    }

    private static func openDescriptor(_ url: URL) throws -> Int32 {
        let descriptor = openRegularFile(url.path(percentEncoded: false), followingLinks: false)
        guard descriptor >= 0 else { throw AgeError.io("cannot open the input file") }
        return descriptor
    }

    /// The regular binary age file on `descriptor` and the length of its header (up to its first payload byte).
    private static func storedHeader(of descriptor: Int32) throws -> (RegularFile, Int) {
        guard let file = RegularFile(FileHandle(fileDescriptor: descriptor, closeOnDealloc: false)) else {
            throw AgeError.io("the input is not a regular file")
        }
        let reader = file.reader()
        guard try !AgeArmor.isArmored(reader) else {
            throw AgeError.request("an armored file cannot be re-wrapped as a stream")
        }
        _ = try AgeHeader.read(from: reader)
        return (file, reader.consumed)
    }
}
