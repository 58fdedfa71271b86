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
        // An output that will be fsynced goes around the page cache where it can (see `DirectOutput`).
        let direct = flushBehind ? DirectOutput(output) : nil
        let observer = AgeProgress.observer
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
                        if let direct {
                            try chunk.withUnsafeBytes { try direct.write($0) }
                        } else {
                            try chunk.withUnsafeBytes { try writeFully(output, $0) }
                            run.wrote(chunk.count, to: output, from: base, flushBehind: flushBehind)
                        }
                    }
                    observer?(plain.count)
                } catch {
                    run.record(error, segment: segment)
                }
            }
        }
        do { try direct?.finish() } catch { run.record(error, segment: segments) }
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
        // An output that will be fsynced goes around the page cache where it can (see `DirectOutput`).
        let direct = flushBehind ? output.map { DirectOutput($0) } : nil
        // A file that is not cached (a blob the vault wrote around the cache) is read around it too, ahead.
        let directInput = DirectInput(
            input, segmentCount: segments, maximumSegment: Self.segmentChunks * sealedSize
        ) { segment in
            let first = segment * Self.segmentChunks
            return (
                offset + first * sealedSize, min(count, (first + Self.segmentChunks) * sealedSize) - first * sealedSize
            )
        }
        let observer = AgeProgress.observer
        run.work(segments: segments, bufferSize: Self.segmentChunks * slotSize) { segment, buffer in
            let first = segment * Self.segmentChunks
            let end = min(chunks, first + Self.segmentChunks)
            var opened: [Opened] = []
            var readFailure: (any Error)?
            // Every segment is taken from the read-ahead, even one skipped after a failure, so the reader moves on.
            if !run.failed(before: segment) {
                opened.reserveCapacity(end - first)
                let slots = (first..<end).map { chunk in
                    let length = min(count, (chunk + 1) * sealedSize) - chunk * sealedSize
                    let start = (chunk - first) * slotSize
                    return UnsafeMutableRawBufferPointer(rebasing: buffer[start..<(start + nonceSize + length)])
                }
                // The segment's sealed chunks lie back to back in the file: one read fills every slot behind its
                // nonce room. Only a short read (the file changed) goes chunk by chunk, to fail where it must.
                let targets = slots.map { UnsafeMutableRawBufferPointer(rebasing: $0[nonceSize...]) }
                let segmentOffset = offset + first * sealedSize
                let readDirect =
                    directInput?.withSegment(segment) { bytes -> Bool in
                        guard let bytes, bytes.count == targets.reduce(0, { $0 + $1.count }) else { return false }
                        var position = 0
                        for target in targets {
                            target.copyMemory(
                                from: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + target.count)]))
                            position += target.count
                        }
                        return true
                    } ?? false
                let readAll = readDirect || input.readVectored(into: targets, at: segmentOffset)
                for (position, slot) in slots.enumerated() {
                    let chunk = first + position
                    if !readAll {
                        do {
                            try input.readExactly(
                                into: UnsafeMutableRawBufferPointer(rebasing: slot[nonceSize...]),
                                at: offset + chunk * sealedSize)
                        } catch {
                            readFailure = error
                            break
                        }
                    }
                    let isLast = chunk == chunks - 1
                    // The expected flag first; a full chunk may also carry the other one, which is then an error
                    // reported after its (authentic) plaintext is released, as the sequential pass does.
                    if let plain = payload.open(slot: slot, index: UInt64(chunk), final: isLast) {
                        opened.append(.chunk(plain, final: isLast))
                    } else if slot.count == slotSize,
                        let plain = payload.open(slot: slot, index: UInt64(chunk), final: !isLast)
                    {
                        opened.append(.chunk(plain, final: !isLast))
                    } else {
                        opened.append(.failed)
                    }
                }
            } else {
                directInput?.withSegment(segment) { _ in }
            }
            // What a sequential pass releases of this segment before it stops, and why it stops (if it does).
            var released: [Data] = []
            var stop: AgeError?
            for (position, result) in opened.enumerated() {
                let chunk = first + position
                let isLast = chunk == chunks - 1
                guard case .chunk(let plain, let final) = result else {
                    stop = .chunkAuthentication(UInt64(chunk))
                    break
                }
                if final && plain.isEmpty && chunk != 0 {
                    stop = .emptyLastChunk
                    break
                }
                released.append(plain)
                if final && !isLast {
                    stop = .trailingData
                    break
                }
                if !final && isLast {
                    stop = .truncated
                    break
                }
            }
            // Hashing and writing are separate turns, so one segment is hashed while the one before is written.
            // A digest is returned only when no segment failed, so hashing past a failure is harmless.
            if hashing {
                run.hashTurn.pass(segment) {
                    guard !run.failed(before: segment) else { return }
                    for plain in released { plain.withUnsafeBytes { run.hash($0) } }
                }
            }
            run.writeTurn.pass(segment) {
                guard !run.failed(before: segment) else { return }
                let releasedCount = released.reduce(0) { $0 + $1.count }
                if let output {
                    do {
                        for plain in released {
                            if let direct {
                                try plain.withUnsafeBytes { try direct.write($0) }
                            } else {
                                try plain.withUnsafeBytes { try writeFully(output, $0) }
                                run.wrote(plain.count, to: output, from: base, flushBehind: flushBehind)
                            }
                        }
                    } catch {
                        return run.record(error, segment: segment)
                    }
                }
                run.released.wrappingAdd(releasedCount, ordering: .relaxed)
                observer?(releasedCount)
                if let stop { return run.record(stop, segment: segment) }
                if let readFailure { run.record(readFailure, segment: segment) }
            }
        }
        // What was released reaches the file even when a later chunk failed, as a sequential pass leaves it.
        do { try direct?.finish() } catch { run.record(error, segment: segments) }
        if let error = run.error { throw error }
        return hashing ? AgePlaintextDigest(sha256: run.sha256, count: run.released.load(ordering: .relaxed)) : nil
    }
}
