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
    /// Setting the trim threshold also freezes glibc's mmap threshold at 128 KiB, so every 1 MiB transfer buffer of a
    /// streamed push or pull (a file read, a TLS record batch, a decryption batch) was its own `mmap`: fresh zeroed
    /// pages on every chunk, about a fifth of a remote push's CPU (#14). Buffers up to 4 MiB now come from the heap
    /// and are reused; two arenas bound what idle threads keep (a remote client's peak RSS stays near 70 MiB).
    public static func keepFreedChunksForReuse() {
        #if canImport(Glibc)
        typealias MallocOption = @convention(c) (Int32, Int32) -> Int32
        let trimThreshold: Int32 = -1  // M_TRIM_THRESHOLD
        let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD
        let arenaMax: Int32 = -8  // M_ARENA_MAX
        guard let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: MallocOption.self)
        _ = mallopt(trimThreshold, 16 << 20)
        _ = mallopt(mmapThreshold, 4 << 20)
        _ = mallopt(arenaMax, 2)
        #endif
    }
}
