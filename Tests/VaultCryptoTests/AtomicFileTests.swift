import Foundation
import TestSupport
import Testing

@testable import VaultCrypto

/// Files appear whole or not at all: a pending file is invisible until committed, with exactly the permissions
/// asked for, and a discarded or abandoned one leaves nothing behind.
@Suite struct AtomicFileTests {
    static func entries(_ directory: TemporaryDirectory) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.url.path).sorted()
    }

    @Test func pendingFileAppearsOnlyWhenCommitted() throws {
        let directory = try TemporaryDirectory()
        let url = directory.url.appendingPathComponent("model.bin.age")
        let file = try AtomicFile.Pending(url, permissions: 0o600)
        try file.handle.write(contentsOf: Data("sealed bytes".utf8))
        #expect(!FileManager.default.fileExists(atPath: url.path))
        #expect(try Self.entries(directory).count == 1)  // only the hidden temporary file
        try file.commit()
        #expect(try Data(contentsOf: url) == Data("sealed bytes".utf8))
        #expect(try Self.entries(directory) == ["model.bin.age"])
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        // A second commit is refused and changes nothing.
        #expect(throws: AgeError.self) { try file.commit() }
        #expect(try Data(contentsOf: url) == Data("sealed bytes".utf8))
    }

    @Test func discardedAndAbandonedFilesLeaveNothing() throws {
        let directory = try TemporaryDirectory()
        let discarded = try AtomicFile.Pending(directory.url.appendingPathComponent("a"))
        try discarded.handle.write(contentsOf: Data(repeating: 1, count: 1000))
        discarded.discard()
        discarded.discard()
        #expect(throws: AgeError.self) { try discarded.commit() }
        do {
            let abandoned = try AtomicFile.Pending(directory.url.appendingPathComponent("b"))
            try abandoned.handle.write(contentsOf: Data(repeating: 2, count: 1000))
        }
        #expect(try Self.entries(directory).isEmpty)
    }

    @Test func failedWriteLeavesNoFileAndKeepsTheOldOne() throws {
        struct Failure: Error {}
        let directory = try TemporaryDirectory()
        let url = directory.url.appendingPathComponent("weights")
        try AtomicFile.write(Data("old".utf8), to: url)
        #expect(throws: Failure.self) {
            try AtomicFile.write(to: url) { handle in
                try handle.write(contentsOf: Data("partial".utf8))
                throw Failure()
            }
        }
        #expect(try Data(contentsOf: url) == Data("old".utf8))
        #expect(try Self.entries(directory) == ["weights"])
    }
}
