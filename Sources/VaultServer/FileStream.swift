import BlockingWork
import Foundation
import Hummingbird
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The body of the streamed upload and download routes (`application/vnd.modelvault.files`): files one after
/// another, each as a big-endian `UInt16` path length, the UTF-8 relative path, a big-endian `UInt64` size and
/// the bytes, ended by a zero path length. Both sides move one bounded chunk at a time, so a 1 GiB model passes
/// through in constant memory; the JSON routes instead collect the body, base64 and all, up to `maxBodySize`.
enum FileStream {
    /// The media type of a file stream.
    static let contentType = "application/vnd.modelvault.files"
    /// The longest path accepted, in bytes.
    static let maxPathLength = 4096
    /// The size of the reads and writes on disk.
    static let chunkSize = 1 << 20

    /// The cap on a stream's bytes from a `MODELVAULT_MAX_STAGED_BYTES` setting: a positive byte count, else
    /// 1 TiB, as the vault's staging limit reads it.
    static func limit(_ setting: String?) -> Int64 {
        guard let setting, let value = Int64(setting), value > 0 else { return 1 << 40 }
        return value
    }

    static func malformed(_ reason: String) -> APIError { .badRequest("malformed file stream: " + reason) }

    /// Checks a path from the stream: relative, no `.`/`..`/empty components, no NUL or backslash, and (for
    /// datasets, `flat`) a single component.
    static func validate(_ path: String, flat: Bool) throws {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, !path.contains("\0"), !path.contains("\\"), !flat || parts.count == 1,
            parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && $0.utf8.count <= 255 })
        else { throw malformed("invalid file path") }
    }

    // MARK: Receiving

    /// Writes the files of `body` under `directory` (an existing private directory), refusing a stream longer
    /// than `limit` bytes (413), invalid or duplicate paths and truncated or trailing data (400).
    ///
    /// `arrived` hears each file's path once the file is whole on disk and closed (in stream order); once
    /// `discarding` answers true, the rest is parsed and checked but its bytes are no longer written.
    ///
    /// - Returns: the paths received, in stream order.
    static func receive(
        _ body: some AsyncSequence<ByteBuffer, any Error>, into directory: URL, limit: Int64, flat: Bool,
        arrived: @escaping @Sendable (String) -> Void = { _ in }, discarding: @escaping @Sendable () -> Bool = { false }
    ) async throws -> [String] {
        var receiver = Receiver(
            directory: directory, limit: limit, flat: flat, arrived: arrived, discarding: discarding)
        do {
            for try await buffer in body {
                try await receiver.consume(buffer)
            }
        } catch {
            await receiver.closeAfterWrites()
            throw error
        }
        await receiver.closeAfterWrites()
        guard receiver.finished else { throw malformed("the stream ends before its end marker") }
        return receiver.paths
    }

    /// The parser's state between body chunks.
    private struct Receiver {
        enum Stage {
            case pathLength
            case path(Int)
            case size(String)
            case content(remaining: UInt64)
            case end
        }

        let directory: URL
        let limit: Int64
        let flat: Bool
        var stage = Stage.pathLength
        var pending = ByteBuffer()
        /// File bytes received and not yet handed to a write: slices of the received chunks, no copy.
        var output: [ByteBuffer] = []
        var outputBytes = 0
        var writing: Task<Void, any Error>?
        var total: Int64 = 0
        var fd: Int32 = -1
        var paths: [String] = []
        var seen: Set<String> = []

        let arrived: @Sendable (String) -> Void
        let discarding: @Sendable () -> Bool

        init(
            directory: URL, limit: Int64, flat: Bool, arrived: @escaping @Sendable (String) -> Void,
            discarding: @escaping @Sendable () -> Bool
        ) {
            self.directory = directory
            self.limit = limit
            self.flat = flat
            self.arrived = arrived
            self.discarding = discarding
        }

        var finished: Bool {
            if case .end = stage { return true }
            return false
        }

        mutating func consume(_ buffer: ByteBuffer) async throws {
            try count(buffer.readableBytes)
            if pending.readableBytes == 0 {
                // Nothing left over: parse the chunk as it came (file bytes are sliced from it, not copied).
                pending = buffer
            } else {
                var buffer = buffer
                pending.writeBuffer(&buffer)
            }
            while true {
                switch stage {
                case .pathLength:
                    guard let length = pending.readInteger(as: UInt16.self) else { return compact() }
                    if length == 0 {
                        stage = .end
                    } else {
                        guard Int(length) <= FileStream.maxPathLength else { throw malformed("path too long") }
                        stage = .path(Int(length))
                    }
                case .path(let length):
                    guard let bytes = pending.readBytes(length: length) else { return compact() }
                    guard let path = String(validating: bytes, as: UTF8.self) else {
                        throw malformed("file path is not UTF-8")
                    }
                    try validate(path, flat: flat)
                    guard seen.insert(path).inserted else { throw malformed("duplicate file path") }
                    stage = .size(path)
                case .size(let path):
                    guard let size = pending.readInteger(as: UInt64.self) else { return compact() }
                    guard size <= UInt64(limit) else { throw APIError.bodyTooLarge }
                    try create(path)
                    paths.append(path)
                    stage = .content(remaining: size)
                    if size == 0 { try await finishFile() }
                case .content(let remaining):
                    guard pending.readableBytes > 0 else { return compact() }
                    let take = Int(min(UInt64(pending.readableBytes), remaining))
                    output.append(pending.readSlice(length: take)!)
                    outputBytes += take
                    let left = remaining - UInt64(take)
                    stage = .content(remaining: left)
                    if left == 0 {
                        try await finishFile()
                    } else if outputBytes >= FileStream.chunkSize {
                        try await flush()
                    }
                case .end:
                    guard pending.readableBytes == 0 else { throw malformed("data after the end marker") }
                    return compact()
                }
            }
        }

        /// Charges `bytes` against the stream's cap (checked arithmetic: the count comes from the client).
        private mutating func count(_ bytes: Int) throws {
            let (sum, overflow) = total.addingReportingOverflow(Int64(bytes))
            guard !overflow, sum <= limit else { throw APIError.bodyTooLarge }
            total = sum
        }

        private mutating func compact() {
            // A drained buffer is dropped rather than compacted: its storage is still shared with slices waiting
            // to be written.
            if pending.readableBytes == 0 { pending = ByteBuffer() } else { pending.discardReadBytes() }
        }

        /// Creates the file (and its parent directories) exclusively, never through a symbolic link.
        private mutating func create(_ path: String) throws {
            let url = directory.appending(path: path)
            let parent = url.deletingLastPathComponent()
            if parent.path(percentEncoded: false) != directory.path(percentEncoded: false) {
                do {
                    try FileManager.default.createDirectory(
                        at: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                } catch {
                    throw malformed("a file path collides with another")
                }
            }
            let descriptor = open(
                url.path(percentEncoded: false), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw malformed("a file path collides with another") }
            fd = descriptor
        }

        private mutating func finishFile() async throws {
            try await flush()
            try await settle()
            closeFile()
            stage = .pathLength
            if let path = paths.last { arrived(path) }
        }

        /// Hands the gathered slices to the blocking pool (not the cooperative one) once the previous write is
        /// done: one write at a time, in order, while the next chunk is received.
        private mutating func flush() async throws {
            guard outputBytes > 0 else { return }
            let buffers = output
            let descriptor = fd
            output = []
            outputBytes = 0
            if discarding() { return }
            try await settle()
            writing = Task {
                try await BlockingExecutor.shared.run {
                    for buffer in buffers {
                        try buffer.withUnsafeReadableBytes { raw in
                            var offset = 0
                            while offset < raw.count {
                                let written = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                                if written < 0 && errno == EINTR { continue }
                                guard written > 0 else { throw APIError.internalError }
                                offset += written
                            }
                        }
                    }
                }
            }
        }

        /// Waits for the write in flight, if any, and reports its failure.
        private mutating func settle() async throws {
            let previous = writing
            writing = nil
            try await previous?.value
        }

        /// Closes the file being written, after the write in flight (a failed stream's too).
        mutating func closeAfterWrites() async {
            _ = try? await settle()
            closeFile()
        }

        private mutating func closeFile() {
            if fd >= 0 { close(fd) }
            fd = -1
        }
    }

    // MARK: Sending

    /// The regular files below `directory`, by relative path, sorted, those under `.modelvault/` first; symbolic
    /// links and other kinds refused.
    static func files(in directory: URL) throws -> [(path: String, size: UInt64)] {
        let root = directory.path(percentEncoded: false)
        let prefix = root.hasSuffix("/") ? root : root + "/"
        var found: [(path: String, size: UInt64)] = []
        guard let walker = FileManager.default.enumerator(atPath: root) else { throw APIError.internalError }
        while let relative = walker.nextObject() as? String {
            var info = stat()
            guard lstat(prefix + relative, &info) == 0 else { throw APIError.internalError }
            switch info.st_mode & S_IFMT {
            case S_IFREG: found.append((relative, UInt64(info.st_size)))
            case S_IFDIR: continue
            default: throw APIError.internalError
            }
        }
        // The signed manifest and signature first, so a receiver checks them before it decrypts anything.
        return found.sorted {
            ($0.path.hasPrefix(".modelvault/") ? 0 : 1, $0.path) < ($1.path.hasPrefix(".modelvault/") ? 0 : 1, $1.path)
        }
    }

    /// A response body streaming every regular file below `directory`, one chunk at a time; `cleanup` runs when
    /// the body is done or fails (it removes the staging directory).
    static func body(
        of directory: URL, cleanup: @escaping @Sendable () -> Void
    ) throws -> ResponseBody {
        let entries = try files(in: directory)
        var length = 2
        for entry in entries { length += 2 + entry.path.utf8.count + 8 + Int(entry.size) }
        return ResponseBody(contentLength: length) { writer in
            defer { cleanup() }
            for entry in entries {
                var header = ByteBuffer()
                header.writeInteger(UInt16(entry.path.utf8.count))
                header.writeString(entry.path)
                header.writeInteger(entry.size)
                try await writer.write(header)
                try await send(directory.appending(path: entry.path), size: entry.size, to: &writer)
            }
            try await writer.write(ByteBuffer(integer: UInt16(0)))
            try await writer.finish(nil)
        }
    }

    /// Streams one file's bytes, read on the blocking pool; exactly `size` bytes or an error.
    private static func send(_ url: URL, size: UInt64, to writer: inout any ResponseBodyWriter) async throws {
        let descriptor = open(url.path(percentEncoded: false), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw APIError.internalError }
        defer { close(descriptor) }
        var offset: UInt64 = 0
        while offset < size {
            let want = Int(min(UInt64(chunkSize), size - offset))
            let start = offset
            let chunk = try await BlockingExecutor.shared.run { () throws -> ByteBuffer in
                var buffer = ByteBuffer()
                let read = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { raw in
                    let count = pread(descriptor, raw.baseAddress!, want, off_t(start))
                    guard count > 0 else { throw APIError.internalError }
                    return count
                }
                _ = read
                return buffer
            }
            offset += UInt64(chunk.readableBytes)
            try await writer.write(chunk)
        }
    }
}

extension VaultServerConfiguration {
    /// The stream cap from a `MODELVAULT_MAX_STAGED_BYTES` setting (see ``maxStreamBytes``).
    static func streamLimit(_ setting: String?) -> Int64 { FileStream.limit(setting) }
}
