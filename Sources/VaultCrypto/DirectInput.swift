import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads of a regular file that go around the page cache (`O_DIRECT`), for a file whose pages are not cached.
///
/// Why: the vault writes its blobs around the page cache (see `DirectOutput`), so a pull, verify or re-wrap soon
/// after a push finds none of them cached. A buffered read then fills newly allocated page-cache pages, which on
/// this project's VMs cost 1.3–1.4 s of system time per GiB (`cat` of eight freshly pushed 128 MiB blobs: 1.63 s,
/// 1.38 s of it system time; again, cached: 0.09 s), while a direct read of the same blobs took 0.56 s of disk time
/// and almost no CPU. A file that is mostly cached is read buffered as before, so nothing pays the disk twice.
///
/// One reader on a background queue reads the segments in order, a few ahead of the workers (a direct read blocks
/// its thread for the disk's time, which would otherwise idle a core). A direct read needs the buffer, the offset
/// and the length aligned: the reader reads the aligned range around each segment into a scratch buffer and hands
/// the workers the part asked for. Anything unusual (a short read at a file that shrank, an error, a file system
/// without direct I/O) gives `nil`, and the worker reads that segment buffered, which reports the problem exactly
/// as before.
final class DirectInput: Sendable {
    /// Direct I/O alignment; 4096 suits every common device.
    static let alignment = 4096
    /// Smaller files are read buffered: the scratch copies would cost more than they save.
    static let minimumSize = 8 << 20

    /// Segments read ahead of the workers; each has its own scratch buffer.
    static let readAhead = 4

    private let descriptor: Int32
    private let start: Int
    /// Where each segment lies (content offset, byte count).
    private let segments: @Sendable (Int) -> (offset: Int, count: Int)
    private let segmentCount: Int
    private let queue = DispatchQueue(label: "modelvault.age.direct-input")
    /// Allocated once, freed in `deinit`. Buffer `s % readAhead` holds segment `s`: the reader fills it between
    /// `free` and `ready`, the worker for `s` reads it between `ready` and `free`, never both at once.
    nonisolated(unsafe) private let buffers: [UnsafeMutableRawBufferPointer]
    /// What the reader found for each buffer's current segment (`nil`: read it buffered).
    nonisolated(unsafe) private var found: [UnsafeRawBufferPointer?]
    private let ready: [DispatchSemaphore]
    private let free: [DispatchSemaphore]
    /// Set by ``cancel()``: the reader stops at its next segment.
    private let cancelled = Atomic<Bool>(false)

    /// A second descriptor on `file`'s open file, opened `O_DIRECT`, that reads `segmentCount` segments ahead of
    /// the workers in order, or `nil` when the file is small, mostly cached already, or direct I/O is not
    /// available. Each segment must be taken exactly once, with ``withSegment(_:_:)``.
    init?(
        _ file: RegularFile, segmentCount: Int, maximumSegment: Int,
        segments: @escaping @Sendable (Int) -> (offset: Int, count: Int)
    ) {
        guard let flag = DirectOutput.directFlag, file.size >= Self.minimumSize, !Self.isMostlyCached(file) else {
            return nil
        }
        // /proc/self/fd names the descriptor's own open file (not a path looked up again); the device and inode
        // are compared all the same.
        let reopened = open("/proc/self/fd/\(file.descriptor)", O_RDONLY | O_CLOEXEC | flag)
        guard reopened >= 0 else { return nil }
        var original = stat()
        var again = stat()
        guard fstat(file.descriptor, &original) == 0, fstat(reopened, &again) == 0,
            original.st_dev == again.st_dev, original.st_ino == again.st_ino
        else {
            close(reopened)
            return nil
        }
        descriptor = reopened
        start = file.start
        self.segments = segments
        self.segmentCount = segmentCount
        let slots = min(Self.readAhead, max(1, segmentCount))
        buffers = (0..<slots).map { _ in
            .allocate(byteCount: maximumSegment + 2 * Self.alignment, alignment: Self.alignment)
        }
        found = Array(repeating: nil, count: slots)
        ready = (0..<slots).map { _ in DispatchSemaphore(value: 0) }
        // Made at 0 and signalled once: a semaphore freed below its initial value traps, and the last buffers are
        // never handed back.
        free = (0..<slots).map { _ in
            let semaphore = DispatchSemaphore(value: 0)
            semaphore.signal()
            return semaphore
        }
        queue.async { self.readAll() }
    }

