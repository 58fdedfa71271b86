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

/// Secret text (an age identity, a PEM private key) kept in a ``SecretBytes`` owner, zeroed when the last
/// reference ends. Immutable, so it is shared across threads as is.
///
/// The age parser and swift-crypto's PEM parser take `String`s: ``withText(_:)`` lends a transient copy for one
/// operation, which the runtime frees (not zeroes) when the operation ends. The long-lived copy is this one.
public final class SecretText: @unchecked Sendable {
    private let bytes: SecretBytes

    /// Copies `text` into a zeroing owner; the caller's `String` is the caller's to drop.
    public init(_ text: String) {
        bytes = SecretBytes(copying: Array(text.utf8))
    }

    /// Adopts `storage` (UTF-8): it is zeroed and then handed to `release` when the last reference ends.
    init(adopting storage: UnsafeMutableRawBufferPointer, release: @escaping (UnsafeMutableRawBufferPointer) -> Void) {
        bytes = SecretBytes(adopting: storage, release: release)
    }

    /// Lends the text to `body` as a transient `String`.
    public func withText<Result>(_ body: (String) throws -> Result) rethrows -> Result {
        try body(text)
    }

    /// A transient copy of the text, for APIs that keep no reference to it (the key ring's parsers).
    public var text: String {
        bytes.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }
}
