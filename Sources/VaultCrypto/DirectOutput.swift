import Foundation

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
/// without direct I/O every write does. Callers write only inside the pipeline's write turn, one at a time.
final class DirectOutput: Sendable {
    /// Direct I/O needs the buffer, the file offset and the length aligned; 4096 suits every common device.
    static let alignment = 4096
    /// Bytes gathered before a direct write: one pipeline segment of plaintext.
    static let blockSize = 1 << 20

    private struct State: ~Copyable {
        let descriptor: Int32
        let buffer: UnsafeMutableRawBufferPointer
        /// Bytes gathered in `buffer`, not yet written.
        var filled = 0
        /// The file offset of `buffer`'s first byte.
        var offset: Int
        /// Whether the descriptor has `O_DIRECT` set now.
        var direct = false
        /// Cleared when the file system refuses direct I/O: buffered writes from then on.
        var directPossible = true

        deinit { buffer.deallocate() }
    }

    /// Touched only by the pipeline's write turn, which admits one caller at a time and orders each turn's
    /// memory effects before the next (`Turnstile`): no lock of its own is needed.
    nonisolated(unsafe) private var state: State

    /// Writes at `descriptor`'s current offset onwards; ``finish()`` leaves the offset at the end of what was written.
    init(_ descriptor: Int32) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(
            byteCount: Self.blockSize + Self.alignment, alignment: Self.alignment)
        state = State(descriptor: descriptor, buffer: buffer, offset: Int(lseek(descriptor, 0, SEEK_CUR)))
    }

    /// Appends `bytes`, writing whole blocks out as they fill.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try Self.append(bytes, to: &state)
    }

    private static func append(_ bytes: UnsafeRawBufferPointer, to state: inout State) throws {
        var remaining = bytes[...]
        while !remaining.isEmpty {
            let taken = min(remaining.count, state.buffer.count - state.filled)
            UnsafeMutableRawBufferPointer(rebasing: state.buffer[state.filled..<(state.filled + taken)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: remaining.prefix(taken)))
            state.filled += taken
            remaining = remaining.dropFirst(taken)
            if state.filled >= Self.blockSize { try Self.flush(&state, final: false) }
        }
    }

    /// Writes what is gathered, switches the descriptor back to buffered I/O and moves its offset to the end.
    func finish() throws {
        try Self.flush(&state, final: true)
        if state.direct { Self.setDirect(false, &state) }
        guard lseek(state.descriptor, off_t(state.offset), SEEK_SET) >= 0 else {
            throw AgeError.io("cannot write the output")
        }
    }

    /// Writes the gathered bytes up to the last aligned offset (all of them when `final`): the part before the
    /// file's first aligned offset and the final partial block buffered, whole alignment units direct, always
    /// from the buffer's (aligned) start.
    private static func flush(_ state: inout State, final: Bool) throws {
        let misalignment = state.offset % Self.alignment
        if misalignment != 0 && state.filled > 0 {
            let head = min(state.filled, Self.alignment - misalignment)
            try Self.writeBuffered(&state, from: 0, count: head)
            Self.shift(&state, by: head)
        }
        if state.offset % Self.alignment == 0 {
            let aligned = state.filled / Self.alignment * Self.alignment
            if aligned > 0 {
                try Self.writeDirect(&state, from: 0, count: aligned)
                Self.shift(&state, by: aligned)
            }
        }
        if final && state.filled > 0 {
            try Self.writeBuffered(&state, from: 0, count: state.filled)
            state.filled = 0
        }
    }

    /// Drops the first `count` gathered bytes (written), moving the rest to the buffer's start.
    private static func shift(_ state: inout State, by count: Int) {
        let rest = state.filled - count
        if rest > 0 { memmove(state.buffer.baseAddress!, state.buffer.baseAddress! + count, rest) }
        state.filled = rest
    }

    private static func writeBuffered(_ state: inout State, from start: Int, count: Int) throws {
        if state.direct { Self.setDirect(false, &state) }
        try Self.writeAll(&state, from: start, count: count)
    }

    private static func writeDirect(_ state: inout State, from start: Int, count: Int) throws {
        if !state.direct && state.directPossible { Self.setDirect(true, &state) }
        if state.direct {
            let result = pwrite(state.descriptor, state.buffer.baseAddress! + start, count, off_t(state.offset))
            if result == count {
                state.offset += count
                return
            }
            // EINVAL: the file system takes no direct I/O after all. Anything else (a short write at a full
            // disk, EIO): retry buffered, which reports the error as usual.
            state.directPossible = false
            Self.setDirect(false, &state)
        }
        try Self.writeAll(&state, from: start, count: count)
    }

    /// Buffered `pwrite` of the range, retrying short writes and EINTR.
    private static func writeAll(_ state: inout State, from start: Int, count: Int) throws {
        var done = 0
        while done < count {
            let result = pwrite(
                state.descriptor, state.buffer.baseAddress! + start + done, count - done, off_t(state.offset + done))
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { throw AgeError.io("cannot write the output") }
            done += result
        }
        state.offset += count
    }

    /// Linux's `O_DIRECT` (the Glibc module does not export it): its value differs by architecture.
    #if os(Linux) && (arch(x86_64) || arch(i386))
    static let directFlag: Int32? = 0o40000
    #elseif os(Linux) && arch(arm64)
    static let directFlag: Int32? = 0o200000
    #else
    static let directFlag: Int32? = nil
    #endif

    private static func setDirect(_ on: Bool, _ state: inout State) {
        if let direct = Self.directFlag {
            let flags = fcntl(state.descriptor, F_GETFL)
            let changed = flags >= 0 && fcntl(state.descriptor, F_SETFL, on ? flags | direct : flags & ~direct) == 0
            if changed { state.direct = on }
            if !changed { state.directPossible = false }
        } else {
            state.directPossible = false
        }
    }
}
