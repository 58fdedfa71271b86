import BlockingWork
public import Foundation
import Hummingbird
import NIOCore

/// A download streamed from files the backend opens one at a time as they are sent, rather than from a directory
/// staged first: a model pull re-wrapped while it streams (#14), with no temporary copy.
public struct StreamedDownload: Sendable {
    /// One file of the stream, in the order it is sent.
    public struct File: Sendable {
        /// Its relative path in the stream.
        public let path: String
        /// Its bytes, announced before it is opened (the response's length counts them).
        public let size: Int

        /// A file of the stream.
        public init(path: String, size: Int) {
            self.path = path
            self.size = size
        }
    }

    /// An opened file: a head held in memory, then a body read by offset as it is sent.
    public struct Source: Sendable {
        /// The bytes sent first.
        public let head: [UInt8]
        /// How many body bytes follow the head.
        public let bodyCount: Int
        /// Reads body bytes from an offset into a buffer; returns how many (blocking).
        public let readBody: @Sendable (UnsafeMutableRawBufferPointer, Int) throws -> Int

        /// A source sending `head`, then `bodyCount` bytes from `readBody`.
        public init(
            head: [UInt8], bodyCount: Int,
            readBody: @escaping @Sendable (UnsafeMutableRawBufferPointer, Int) throws -> Int
        ) {
            self.head = head
            self.bodyCount = bodyCount
            self.readBody = readBody
        }
    }

    /// The files, in the order they are sent.
    public let files: [File]
    /// Opens file `index`, blocking (run on the blocking pool); it may check the file first, and a file that fails
    /// the check throws before any of its bytes is sent.
    public let open: @Sendable (Int) throws -> Source
    /// Runs once when the stream ends: nil when every byte was handed to the connection, else why it stopped.
    public let finish: @Sendable ((any Error)?) async -> Void

    /// A download of `files`.
    public init(
        files: [File], open: @escaping @Sendable (Int) throws -> Source,
        finish: @escaping @Sendable ((any Error)?) async -> Void
    ) {
        self.files = files
        self.open = open
        self.finish = finish
    }
}

extension FileStream {
    /// A response body streaming `download`'s files in order, each opened on the blocking pool while the one
    /// before is sent (one ahead at most: an open file holds a descriptor, no data), its body read in 1 MiB
    /// chunks. A file that fails to open, or opens at another size than announced, ends the stream early, so the
    /// client sees fewer bytes than the Content-Length and keeps nothing.
    static func body(streaming download: StreamedDownload) -> ResponseBody {
        var length = 2
        for file in download.files { length += 2 + file.path.utf8.count + 8 + file.size }
        @Sendable func opening(_ index: Int) -> Task<StreamedDownload.Source, any Error>? {
            guard index < download.files.count else { return nil }
            return Task { try await BlockingExecutor.shared.run { try download.open(index) } }
        }
        return ResponseBody(contentLength: length) { writer in
            var next = opening(0)
            do {
                for (index, file) in download.files.enumerated() {
                    let source = try await next!.value
                    next = opening(index + 1)
                    guard source.head.count + source.bodyCount == file.size else { throw APIError.internalError }
                    var header = ByteBuffer()
                    header.writeInteger(UInt16(file.path.utf8.count))
                    header.writeString(file.path)
                    header.writeInteger(UInt64(file.size))
                    header.writeBytes(source.head)
                    try await writer.write(header)
                    try await send(source, to: &writer)
                }
                try await writer.write(ByteBuffer(integer: UInt16(0)))
                try await writer.finish(nil)
            } catch {
                next?.cancel()
                await download.finish(error)
                throw error
            }
            await download.finish(nil)
        }
    }

    /// Streams a source's body, each chunk read on the blocking pool; exactly `bodyCount` bytes or an error.
    private static func send(
        _ source: StreamedDownload.Source, to writer: inout any ResponseBodyWriter
    ) async throws {
        var offset = 0
        while offset < source.bodyCount {
            let want = min(chunkSize, source.bodyCount - offset)
            let start = offset
            let chunk = try await BlockingExecutor.shared.run { () throws -> ByteBuffer in
                var buffer = ByteBuffer()
                _ = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { raw in
                    let count = try source.readBody(UnsafeMutableRawBufferPointer(rebasing: raw[..<want]), start)
                    guard count > 0 else { throw APIError.internalError }
                    return count
                }
                return buffer
            }
            offset += chunk.readableBytes
            try await writer.write(chunk)
        }
    }
}
