public import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Atomic file writes: a temporary file in the destination directory, fsync, then rename, so readers see the
/// old file or the complete new one, and a failed write leaves nothing behind.
public enum AtomicFile {
    /// Writes `data` to `url` atomically with the given POSIX permissions.
    public static func write(_ data: some DataProtocol, to url: URL, permissions: Int = 0o644) throws {
        try write(to: url, permissions: permissions) { handle in
            do { try handle.write(contentsOf: data) } catch { throw AgeError.output("cannot write the output file") }
        }
    }

    /// Creates `url` atomically from what `body` writes to the handle; if `body` throws, its error is rethrown and
    /// no file is left.
    public static func write(
        to url: URL, permissions: Int = 0o644, _ body: (FileHandle) throws -> Void
    ) throws {
        let file = try Pending(url, permissions: permissions)
        do {
            try body(file.handle)
        } catch {
            file.discard()
            throw error
        }
        try file.commit()
    }

    /// A file being created atomically, in two steps: written through `handle` into a temporary file beside its
    /// destination, then committed (fsync, rename into place, fsync of the directory) or discarded. Separating
    /// the steps lets a caller flush one file to disk on another thread while it writes the next. A file
    /// neither committed nor discarded is removed when the value is released.
    public final class Pending: Sendable {
        /// Where the file appears when committed.
        public let url: URL
        /// The temporary file's handle, open for writing.
        public let handle: FileHandle
        private let temporary: URL
        private let descriptor: Int32
        /// Whether the temporary file is still open (neither committed nor discarded).
        private let isOpen = Mutex(true)

        /// Creates the temporary file for `url` with exactly the given POSIX permissions.
        public init(_ url: URL, permissions: Int = 0o644) throws {
            let directory = url.deletingLastPathComponent()
            let suffix = UInt64.random(in: 0...UInt64.max)
            let temporary = directory.appendingPathComponent(
                ".\(url.lastPathComponent).\(String(suffix, radix: 36)).tmp")
            let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(permissions))
            guard descriptor >= 0 else { throw AgeError.output("cannot create the output file") }
            // The umask may have cleared bits; set exactly what was asked.
            _ = fchmod(descriptor, mode_t(permissions))
            self.url = url
            self.temporary = temporary
            self.descriptor = descriptor
            self.handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: false)
        }

        deinit { discard() }

        /// Flushes the file to disk and renames it into place; on failure nothing is left.
        public func commit() throws {
            guard
                isOpen.withLock({ isOpen in
                    defer { isOpen = false }; return isOpen
                })
            else {
                throw AgeError.output("the output file was already committed or discarded")
            }
            guard fsync(descriptor) == 0 else {
                close(descriptor)
                unlink(temporary.path)
                throw AgeError.output("cannot flush the output file")
            }
            close(descriptor)
            guard rename(temporary.path, url.path) == 0 else {
                unlink(temporary.path)
                throw AgeError.output("cannot move the output file into place")
            }
            // The rename is durable only once the directory is: a failure here is reported, not ignored.
            let directoryDescriptor = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard directoryDescriptor >= 0 else {
                throw AgeError.output("cannot open the output's directory to sync it")
            }
            defer { close(directoryDescriptor) }
            guard fsync(directoryDescriptor) == 0 else { throw AgeError.output("cannot sync the output's directory") }
        }

        /// Closes and removes the temporary file (nothing if already committed or discarded).
        public func discard() {
            guard
                isOpen.withLock({ isOpen in
                    defer { isOpen = false }; return isOpen
                })
            else { return }
            close(descriptor)
            unlink(temporary.path)
        }
    }
}
