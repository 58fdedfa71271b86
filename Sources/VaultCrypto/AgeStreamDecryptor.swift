import Crypto
public import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Decrypts one binary age file handed over in pieces as they arrive (a network stream), writing the plaintext to a
/// file and hashing it on the way, in bounded memory: the header (at most 16 MiB, ModelVault's limit) and about one
/// batch of sealed chunks are held, whatever the file's size.
///
/// Only chunks that authenticated reach the output, in order, and a chunk is released only once the bytes after
/// it show whether it is the last one, so a stream cut off at a chunk boundary is refused by ``finish()``
/// (`truncated`) rather than taken for a whole file. The output is written where the descriptor stands, around
/// the page cache where the file system allows it (as the local pull writes); the caller flushes it and decides
/// what to do with it once ``finish()`` returned the plaintext's digest. One caller at a time: the state is behind
/// a lock only so the decryptor can move between threads.
public final class AgeStreamDecryptor: Sendable {
    private enum Phase {
        case header
        case nonce(SymmetricKey)
        case payload(AgePayload)
        case finished
    }

    private struct State {
        var phase = Phase.header
        /// The header bytes gathered so far, and where a `---` line may still begin in them.
        var header: [UInt8] = []
        var headerScan = 0
        var nonce: [UInt8] = []
        /// Sealed bytes received and not yet opened: `pending[start...]`.
        var pending: [UInt8] = []
        var start = 0
        var index: UInt64 = 0
        var hasher = SHA256()
        var count = 0
    }

    private let identities: [any AgeIdentity]
    private let output: DirectOutput
    private let state = Mutex(State())
    /// Chunks opened together (in parallel) once that many, and one byte more, have arrived.
    private static let batchChunks = 16

    /// A decryptor that unwraps the file key with `identities` and writes the plaintext to `output` (an open file
    /// descriptor the caller owns) from its current offset.
    public init(identities: [any AgeIdentity], output: Int32) {
        self.identities = identities
        self.output = DirectOutput(output)
    }

    /// Takes the next bytes of the age file; decrypts and writes every chunk that is known not to be the last.
    /// Throws on a header that does not parse or open with the identities, and on a chunk that does not
    /// authenticate.
    public func consume(_ bytes: UnsafeRawBufferPointer) throws {
        try state.withLock { state in try feed(&state, bytes[...]) }
    }

    private func feed(_ state: inout State, _ input: Slice<UnsafeRawBufferPointer>) throws {
        var bytes = input
        while !bytes.isEmpty {
            switch state.phase {
            case .header:
                let rest = try readHeader(&state, bytes)
                bytes = bytes[bytes.endIndex...]
                if !rest.isEmpty { try rest.withUnsafeBytes { try feed(&state, $0[...]) } }
            case .nonce(let fileKey):
                let taken = bytes.prefix(AgePayload.nonceSize - state.nonce.count)
                state.nonce.append(contentsOf: taken)
                bytes = bytes.dropFirst(taken.count)
                if state.nonce.count == AgePayload.nonceSize {
                    state.phase = .payload(AgePayload(fileKey: fileKey, nonce: state.nonce))
                }
            case .payload(let payload):
                state.pending.append(contentsOf: bytes)
                bytes = bytes[bytes.endIndex...]
                try openAvailable(&state, payload, last: false)
            case .finished:
                throw AgeError.trailingData
            }
        }
    }

    /// Ends the file: opens the last chunk, which must carry the final flag, and returns the plaintext's digest.
    /// The output holds the whole plaintext, written, not yet flushed to disk.
    public func finish() throws -> AgePlaintextDigest {
        try state.withLock { state in
            switch state.phase {
            case .header: throw AgeError.header("unexpected end of header")
            case .nonce: throw AgeError.header("missing payload nonce")
            case .finished: throw AgeError.request("the decryption is already finished")
            case .payload(let payload):
                state.phase = .finished
                try openAvailable(&state, payload, last: true)
                try output.finish()
                return AgePlaintextDigest(sha256: Array(state.hasher.finalize()), count: state.count)
            }
        }
    }

