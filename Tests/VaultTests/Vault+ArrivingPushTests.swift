import Foundation
import TestSupport
import Testing

@testable import Vault

/// A push fed one file at a time while the upload is still arriving (the server's streamed `model push`).
@Suite struct VaultArrivingPushTests {
    /// The staged blobs (`*.age`) in the vault's staging areas right now.
    private func stagedBlobs(_ vault: Vault) -> [String] {
        let staging = vault.root.appending(path: ".staging").path(percentEncoded: false)
        return (FileManager.default.subpaths(atPath: staging) ?? []).filter { $0.hasSuffix(".age") }
    }

    /// The overlap itself: the first file is encrypted into staging before the upload has sent the second, and
    /// the version holds both once the upload ends.
    @Test func eachFileIsEncryptedWhileTheNextOneIsStillArriving() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        let upload = directory.url.appending(path: "upload")
        try FileManager.default.createDirectory(at: upload, withIntermediateDirectories: true)
        try Data(repeating: 1, count: 300_000).write(to: upload.appending(path: "a.bin"))
        let (paths, arrivals) = AsyncThrowingStream.makeStream(of: String.self)
        let push = Task { try await vault.pushModel("m", from: .arriving(root: upload, paths: paths)) }
        arrivals.yield("a.bin")
        var waited = 0
        while stagedBlobs(vault).isEmpty && waited < 1_000 {
            try await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        let blobs = stagedBlobs(vault)
        #expect(blobs.count == 1)
        #expect(blobs.first?.hasSuffix("/a.bin.age") == true)
        // Only now does the second file exist.
        try FileManager.default.createDirectory(at: upload.appending(path: "sub"), withIntermediateDirectories: true)
        try Data("second".utf8).write(to: upload.appending(path: "sub/b.txt"))
        arrivals.yield("sub/b.txt")
        arrivals.yield(ModelSource.endOfUpload)
        arrivals.finish()
        let info = try await push.value
        #expect(info.files.map(\.path).sorted() == ["a.bin", "sub/b.txt"])
        let out = directory.url.appending(path: "out")
        try await vault.pullModel(ModelReference(parsing: info.reference), to: out)
        #expect(try Data(contentsOf: out.appending(path: "sub/b.txt")) == Data("second".utf8))
        #expect(try Data(contentsOf: out.appending(path: "a.bin")) == Data(repeating: 1, count: 300_000))
        let record = try #require(try await vault.scanRecord(ModelReference(parsing: info.reference)))
        #expect(record.files.map(\.path).sorted() == ["a.bin", "sub/b.txt"])
    }

