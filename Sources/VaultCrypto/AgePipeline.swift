import Crypto
import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The STREAM payload over a regular input file, in one pass and in parallel: each worker reads a segment of
/// chunks by offset, seals or opens them, and writes them in order; an optional SHA-256 of the plaintext is fed
/// in order as the segments go by. Memory is a few segments per worker whatever the file size.
///
/// Reading, cryptography and writing of different segments overlap across workers; only hashing and writing
/// are serialised (each through a `Turnstile`), so every byte is read once and written once.
struct AgePipeline: Sendable {
    /// Chunks per segment: 1 MiB of plaintext, large enough that per-segment costs vanish.
    static let segmentChunks = 16
    /// One worker per core, at least two so I/O of one segment overlaps the cryptography of another.
    static var workerCount: Int { max(2, ProcessInfo.processInfo.activeProcessorCount) }

    /// How much written output accumulates before its writeback is started, with `flushBehind`.
    static let flushBehindBytes = 8 << 20

    let payload: AgePayload
    /// Start writeback as the output is written: for outputs that will be fsynced (atomic files), so the disk
    /// writes while the cores seal, instead of all at the final fsync.
    var flushBehind = false

    /// Shared state of one run.
    private final class Run: Sendable {
        let nextSegment = Atomic<Int>(0)
        let released = Atomic<Int>(0)
        /// Output bytes written and handed to writeback so far; touched only inside the write turn.
        private let progress = Mutex<(written: Int, flushed: Int)>((0, 0))
        let hashTurn = Turnstile()
        let writeTurn = Turnstile()
        private let hasher = Mutex(SHA256())
        /// The earliest failing segment and its error: the error a sequential pass would meet first.
        private let failure = Mutex<(segment: Int, error: AgeError)?>(nil)

        func record(_ error: any Error, segment: Int) {
            let error = error as? AgeError ?? .io("cannot process the payload")
            failure.withLock { current in
                if current == nil || segment < current!.segment { current = (segment, error) }
            }
        }

        func failed(before segment: Int) -> Bool { failure.withLock { ($0?.segment ?? .max) < segment } }

        var error: AgeError? { failure.withLock { $0?.error } }

        func hash(_ bytes: UnsafeRawBufferPointer) { hasher.withLock { $0.update(bufferPointer: bytes) } }

        var sha256: [UInt8] { hasher.withLock { Array($0.finalize()) } }

        /// Records `count` bytes written to `output` (from `base`) and, with `flushBehind`, starts writeback of
        /// what has accumulated, so the disk works while later segments are sealed and the final fsync is short.
        /// On Linux, POSIX_FADV_DONTNEED starts asynchronous writeback of dirty pages (and drops clean ones).
        func wrote(_ count: Int, to output: Int32, from base: Int, flushBehind: Bool) {
            progress.withLock { progress in
                progress.written += count
                guard flushBehind, progress.written - progress.flushed >= AgePipeline.flushBehindBytes else { return }
                _ = posix_fadvise(
                    output, off_t(base + progress.flushed), off_t(progress.written - progress.flushed),
                    Int32(POSIX_FADV_DONTNEED))
                progress.flushed = progress.written
            }
        }

