import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Process-wide allocator tuning for large age encryptions and decryptions. The library never applies it on its
/// own: changing the heap's behaviour is the host executable's explicit choice (`modelvault` and the benchmarks
/// call it first thing in `main`).
public enum HeapTuning {
    /// swift-crypto allocates every sealed or opened age chunk (64 KiB) on the heap. glibc hands freed memory back
    /// to the kernel once 128 KiB sit free at the top of a heap, so each segment's chunks would fault in fresh pages
    /// (half the system time of a large encrypt or decrypt). A 16 MiB trim threshold keeps them reused; what the
    /// process retains stays bounded by it. `mallopt` is looked up at run time: the Glibc module does not export
    /// malloc.h.
    ///
    /// Setting the trim threshold also freezes glibc's mmap threshold at 128 KiB; it is set to 1 MiB, so the TLS
    /// layer's read buffers (NIOSSL hands each decrypted batch on and allocates the next, up to several hundred KiB
    /// when the reader lags) come from the heap and are reused instead of being mapped and faulted in afresh: a
    /// remote pull of 256 MiB took 101,000 page faults and 1.2 s, now 13,000 and 0.75 s (#14). Buffers of 1 MiB and
    /// more (a push's file reads) are still mapped and returned, which keeps a client's peak memory near 50 MiB
    /// (a 2 MiB threshold let them pile up in the heap: 97 MiB).
    public static func keepFreedChunksForReuse() {
        #if canImport(Glibc)
        typealias MallocOption = @convention(c) (Int32, Int32) -> Int32
        let trimThreshold: Int32 = -1  // M_TRIM_THRESHOLD
        let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD
        guard let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: MallocOption.self)
        _ = mallopt(trimThreshold, 16 << 20)
        _ = mallopt(mmapThreshold, 1 << 20)
        #endif
    }

    /// For a long-running server that streams transfers (`modelvault serve`, #14), on top of
    /// ``keepFreedChunksForReuse()``: setting the trim threshold also freezes glibc's mmap threshold at 128 KiB, so
    /// every 1 MiB buffer of a streamed push or pull (a file read, a decryption batch) was its own `mmap` with fresh
    /// zeroed pages, a large share of a remote push's server CPU. Buffers up to 4 MiB then come from the heap and
    /// are reused, in at most two arenas. Clients do not call it: what a heap keeps counts against their memory
    /// bound (a remote push's client peaked at 93 MiB with it, about 50 MiB without).
    public static func reuseTransferBuffers() {
        #if canImport(Glibc)
        typealias MallocOption = @convention(c) (Int32, Int32) -> Int32
        let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD
        let arenaMax: Int32 = -8  // M_ARENA_MAX
        guard let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: MallocOption.self)
        _ = mallopt(mmapThreshold, 4 << 20)
        _ = mallopt(arenaMax, 2)
        #endif
    }
}
