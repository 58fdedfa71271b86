import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The ordered output of a parallel pipeline into a file that will be fsynced (an atomic file), written around the
/// page cache (`O_DIRECT`) in aligned blocks where the file system allows it.
///
/// Why: a buffered write copies every byte into newly allocated page-cache pages that the fsync then writes out. On
/// this project's VMs that cost 0.4–3 s of system time per GiB, varying from run to run (a C loop writing 1 GiB
/// and fsyncing: 1.4–2.9 s buffered, 0.06 s direct; larger buffered writes were worse), several times the disk's
/// own time. A direct write hands the pipeline's reused, aligned buffer to the disk instead. The unaligned head
/// (up to the file's first aligned offset) and the tail go through the page cache as before, and on a file system
/// without direct I/O every write does. A full block goes to the disk on a background queue while the pipeline
/// fills the next, so the disk's time overlaps the cryptography instead of adding to it. Callers write only inside
/// the pipeline's write turn, one at a time.
final class DirectOutput: Sendable {
    /// Direct I/O needs the buffer, the file offset and the length aligned; 4096 suits every common device.
    static let alignment = 4096
    /// Bytes gathered before a block is handed to the disk: one pipeline segment of plaintext.
    static let blockSize = 1 << 20
    /// Blocks being written while the next one fills.
    static let blocksInFlight = 2

    /// The buffer being filled; touched only by the pipeline's write turn, which admits one caller at a time and
    /// orders each turn's memory effects before the next (`Turnstile`).
    private struct Filling {
        var current = 0
        /// Bytes gathered in the current buffer.
        var filled = 0
        /// The file offset of the current buffer's first byte.
        var offset: Int
    }

    /// The descriptor's I/O mode; touched only on `queue`.
    private struct Mode {
        var direct = false
        /// Cleared when the file system refuses direct I/O: buffered writes from then on.
        var directPossible = true
    }

    private let descriptor: Int32
    /// Allocated once, freed in `deinit`; each is filled by the write turn, then read by
    /// `queue`, never both at once (the semaphore hands them over).
    nonisolated(unsafe) private let buffers: [UnsafeMutableRawBufferPointer]
    private let queue = DispatchQueue(label: "modelvault.age.direct-output")
    /// Buffers free to fill next (all but the one filling, at first).
    private let free = DispatchSemaphore(value: DirectOutput.blocksInFlight)
    private let failure = Mutex<AgeError?>(nil)
    nonisolated(unsafe) private var filling: Filling
    nonisolated(unsafe) private var mode = Mode()

    /// Writes at `descriptor`'s current offset onwards; ``finish()`` leaves the offset at the end of what was written.
    init(_ descriptor: Int32) {
        self.descriptor = descriptor
        buffers = (0...Self.blocksInFlight).map { _ in
            .allocate(byteCount: Self.blockSize + Self.alignment, alignment: Self.alignment)
        }
        filling = Filling(offset: Int(lseek(descriptor, 0, SEEK_CUR)))
    }

    // Every queued write holds a reference, so this runs only once the queue has finished with the buffers.
    deinit {
        for buffer in buffers { buffer.deallocate() }
    }