        /// Runs `body` on every core until the segments run out. Each worker owns a buffer of `bufferSize`.
        func work(segments: Int, bufferSize: Int, _ body: @Sendable (Int, UnsafeMutableRawBufferPointer) -> Void) {
            DispatchQueue.concurrentPerform(iterations: min(AgePipeline.workerCount, segments)) { _ in
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 4096)
                defer { buffer.deallocate() }
                while true {
                    let segment = nextSegment.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard segment < segments else { return }
                    body(segment, buffer)
                }
            }
        }
    }

    /// Seals the `input` file's `count` bytes, writing the sealed chunks to `output` in order.
    ///
    /// - Returns: the plaintext's digest when `hashing`.
    func seal(from input: RegularFile, count: Int, to output: Int32, hashing: Bool) throws -> AgePlaintextDigest? {
        let chunkSize = AgePayload.chunkSize
        let chunks = max(1, (count + chunkSize - 1) / chunkSize)
        let segments = (chunks + Self.segmentChunks - 1) / Self.segmentChunks
        let run = Run()
        let payload = self.payload
        let flushBehind = self.flushBehind
        let base = Int(lseek(output, 0, SEEK_CUR))
        run.work(segments: segments, bufferSize: Self.segmentChunks * chunkSize) { segment, buffer in
            let first = segment * Self.segmentChunks
            let end = min(chunks, first + Self.segmentChunks)
            let offset = first * chunkSize
            let plain = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<(min(count, end * chunkSize) - offset)])
            var readable = !run.failed(before: segment)
            if readable {
                do { try input.readExactly(into: plain, at: offset) } catch {
                    run.record(error, segment: segment)
                    readable = false
                }
            }
            if hashing { run.hashTurn.pass(segment) { if readable { run.hash(UnsafeRawBufferPointer(plain)) } } }
            var sealed: [Data] = []
            if readable {
                sealed.reserveCapacity(end - first)
                for chunk in first..<end {
                    let lower = (chunk - first) * chunkSize
                    let upper = min(plain.count, lower + chunkSize)
                    sealed.append(
                        payload.seal(
                            UnsafeRawBufferPointer(rebasing: plain[lower..<upper]), index: UInt64(chunk),
                            final: chunk == chunks - 1))
                }
            }
            run.writeTurn.pass(segment) {
                guard readable, !run.failed(before: segment) else { return }
                do {
                    for chunk in sealed {
                        try chunk.withUnsafeBytes { try writeFully(output, $0) }
                        run.wrote(chunk.count, to: output, from: base, flushBehind: flushBehind)
                    }
                } catch {
                    run.record(error, segment: segment)
                }
            }
        }
        if let error = run.error { throw error }
        if try input.hasGrown() { throw AgeError.io("the input changed while it was read") }
        return hashing ? AgePlaintextDigest(sha256: run.sha256, count: count) : nil
    }

    private enum Opened {
        case chunk(Data, final: Bool)
        case failed
    }

    /// Opens the `count` sealed bytes at `offset` of `input`, releasing to `output` (if any) only authenticated
    /// chunks, in order, exactly as far as a sequential pass would before it fails.
    ///
    /// - Returns: the plaintext's digest when `hashing`.
    func open(
        from input: RegularFile, at offset: Int, count: Int, to output: Int32?, hashing: Bool
    ) throws -> AgePlaintextDigest? {
        guard count > 0 else { throw AgeError.truncated }
        let sealedSize = AgePayload.sealedChunkSize
        let nonceSize = AgePayload.chunkNonceSize
        // Each chunk is read behind room for its nonce, so the combined sealed box is one contiguous slot.
        let slotSize = nonceSize + sealedSize
        let chunks = (count + sealedSize - 1) / sealedSize
        let segments = (chunks + Self.segmentChunks - 1) / Self.segmentChunks
        let run = Run()
        let payload = self.payload
        let flushBehind = self.flushBehind
        let base = output.map { Int(lseek($0, 0, SEEK_CUR)) } ?? 0
        run.work(segments: segments, bufferSize: Self.segmentChunks * slotSize) { segment, buffer in
            let first = segment * Self.segmentChunks
            let end = min(chunks, first + Self.segmentChunks)
            var opened: [Opened] = []
            var readFailure: (any Error)?
            if !run.failed(before: segment) {
                opened.reserveCapacity(end - first)
                for chunk in first..<end {
                    let lower = chunk * sealedSize
                    let length = min(count, lower + sealedSize) - lower
                    let start = (chunk - first) * slotSize
                    let slot = UnsafeMutableRawBufferPointer(rebasing: buffer[start..<(start + nonceSize + length)])
                    do {
                        try input.readExactly(
                            into: UnsafeMutableRawBufferPointer(rebasing: slot[nonceSize...]), at: offset + lower)
                    } catch {
                        readFailure = error
                        break
                    }
                    let isLast = chunk == chunks - 1
                    // The expected flag first; a full chunk may also carry the other one, which is then an error
                    // reported after its (authentic) plaintext is released, as the sequential pass does.
                    if let plain = payload.open(slot: slot, index: UInt64(chunk), final: isLast) {
                        opened.append(.chunk(plain, final: isLast))
                    } else if length == sealedSize,
                        let plain = payload.open(slot: slot, index: UInt64(chunk), final: !isLast)
                    {
                        opened.append(.chunk(plain, final: !isLast))
                    } else {
                        opened.append(.failed)
                    }
                }
            }
            run.writeTurn.pass(segment) {
                guard !run.failed(before: segment) else { return }
                for (position, result) in opened.enumerated() {
                    let chunk = first + position
                    let isLast = chunk == chunks - 1
                    guard case .chunk(let plain, let final) = result else {
                        return run.record(AgeError.chunkAuthentication(UInt64(chunk)), segment: segment)
                    }
                    if final && plain.isEmpty && chunk != 0 {
                        return run.record(AgeError.emptyLastChunk, segment: segment)
                    }
                    plain.withUnsafeBytes { if hashing { run.hash($0) } }
                    if let output {
                        do { try plain.withUnsafeBytes { try writeFully(output, $0) } } catch {
                            return run.record(error, segment: segment)
                        }
                        run.wrote(plain.count, to: output, from: base, flushBehind: flushBehind)
                    }
                    run.released.wrappingAdd(plain.count, ordering: .relaxed)
                    if final && !isLast { return run.record(AgeError.trailingData, segment: segment) }
                    if !final && isLast { return run.record(AgeError.truncated, segment: segment) }
                }
                if let readFailure { run.record(readFailure, segment: segment) }
            }
        }
        if let error = run.error { throw error }
        return hashing ? AgePlaintextDigest(sha256: run.sha256, count: run.released.load(ordering: .relaxed)) : nil
    }
}