    /// Gathers the header; once its MAC line is complete, parses it, unwraps the file key and checks the MAC.
    /// Returns the bytes after the header.
    private func readHeader(_ state: inout State, _ bytes: Slice<UnsafeRawBufferPointer>) throws -> [UInt8] {
        state.header.append(contentsOf: bytes)
        let prefix = min(state.header.count, AgeHeader.versionLine.count)
        guard state.header[..<prefix].elementsEqual(AgeHeader.versionLine[..<prefix]) else {
            throw AgeError.header("not a binary age file")
        }
        guard let end = Self.headerEnd(state.header, scan: &state.headerScan) else {
            guard state.header.count <= AgeHeader.maxHeaderBytes else {
                throw AgeError.header("larger than 16 MiB (ModelVault's limit)")
            }
            return []
        }
        let rest = Array(state.header[end...])
        let reader = ByteReader(bytes: Array(state.header[..<end]))
        state.header = []
        let header = try AgeHeader.read(from: reader)
        guard reader.consumed == end else { throw AgeError.header("malformed MAC line") }
        let fileKey = try header.unwrapFileKey(using: identities)
        try header.verifyMAC(fileKey: fileKey)
        state.phase = .nonce(fileKey)
        return rest
    }

    /// Where the header ends (just after the LF of its `---` MAC line) in `bytes`; `scan` is where a `---` line
    /// may still begin, moved on as far as the bytes rule one out.
    static func headerEnd(_ bytes: [UInt8], scan: inout Int) -> Int? {
        let newline = UInt8(ascii: "\n")
        let dash = UInt8(ascii: "-")
        var index = max(1, scan)
        while index + 2 < bytes.count {
            if bytes[index - 1] == newline, bytes[index] == dash, bytes[index + 1] == dash, bytes[index + 2] == dash {
                scan = index
                guard let lineEnd = bytes[(index + 3)...].firstIndex(of: newline) else { return nil }
                return lineEnd + 1
            }
            index += 1
        }
        scan = index
        return nil
    }

    /// Opens the pending chunks: whole batches of chunks followed by at least one more byte (none of them can be
    /// the last), and with `last`, everything left, its last chunk as the final one.
    private func openAvailable(_ state: inout State, _ payload: AgePayload, last: Bool) throws {
        let sealed = AgePayload.sealedChunkSize
        while true {
            let available = state.pending.count - state.start
            // Whole batches only until the end: pieces arrive a TLS record at a time, and a batch is what spreads
            // the chunks across cores.
            var chunks = (available - 1) / sealed >= Self.batchChunks ? Self.batchChunks : 0
            var finalChunk = false
            if last && chunks < Self.batchChunks {
                // The rest is whole chunks and one final one (possibly empty only as the file's only chunk).
                chunks = (available + sealed - 1) / sealed
                // Nothing left: the chunk before was a full, non-final one (or there was none at all).
                guard chunks > 0 else { throw AgeError.truncated }
                finalChunk = true
            }
            guard chunks > 0 else { break }
            let first = state.index
            let ranges = (0..<chunks).map { position in
                (state.start + position * sealed)..<min(state.start + (position + 1) * sealed, state.pending.count)
            }
            let opened = Self.open(state.pending, ranges, payload, first: first, finalChunk: finalChunk)
            for (position, result) in opened.enumerated() {
                let chunk = first + UInt64(position)
                let isLast = finalChunk && position == chunks - 1
                guard let (plain, final) = result else { throw AgeError.chunkAuthentication(chunk) }
                if final && plain.isEmpty && chunk != 0 { throw AgeError.emptyLastChunk }
                state.hasher.update(data: plain)
                state.count += plain.count
                try plain.withUnsafeBytes { try output.write($0) }
                if final && !isLast { throw AgeError.trailingData }
                if !final && isLast { throw AgeError.truncated }
            }
            state.index += UInt64(chunks)
            state.start = ranges.last!.upperBound
            if state.start >= state.pending.count / 2 {
                state.pending.removeFirst(state.start)
                state.start = 0
            }
            if finalChunk { break }
        }
    }

    /// Opens the sealed chunks at `ranges` of `pending` in parallel: each chunk's plaintext and final flag, or nil
    /// where it does not authenticate. The expected flag is tried first; a full chunk may also carry the other one,
    /// which the caller reports after releasing its (authentic) plaintext, as the sequential pass does.
    private static func open(
        _ pending: [UInt8], _ ranges: [Range<Int>], _ payload: AgePayload, first: UInt64, finalChunk: Bool
    ) -> [(Data, Bool)?] {
        AgePayload.parallelMap(ranges.count) { position -> (Data, Bool)? in
            let isLast = finalChunk && position == ranges.count - 1
            let slice = pending[ranges[position]]
            let index = first + UInt64(position)
            if let plain = payload.open(slice, index: index, final: isLast) { return (plain, isLast) }
            if slice.count == AgePayload.sealedChunkSize, let plain = payload.open(slice, index: index, final: !isLast)
            {
                return (plain, !isLast)
            }
            return nil
        }
    }
}
