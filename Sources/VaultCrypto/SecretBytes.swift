#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Key material with one owner: the bytes live in memory this value allocates, are lent out only inside
/// `withUnsafeBytes`, and are zeroed before the memory is released when the owner ends. Non-copyable, so no copy
/// of the buffer outlives the owner by accident (swift-crypto's `SecureBytes` and Apple's HE library do the same).
public struct SecretBytes: ~Copyable {
    private let storage: UnsafeMutableRawBufferPointer
    private let release: (UnsafeMutableRawBufferPointer) -> Void

    /// Allocates `count` bytes and lets `initializer` fill them; they are zeroed first, and zeroed again if
    /// `initializer` throws.
    public init(count: Int, initializer: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 0), alignment: 16)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        do {
            try initializer(storage)
        } catch {
            Self.zero(storage)
            storage.deallocate()
            throw error
        }
        self.init(adopting: storage, release: { $0.deallocate() })
    }

    /// Copies `bytes` into a new owner. The caller's copy is the caller's to clear.
    public init(copying bytes: some Collection<UInt8>) {
        self.init(count: bytes.count) { _ = $0.initializeMemory(as: UInt8.self, from: bytes) }
    }

    /// Takes ownership of `storage`: it is zeroed and then handed to `release` when this owner ends.
    init(adopting storage: UnsafeMutableRawBufferPointer, release: @escaping (UnsafeMutableRawBufferPointer) -> Void) {
        self.storage = storage
        self.release = release
    }

    deinit {
        Self.zero(storage)
        release(storage)
    }

    /// The number of bytes.
    public var count: Int { storage.count }

    /// Lends the bytes to `body`; the pointer must not escape it.
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(UnsafeRawBufferPointer(storage))
    }

    /// Overwrites `buffer` with zeroes in a way the optimiser may not remove (the memory is about to be freed,
    /// which makes a plain store dead).
    private static func zero(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        #if canImport(Glibc)
        explicit_bzero(base, buffer.count)
        #else
        _ = memset_s(base, buffer.count, 0, buffer.count)
        #endif
    }
}
