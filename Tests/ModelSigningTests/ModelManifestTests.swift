import Crypto
import Testing

@testable import ModelSigning

private func digest(_ text: String) -> [UInt8] { Array(SHA256.hash(data: Array(text.utf8))) }

@Test(arguments: ["../x", "a/../b", "/etc/passwd", "a//b", "", "a/./b", "a/", "..", "a\\..\\b"])
func manifestRejectsNamesThatEscapeTheModel(name: String) {
    #expect(throws: ModelSigningError(.invalidResourceName, path: name)) {
        try ModelManifest(entries: [.init(path: name, sha256: digest("x"))])
    }
}

@Test func manifestAcceptsNestedRelativeNames() throws {
    let manifest = try ModelManifest(entries: [.init(path: "a/b/c.bin", sha256: digest("x"))])
    #expect(manifest.entries.map(\.path) == ["a/b/c.bin"])
}

@Test func manifestSortsComponentWiseLikePurePosixPath() throws {
    // "a-c" < "a/b" as strings ('-' < '/'), but Python orders paths by components: ("a", "b") < ("a-c",).
    let names = ["z", "a-c", "a/b", "a.bin", "B"]
    let manifest = try ModelManifest(entries: names.map { .init(path: $0, sha256: digest($0)) })
    #expect(manifest.entries.map(\.path) == ["B", "a/b", "a-c", "a.bin", "z"])
}

@Test func manifestRejectsDuplicatesAndShortDigests() {
    #expect(throws: ModelSigningError(.duplicateResource, path: "a")) {
        try ModelManifest(entries: [.init(path: "a", sha256: digest("1")), .init(path: "a", sha256: digest("2"))])
    }
    #expect(throws: ModelSigningError(.invalidDigest, path: "a")) {
        try ModelManifest(entries: [.init(path: "a", sha256: [1, 2, 3])])
    }
}
