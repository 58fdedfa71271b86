import Foundation
import TestSupport
import Testing

@testable import VaultClient

/// A pull lands atomically and only under the directory the caller named, whatever paths the server sends.
@Suite struct VaultClientFilesTests {
    @Test(arguments: ["../escape", "/etc/passwd", "a/../../escape", "a//b", "./a", "", "a/."])
    func aServerNamedPathCannotLeaveTheOutputDirectory(_ path: String) throws {
        let work = try TemporaryDirectory()
        let root = work.url.appending(path: "out")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: false)
        let error = try #require(throws: VaultClientError.self) {
            try VaultClient.writeNew(Data("x".utf8), at: path, under: root)
        }
        #expect(error.kind == .integrity)
        #expect(!FileManager.default.fileExists(atPath: work.url.appending(path: "escape").path))
    }

    @Test func aFailedPullLeavesNoDirectoryAndNoStagingBehind() async throws {
        let work = try TemporaryDirectory()
        let target = work.url.appending(path: "model")
        struct Boom: Error {}
        await #expect(throws: Boom.self) {
            try await VaultClient.writeAtomically(into: target) { staging in
                try VaultClient.writeNew(Data("half".utf8), at: "weights.bin", under: staging)
                throw Boom()
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.url.path).isEmpty)
    }

    @Test func aPullFillsANewOrEmptyDirectoryAndRefusesAFullOne() async throws {
        let work = try TemporaryDirectory()
        let target = work.url.appending(path: "model")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        try await VaultClient.writeAtomically(into: target) { staging in
            try VaultClient.writeNew(Data("w".utf8), at: "dir/weights.bin", under: staging)
        }
        #expect(try Data(contentsOf: target.appending(path: "dir/weights.bin")) == Data("w".utf8))
        let error = try await #require(throws: VaultClientError.self) {
            try await VaultClient.writeAtomically(into: target) { _ in }
        }
        #expect(error.kind == .invalidInput)
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.url.path) == ["model"])
    }

    @Test func pushRefusesSymbolicLinksInsideTheModel() throws {
        let work = try TemporaryDirectory()
        let model = work.url.appending(path: "m")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: false)
        try Data("w".utf8).write(to: model.appending(path: "weights.bin"))
        #expect(try VaultClient.modelFiles(at: model) == ["weights.bin": Data("w".utf8)])
        try FileManager.default.createSymbolicLink(
            atPath: model.appending(path: "link").path, withDestinationPath: "/etc/passwd")
        let error = try #require(throws: VaultClientError.self) { try VaultClient.modelFiles(at: model) }
        #expect(error.kind == .invalidInput)
    }
}
