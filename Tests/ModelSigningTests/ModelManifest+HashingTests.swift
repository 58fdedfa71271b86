import Crypto
import Foundation
import TestSupport
import Testing

@testable import ModelSigning

@Test func hashingListsEveryFileWithItsSHA256() throws {
    let model = try TemporaryDirectory()
    defer { model.remove() }
    // A file larger than one read chunk checks that streaming covers every chunk.
    let big = Data((0..<(ModelManifest.readChunkSize + 12345)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
    try model.write(big, to: "weights/big.bin")
    try model.write("config", to: "config.json")
    try model.write("", to: "empty")
    try model.write("deep", to: "a/b/c/d.txt")

    let manifest = try ModelManifest.hashing(directoryAt: model.url)
    #expect(manifest.entries.map(\.path) == ["a/b/c/d.txt", "config.json", "empty", "weights/big.bin"])
    #expect(manifest.digest(of: "weights/big.bin") == Array(SHA256.hash(data: big)))
    #expect(manifest.digest(of: "empty") == Array(SHA256.hash(data: Data())))
    #expect(manifest.digest(of: "config.json") == Array(SHA256.hash(data: Data("config".utf8))))
}

@Test func hashingSkipsIgnoredPathsAndGitMetadata() throws {
    let model = try TemporaryDirectory()
    defer { model.remove() }
    try model.write("w", to: "model.bin")
    try model.write("readme", to: "docs/README.md")
    try model.write("other", to: "docs2/keep.txt")
    try model.write("ref", to: ".git/HEAD")
    try model.write("*.tmp", to: ".gitignore")

    let manifest = try ModelManifest.hashing(directoryAt: model.url, ignoring: ["./docs/"])
    #expect(manifest.entries.map(\.path) == ["docs2/keep.txt", "model.bin"])

    let withGit = try ModelManifest.hashing(directoryAt: model.url, ignoringGitPaths: false)
    #expect(withGit.entries.map(\.path).contains(".git/HEAD"))
}

@Test func hashingRefusesSymbolicLinks() throws {
    let model = try TemporaryDirectory()
    defer { model.remove() }
    try model.write("w", to: "model.bin")
    try FileManager.default.createSymbolicLink(
        atPath: model.url.appendingPathComponent("link.bin").path, withDestinationPath: "/etc/hostname")
    #expect(throws: ModelSigningError(.unsupportedFileType, path: "link.bin")) {
        try ModelManifest.hashing(directoryAt: model.url)
    }
}

@Test func hashingASingleFileNamesItDot() throws {
    let model = try TemporaryDirectory()
    defer { model.remove() }
    let file = try model.write("weights", to: "model.safetensors")
    let manifest = try ModelManifest.hashing(modelAt: file)
    #expect(manifest.entries == [.init(path: ".", sha256: Array(SHA256.hash(data: Data("weights".utf8))))])
}