    // The reader's block holds a reference until it has read every segment, so this runs after it.
    deinit {
        close(descriptor)
        for buffer in buffers { buffer.deallocate() }
    }

    /// Hands `body` segment `segment`'s bytes, or `nil` when they must be read buffered; then frees its buffer
    /// for a later segment.
    func withSegment<Result>(_ segment: Int, _ body: (UnsafeRawBufferPointer?) throws -> Result) rethrows -> Result {
        defer { release(segment) }
        return try body(take(segment))
    }

    /// Waits for segment `segment` and returns its bytes (`nil`: read it buffered), valid until
    /// ``release(_:)``. Segments are taken in order, each once, and released before the one
    /// ``readAhead`` places later is taken.
    func take(_ segment: Int) -> UnsafeRawBufferPointer? {
        let slot = segment % buffers.count
        ready[slot].wait()
        return found[slot]
    }

    /// Frees segment `segment`'s buffer for a later segment.
    func release(_ segment: Int) {
        free[segment % buffers.count].signal()
    }

    /// Stops the reader at its next segment, for a caller that will not take the rest (it must take none after).
    func cancel() {
        cancelled.store(true, ordering: .relaxed)
        for semaphore in free { semaphore.signal() }
    }

    /// Reads every segment in order, each into the next free buffer.
    private func readAll() {
        for segment in 0..<segmentCount {
            let slot = segment % buffers.count
            free[slot].wait()
            if cancelled.load(ordering: .relaxed) { return }
            let (offset, count) = segments(segment)
            found[slot] = read(count, at: offset, into: buffers[slot])
            ready[slot].signal()
        }
    }

    /// Reads `count` bytes from content offset `offset` into `scratch` (aligned) and returns them, or `nil` when
    /// they could not all be read directly.
    private func read(
        _ count: Int, at offset: Int, into scratch: UnsafeMutableRawBufferPointer
    )
        -> UnsafeRawBufferPointer?
    {
        let first = start + offset
        let lower = first / Self.alignment * Self.alignment
        let upper = (first + count + Self.alignment - 1) / Self.alignment * Self.alignment
        guard upper - lower <= scratch.count else { return nil }
        var done = 0
        while lower + done < first + count {
            let result = pread(descriptor, scratch.baseAddress! + done, upper - lower - done, off_t(lower + done))
            if result < 0 && errno == EINTR { continue }
            // An error, or the end of the file before the bytes asked for: the buffered path reports it. A short
            // count ends at an unaligned offset, which a further direct read refuses, so it stops here too.
            guard result > 0, result % Self.alignment == 0 || lower + done + result >= first + count else {
                return nil
            }
            done += result
        }
        return UnsafeRawBufferPointer(rebasing: scratch[(first - lower)..<(first - lower + count)])
    }

    /// True when at least half of the file's pages are in the page cache (`mincore` over a read-only mapping);
    /// also true when that cannot be told, which keeps the buffered reads.
    static func isMostlyCached(_ file: RegularFile) -> Bool {
        let length = file.start + file.size
        guard length > 0 else { return true }
        guard let mapping = mmap(nil, length, PROT_READ, MAP_SHARED, file.descriptor, 0), mapping != MAP_FAILED
        else { return true }
        defer { munmap(mapping, length) }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard page > 0 else { return true }
        var resident = [UInt8](repeating: 0, count: (length + page - 1) / page)
        guard mincore(mapping, length, &resident) == 0 else { return true }
        let cached = resident.reduce(0) { $0 + Int($1 & 1) }
        return cached * 2 >= resident.count
    }
}
