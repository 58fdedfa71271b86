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
    public static func keepFreedChunksForReuse() {
        #if canImport(Glibc)
        typealias MallocOption = @convention(c) (Int32, Int32) -> Int32
        let trimThreshold: Int32 = -1  // M_TRIM_THRESHOLD
        guard let symbol = dlsym(nil, "mallopt") else { return }
        _ = unsafeBitCast(symbol, to: MallocOption.self)(trimThreshold, 16 << 20)
        #endif
    }
}
