import Crypto
public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Random-access decryption of a binary age file: reads any plaintext byte range by decrypting only the chunks
/// that hold it. The final chunk is authenticated when the reader is opened, so the plaintext size is trusted.
public struct AgeRandomAccessReader: Sendable {
    /// Owns the descriptor; `pread` is safe to call from several threads.
    private final class Descriptor: Sendable {
        let value: Int32
        init(_ value: Int32) { self.value = value }
        deinit { close(value) }

        func read(at offset: Int, count: Int) throws -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: count)
            var done = 0
            while done < count {
                let result = bytes.withUnsafeMutableBytes {
                    pread(value, $0.baseAddress! + done, count - done, off_t(offset + done))
                }
                guard result > 0 else { throw AgeError.io("cannot read the encrypted file") }
                done += result
            }
            return bytes
        }
    }

    private let file: Descriptor
    private let payload: AgePayload
    private let payloadStart: Int
    private let payloadSize: Int
    private let chunkCount: Int

    /// The size of the whole plaintext.
    public let plaintextCount: Int

    /// Opens `url`, unwraps its file key with `identities`, checks the header MAC and the final chunk.
    public init(url: URL, using identities: [any AgeIdentity]) throws {
        let descriptor = open(url.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw AgeError.io("cannot open the encrypted file") }
        let file = Descriptor(descriptor)
        self.file = file
        let fileSize = Int(lseek(descriptor, 0, SEEK_END))
        var offset = 0
        let reader = ByteReader { count in
            let taken = min(count, max(0, fileSize - offset))
            defer { offset += taken }
            return taken == 0 ? [] : try file.read(at: offset, count: taken)
        }
        guard try !AgeArmor.isArmored(reader) else {
            throw AgeError.request("random access needs a binary (non-armored) age file")
        }
        let header = try AgeHeader.read(from: reader)
        let fileKey = try header.unwrapFileKey(using: identities)
        try header.verifyMAC(fileKey: fileKey)
        let headerSize = header.macInput.count + 1 + 43 + 1
        let nonce = try file.read(at: headerSize, count: min(AgePayload.nonceSize, max(0, fileSize - headerSize)))
        guard nonce.count == AgePayload.nonceSize else { throw AgeError.header("missing payload nonce") }
        payload = AgePayload(fileKey: fileKey, nonce: nonce)
        payloadStart = headerSize + AgePayload.nonceSize
        payloadSize = fileSize - payloadStart
        guard payloadSize >= AgePayload.tagSize else { throw AgeError.truncated }
        chunkCount = (payloadSize + AgePayload.sealedChunkSize - 1) / AgePayload.sealedChunkSize
        let lastSealed = payloadSize - (chunkCount - 1) * AgePayload.sealedChunkSize
        guard lastSealed >= AgePayload.tagSize else { throw AgeError.truncated }
        let last = try file.read(at: payloadStart + (chunkCount - 1) * AgePayload.sealedChunkSize, count: lastSealed)
        guard let plain = payload.open(last[...], index: UInt64(chunkCount - 1), final: true) else {
            throw AgeError.chunkAuthentication(UInt64(chunkCount - 1))
        }
        guard !plain.isEmpty || chunkCount == 1 else { throw AgeError.emptyLastChunk }
        plaintextCount = (chunkCount - 1) * AgePayload.chunkSize + plain.count
    }

    /// Decrypts and returns the plaintext bytes in `range` (clamped to the plaintext size is an error).
    public func read(_ range: Range<Int>) throws -> Data {
        guard range.lowerBound >= 0, range.upperBound <= plaintextCount else {
            throw AgeError.request("range is outside the plaintext")
        }
        guard !range.isEmpty else { return Data() }
        let firstChunk = range.lowerBound / AgePayload.chunkSize
        let lastChunk = (range.upperBound - 1) / AgePayload.chunkSize
        let start = payloadStart + firstChunk * AgePayload.sealedChunkSize
        let end = min(payloadStart + payloadSize, payloadStart + (lastChunk + 1) * AgePayload.sealedChunkSize)
        let sealed = try file.read(at: start, count: end - start)
        let payload = self.payload
        let finalIndex = chunkCount - 1
        let opened = AgePayload.parallelMap(lastChunk - firstChunk + 1) { position -> Data? in
            let lower = position * AgePayload.sealedChunkSize
            let upper = min(sealed.count, lower + AgePayload.sealedChunkSize)
            let index = firstChunk + position
            return payload.open(sealed[lower..<upper], index: UInt64(index), final: index == finalIndex)
        }
        var plain: [UInt8] = []
        for (position, chunk) in opened.enumerated() {
            guard let chunk else { throw AgeError.chunkAuthentication(UInt64(firstChunk + position)) }
            plain += chunk
        }
        let skip = range.lowerBound - firstChunk * AgePayload.chunkSize
        return Data(plain[skip..<(skip + range.count)])
    }
}