    /// The attack: a hostile pickle sent after a benign file. The push refuses at that file, before the upload has
    /// even ended, and leaves no version and nothing staged.
    @Test func aHostileFileRefusesThePushBeforeTheUploadEndsAndLeavesNothing() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        let upload = directory.url.appending(path: "upload")
        try FileManager.default.createDirectory(at: upload, withIntermediateDirectories: true)
        try HostilePickles.benign.write(to: upload.appending(path: "a.pkl"))
        try HostilePickles.osSystem.write(to: upload.appending(path: "weights.bin"))
        let (paths, arrivals) = AsyncThrowingStream.makeStream(of: String.self)
        arrivals.yield("a.pkl")
        arrivals.yield("weights.bin")
        // The stream is left open: the refusal must not wait for the upload's end.
        await expectVaultError(.scanRefused) {
            try await vault.pushModel("evil", from: .arriving(root: upload, paths: paths))
        }
        arrivals.finish()
        #expect(try await vault.models().isEmpty)
        #expect(stagedBlobs(vault).isEmpty)
    }

    /// An upload that fails after some files arrived (a client gone, a malformed stream) stores nothing.
    @Test func aFailedUploadLeavesNoVersionAndNothingStaged() async throws {
        struct UploadBroke: Error {}
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        let upload = directory.url.appending(path: "upload")
        try FileManager.default.createDirectory(at: upload, withIntermediateDirectories: true)
        try Data("first".utf8).write(to: upload.appending(path: "a.bin"))
        let (paths, arrivals) = AsyncThrowingStream.makeStream(of: String.self)
        arrivals.yield("a.bin")
        arrivals.finish(throwing: UploadBroke())
        await #expect(throws: UploadBroke.self) {
            try await vault.pushModel("m", from: .arriving(root: upload, paths: paths))
        }
        #expect(try await vault.models().isEmpty)
        #expect(stagedBlobs(vault).isEmpty)
    }

    /// The attack (review of the arriving push, F1): a server shut down mid-upload cancels the push, and the path
    /// stream of a cancelled task ends as if the upload had: without the end marker nothing is committed, whether
    /// the stream just ends or the task is cancelled.
    @Test func aPushWithoutTheEndMarkerOrCancelledCommitsNothing() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        let upload = directory.url.appending(path: "upload")
        try FileManager.default.createDirectory(at: upload, withIntermediateDirectories: true)
        try Data("first".utf8).write(to: upload.appending(path: "a.bin"))
        let (ended, endedArrivals) = AsyncThrowingStream.makeStream(of: String.self)
        endedArrivals.yield("a.bin")
        endedArrivals.finish()
        await expectVaultError(.unreadableInput) {
            try await vault.pushModel("m", from: .arriving(root: upload, paths: ended))
        }
        let (open, openArrivals) = AsyncThrowingStream.makeStream(of: String.self)
        openArrivals.yield("a.bin")
        let push = Task { try await vault.pushModel("m", from: .arriving(root: upload, paths: open)) }
        var waited = 0
        while stagedBlobs(vault).isEmpty && waited < 1_000 {
            try await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        push.cancel()
        await #expect(throws: (any Error).self) { try await push.value }
        openArrivals.finish()
        #expect(try await vault.models().isEmpty)
        #expect(stagedBlobs(vault).isEmpty)
    }

    /// What a directory push refuses, an arriving one refuses too: a symbolic link in place of a file (never
    /// followed), an empty upload, and a path given twice; `.git` is left out as a directory push leaves it out.
    @Test func linksEmptyUploadsAndDuplicatesAreRefusedAndGitIsLeftOut() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        let upload = directory.url.appending(path: "upload")
        try FileManager.default.createDirectory(at: upload, withIntermediateDirectories: true)
        let secret = directory.url.appending(path: "secret")
        try Data("not yours".utf8).write(to: secret)
        try FileManager.default.createSymbolicLink(at: upload.appending(path: "link"), withDestinationURL: secret)
        try Data("x".utf8).write(to: upload.appending(path: "a.bin"))
        try FileManager.default.createDirectory(at: upload.appending(path: ".git"), withIntermediateDirectories: true)
        try Data("ref".utf8).write(to: upload.appending(path: ".git/HEAD"))

        func push(_ names: [String]) async throws -> ModelVersionInfo {
            let (paths, arrivals) = AsyncThrowingStream.makeStream(of: String.self)
            for name in names { arrivals.yield(name) }
            arrivals.yield(ModelSource.endOfUpload)
            arrivals.finish()
            return try await vault.pushModel("m", from: .arriving(root: upload, paths: paths))
        }
        await expectVaultError(.unreadableInput) { try await push(["link"]) }
        await expectVaultError(.emptyInput) { try await push([]) }
        await expectVaultError(.duplicateFile) { try await push(["a.bin", "a.bin"]) }
        await expectVaultError(.emptyInput) { try await push([".git/HEAD"]) }
        #expect(try await vault.models().isEmpty)
        let info = try await push([".git/HEAD", "a.bin"])
        #expect(info.files.map(\.path) == ["a.bin"])
        #expect(stagedBlobs(vault).isEmpty)
    }
}