    /// Appends `bytes`, handing whole blocks to the disk as they fill; throws once an earlier block failed.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if let error = failure.withLock({ $0 }) { throw error }
        var remaining = bytes[...]
        while !remaining.isEmpty {
            let buffer = buffers[filling.current]
            let taken = min(remaining.count, buffer.count - filling.filled)
            UnsafeMutableRawBufferPointer(rebasing: buffer[filling.filled..<(filling.filled + taken)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: remaining.prefix(taken)))
            filling.filled += taken
            remaining = remaining.dropFirst(taken)
            if filling.filled >= Self.blockSize { submit(final: false) }
        }
    }

    /// Writes what is gathered, waits for every block, switches the descriptor back to buffered I/O and moves its
    /// offset to the end.
    func finish() throws {
        submit(final: true)
        queue.sync {
            if mode.direct { setDirect(false) }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        guard lseek(descriptor, off_t(filling.offset), SEEK_SET) >= 0 else {
            throw AgeError.output("cannot write the output")
        }
    }

    /// Hands the current buffer to the queue: the part before the file's first aligned offset and (when `final`)
    /// the last partial block buffered, whole alignment units direct. The unaligned rest (under one unit) moves to
    /// the next buffer's start, so direct writes always start at an aligned address and offset.
    private func submit(final: Bool) {
        let index = filling.current
        let buffer = buffers[index]
        let offset = filling.offset
        let filled = filling.filled
        let misalignment = offset % Self.alignment
        // Only a file's first block can start unaligned (after a header written earlier): its head goes alone,
        // and the rest moves to the next buffer's aligned start before any of it is written direct.
        let head = misalignment == 0 ? 0 : min(filled, Self.alignment - misalignment)
        let aligned = head > 0 ? 0 : filled / Self.alignment * Self.alignment
        let tail = final && head == 0 ? filled - aligned : 0
        let rest = filled - head - aligned - tail
        free.wait()
        let next = (filling.current + 1) % buffers.count
        if rest > 0 {
            buffers[next].baseAddress!.copyMemory(from: buffer.baseAddress! + head + aligned, byteCount: rest)
        }
        filling = Filling(current: next, filled: rest, offset: offset + head + aligned + tail)
        defer { if head > 0 && (final || rest >= Self.blockSize) { submit(final: final) } }
        queue.async {
            defer { self.free.signal() }
            let buffer = self.buffers[index]
            guard self.failure.withLock({ $0 == nil }) else { return }
            do {
                if head > 0 { try self.writeBuffered(buffer, from: 0, count: head, at: offset) }
                if aligned > 0 { try self.writeDirect(buffer, from: head, count: aligned, at: offset + head) }
                if tail > 0 {
                    try self.writeBuffered(buffer, from: head + aligned, count: tail, at: offset + head + aligned)
                }
            } catch {
                self.failure.withLock { $0 = $0 ?? (error as? AgeError ?? .output("cannot write the output")) }
            }
        }
    }

    private func writeBuffered(
        _ buffer: UnsafeMutableRawBufferPointer, from start: Int, count: Int, at offset: Int
    ) throws {
        if mode.direct { setDirect(false) }
        try writeAll(buffer, from: start, count: count, at: offset)
    }

    private func writeDirect(
        _ buffer: UnsafeMutableRawBufferPointer, from start: Int, count: Int, at offset: Int
    ) throws {
        if !mode.direct && mode.directPossible { setDirect(true) }
        if mode.direct {
            if pwrite(descriptor, buffer.baseAddress! + start, count, off_t(offset)) == count { return }
            // EINVAL: the file system takes no direct I/O after all. Anything else (a short write at a full
            // disk, EIO): retry buffered, which reports the error as usual.
            mode.directPossible = false
            setDirect(false)
        }
        try writeAll(buffer, from: start, count: count, at: offset)
    }

    /// Buffered `pwrite` of the range, retrying short writes and EINTR.
    private func writeAll(_ buffer: UnsafeMutableRawBufferPointer, from start: Int, count: Int, at offset: Int) throws {
        var done = 0
        while done < count {
            let result = pwrite(descriptor, buffer.baseAddress! + start + done, count - done, off_t(offset + done))
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { throw AgeError.output("cannot write the output") }
            done += result
        }
    }

    /// Linux's `O_DIRECT` (the Glibc module does not export it): its value differs by architecture.
    #if os(Linux) && (arch(x86_64) || arch(i386))
    static let directFlag: Int32? = 0o40000
    #elseif os(Linux) && arch(arm64)
    static let directFlag: Int32? = 0o200000
    #else
    static let directFlag: Int32? = nil
    #endif

    private func setDirect(_ on: Bool) {
        guard let direct = Self.directFlag else { return mode.directPossible = false }
        let flags = fcntl(descriptor, F_GETFL)
        let changed = flags >= 0 && fcntl(descriptor, F_SETFL, on ? flags | direct : flags & ~direct) == 0
        if changed { mode.direct = on } else { mode.directPossible = false }
    }
}
