import Crypto
import Dispatch
import Foundation

/// The STREAM payload: 64 KiB ChaCha20-Poly1305 chunks, sealed and opened in parallel batches so memory stays
/// bounded (about two batches) whatever the file size.
struct AgePayload: Sendable {
    static let chunkSize = 64 * 1024
    static let tagSize = 16
    static let sealedChunkSize = chunkSize + tagSize
    static let nonceSize = 16
    /// The ChaCha20-Poly1305 nonce of one chunk: 11-byte big-endian counter and the final flag.
    static let chunkNonceSize = 12
    /// Chunks per parallel batch: enough work for every core, small enough to keep memory low.
    static let batchChunks = max(8, min(64, ProcessInfo.processInfo.activeProcessorCount * 4))

    let key: SymmetricKey

    init(fileKey: SymmetricKey, nonce: some DataProtocol) {
        key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: fileKey, salt: Array(nonce), info: Array("payload".utf8), outputByteCount: 32)
    }

    static func nonce(_ index: UInt64, final: Bool) -> ChaChaPoly.Nonce {
        var bytes = [UInt8](repeating: 0, count: 12)
        for byte in 0..<8 { bytes[10 - byte] = UInt8(truncatingIfNeeded: index >> UInt64(8 * byte)) }
        bytes[11] = final ? 1 : 0
        return try! ChaChaPoly.Nonce(data: bytes)
    }

    func seal(_ plaintext: some DataProtocol, index: UInt64, final: Bool) -> Data {
        // Sealing with a valid key and nonce cannot fail. `combined` is nonce, ciphertext, tag: slice off the
        // nonce without copying.
        let box = try! ChaChaPoly.seal(plaintext, using: key, nonce: Self.nonce(index, final: final))
        return box.combined.dropFirst(12)
    }

    func open(_ sealed: ArraySlice<UInt8>, index: UInt64, final: Bool) -> Data? {
        guard sealed.count >= Self.tagSize,
            let box = try? ChaChaPoly.SealedBox(
                nonce: Self.nonce(index, final: final), ciphertext: sealed.dropLast(Self.tagSize),
                tag: sealed.suffix(Self.tagSize)),
            let plain = try? ChaChaPoly.open(box, using: key)
        else { return nil }
        return plain
    }

    /// Opens a sealed chunk held in `slot` behind `chunkNonceSize` bytes of room, where its nonce is written so
    /// the sealed box is read in place.
    func open(slot: UnsafeMutableRawBufferPointer, index: UInt64, final: Bool) -> Data? {
        guard slot.count >= Self.chunkNonceSize + Self.tagSize else { return nil }
        for byte in 0..<3 { slot[byte] = 0 }
        for byte in 0..<8 { slot[10 - byte] = UInt8(truncatingIfNeeded: index >> UInt64(8 * byte)) }
        slot[11] = final ? 1 : 0
        guard let box = try? ChaChaPoly.SealedBox(combined: UnsafeRawBufferPointer(slot)),
            let plain = try? ChaChaPoly.open(box, using: key)
        else { return nil }
        return plain
    }

    /// Runs `body` for 0..<count across cores, collecting results in order.
    static func parallelMap<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
        if count <= 1 { return (0..<count).map(body) }
        var results = [T?](repeating: nil, count: count)
        results.withUnsafeMutableBufferPointer { buffer in
            // Each iteration writes only its own slot, and concurrentPerform returns after all of them: no race.
            nonisolated(unsafe) let base = buffer.baseAddress!
            DispatchQueue.concurrentPerform(iterations: count) { index in
                (base + index).pointee = body(index)
            }
        }
        return results.map { $0! }
    }

    /// Encrypts everything `reader` yields, writing sealed chunks to `write`.
    func encrypt(from reader: ByteReader, to write: (Data) throws -> Void) throws {
        var index: UInt64 = 0
        let batchBytes = Self.batchChunks * Self.chunkSize
        while true {
            let batch = try reader.read(upTo: batchBytes)
            let atEnd = try reader.isAtEnd()
            let split: [Range<Int>] = stride(from: 0, to: batch.count, by: Self.chunkSize).map {
                $0..<min($0 + Self.chunkSize, batch.count)
            }
            // Only an empty plaintext gives an empty batch here: it is one empty final chunk.
            let ranges = split.isEmpty ? [0..<0] : split
            let first = index
            let sealed = Self.parallelMap(ranges.count) { position in
                seal(
                    batch[ranges[position]], index: first + UInt64(position),
                    final: atEnd && position == ranges.count - 1)
            }
            for chunk in sealed { try write(chunk) }
            index += UInt64(ranges.count)
            if atEnd { return }
        }
    }

    private enum Opened: Sendable {
        case chunk(Data, final: Bool)
        case failed
    }

    /// Decrypts the sealed chunks `reader` yields, releasing to `write` only chunks that authenticated, in order.
    func decrypt(from reader: ByteReader, to write: (Data) throws -> Void) throws {
        var index: UInt64 = 0
        let batchBytes = Self.batchChunks * Self.sealedChunkSize
        while true {
            let batch = try reader.read(upTo: batchBytes)
            let atEnd = try reader.isAtEnd()
            if batch.isEmpty { throw AgeError.truncated }
            let ranges: [Range<Int>] = stride(from: 0, to: batch.count, by: Self.sealedChunkSize).map {
                $0..<min($0 + Self.sealedChunkSize, batch.count)
            }
            let first = index
            let opened = Self.parallelMap(ranges.count) { position -> Opened in
                let sealed = batch[ranges[position]]
                let chunkIndex = first + UInt64(position)
                let isLast = atEnd && position == ranges.count - 1
                // The expected flag first; a full chunk may also carry the other one, which is then an error
                // reported after its (authentic) plaintext is released, as the reference implementation does.
                if let plain = open(sealed, index: chunkIndex, final: isLast) { return .chunk(plain, final: isLast) }
                if sealed.count == Self.sealedChunkSize,
                    let plain = open(sealed, index: chunkIndex, final: !isLast)
                {
                    return .chunk(plain, final: !isLast)
                }
                return .failed
            }
            var failure: AgeError?
            for (position, result) in opened.enumerated() {
                let chunkIndex = first + UInt64(position)
                let isLast = atEnd && position == ranges.count - 1
                guard case .chunk(let plain, let final) = result else {
                    failure = .chunkAuthentication(chunkIndex)
                    break
                }
                if final && plain.isEmpty && chunkIndex != 0 {
                    failure = .emptyLastChunk
                    break
                }
                try write(plain)
                if final && !isLast {
                    failure = .trailingData
                    break
                }
                if !final && isLast {
                    failure = .truncated
                    break
                }
            }
            if let failure { throw failure }
            index += UInt64(ranges.count)
            if atEnd { return }
        }
    }
}
