import Foundation
import TestSupport
import Testing

@testable import ModelScan

/// Issue #18: `scan` reports progress from the reads of the file being scanned.
@Suite struct ModelScannerProgressTests {
    @Test func aDeepScanReportsEveryByteOfTheFileReadInOrder() throws {
        let directory = try TemporaryDirectory()
        var archive = ZipWriter()
        for index in 0..<4 { archive.add("data/\(index)", [UInt8](repeating: UInt8(index), count: 300_000)) }
        let path = directory.url.appending(path: "model.zip").path(percentEncoded: false)
        try Data(archive.bytes).write(to: URL(filePath: path))
        var events: [(read: UInt64, size: UInt64)] = []
        _ = try ModelScanner(deep: true).scan(path: path) { read, size in events.append((read, size)) }
        #expect(!events.isEmpty)
        #expect(events.allSatisfy { $0.size == UInt64(archive.bytes.count) })
        #expect(zip(events.dropLast(), events.dropFirst()).allSatisfy { $0.read < $1.read })
        #expect(try #require(events.last).read >= UInt64(archive.bytes.count))
    }
}
