import Foundation
import NIOCore
import Synchronization
import TestSupport
import Testing

@testable import VaultServer

/// The upload receiver's own contract: whole files announced in order, and nothing written once the push behind it
/// has failed (review of the arriving push, F5: a refused upload went on filling the server's disk).
@Suite struct FileStreamReceiveTests {
    static func stream(_ files: [(String, Data)]) -> ByteBuffer {
        var buffer = ByteBuffer()
        for (path, data) in files {
            buffer.writeInteger(UInt16(path.utf8.count))
            buffer.writeString(path)
            buffer.writeInteger(UInt64(data.count))
            buffer.writeBytes(data)
        }
        buffer.writeInteger(UInt16(0))
        return buffer
    }

    /// The body in chunks of `size` bytes, as a connection delivers it.
    static func chunks(_ buffer: ByteBuffer, of size: Int) -> AsyncThrowingStream<ByteBuffer, any Error> {
        var buffer = buffer
        return AsyncThrowingStream { continuation in
            while buffer.readableBytes > 0 {
                continuation.yield(buffer.readSlice(length: min(size, buffer.readableBytes))!)
            }
            continuation.finish()
        }
    }

    @Test func wholeFilesAreAnnouncedInOrderAndWritten() async throws {
        let directory = try TemporaryDirectory()
        let announced = Mutex<[String]>([])
        let big = Data(repeating: 7, count: 3 << 20)
        let paths = try await FileStream.receive(
            Self.chunks(Self.stream([("a.bin", big), ("sub/b.txt", Data("b".utf8))]), of: 100_000),
            into: directory.url, limit: 1 << 30, flat: false,
            arrived: { path in announced.withLock { $0.append(path) } })
        #expect(paths == ["a.bin", "sub/b.txt"])
        #expect(announced.withLock { $0 } == ["a.bin", "sub/b.txt"])
        #expect(try Data(contentsOf: directory.url.appending(path: "a.bin")) == big)
    }

    /// Files larger than a chunk, with sizes that fall anywhere against the 1 MiB write chunk and a 4 KiB page:
    /// every byte lands where it belongs, whatever the chunking.
    @Test(arguments: [65_536, 100_003])
    func largeFilesKeepEveryByte(chunk: Int) async throws {
        let directory = try TemporaryDirectory()
        var generator = SystemRandomNumberGenerator()
        func random(_ count: Int) -> Data {
            Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
        let first = random((8 << 20) + 12_345)
        let second = random((8 << 20) + 2 * 4096)
        let small = random(5_000)
        let paths = try await FileStream.receive(
            Self.chunks(Self.stream([("a.bin", first), ("b/small.bin", small), ("c.bin", second)]), of: chunk),
            into: directory.url, limit: 1 << 30, flat: false)
        #expect(paths == ["a.bin", "b/small.bin", "c.bin"])
        #expect(try Data(contentsOf: directory.url.appending(path: "a.bin")) == first)
        #expect(try Data(contentsOf: directory.url.appending(path: "b/small.bin")) == small)
        #expect(try Data(contentsOf: directory.url.appending(path: "c.bin")) == second)
    }

    /// Large files the push no longer wants are left empty, and the stream is still read to its end.
    @Test func aLargeFileAfterTheFailureIsNotWritten() async throws {
        let directory = try TemporaryDirectory()
        let failed = Atomic(false)
        let big = Data(repeating: 9, count: (8 << 20) + 777)
        let paths = try await FileStream.receive(
            Self.chunks(Self.stream([("a.bin", Data("first".utf8)), ("b.bin", big), ("c.bin", big)]), of: 300_000),
            into: directory.url, limit: 1 << 30, flat: false,
            arrived: { path in if path == "a.bin" { failed.store(true, ordering: .releasing) } },
            discarding: { failed.load(ordering: .acquiring) })
        #expect(paths == ["a.bin", "b.bin", "c.bin"])
        #expect(try Data(contentsOf: directory.url.appending(path: "b.bin")).isEmpty)
        #expect(try Data(contentsOf: directory.url.appending(path: "c.bin")).isEmpty)
    }

    @Test func onceDiscardingNothingMoreIsWrittenButTheStreamIsStillChecked() async throws {
        let directory = try TemporaryDirectory()
        let failed = Atomic(false)
        let big = Data(repeating: 7, count: 3 << 20)
        _ = try await FileStream.receive(
            Self.chunks(Self.stream([("a.bin", Data("first".utf8)), ("b.bin", big)]), of: 100_000),
            into: directory.url, limit: 1 << 30, flat: false,
            arrived: { path in if path == "a.bin" { failed.store(true, ordering: .releasing) } },
            discarding: { failed.load(ordering: .acquiring) })
        #expect(try Data(contentsOf: directory.url.appending(path: "a.bin")) == Data("first".utf8))
        #expect(try Data(contentsOf: directory.url.appending(path: "b.bin")).isEmpty)
        // Still parsed and bounded: a malformed rest is refused as before.
        var trailing = Self.stream([("c.bin", Data("c".utf8))])
        trailing.writeString("!")
        await #expect(throws: APIError.self) {
            _ = try await FileStream.receive(
                Self.chunks(trailing, of: 3), into: directory.url.appending(path: "x"), limit: 1 << 30, flat: false,
                discarding: { true })
        }
    }
}
