import Testing

@testable import Vault

@Suite struct VaultReferenceTests {
    @Test func parsesModelReferences() throws {
        #expect(try ModelReference(parsing: "iris") == ModelReference(name: "iris"))
        #expect(try ModelReference(parsing: "iris@3") == ModelReference(name: "iris", selector: .version(3)))
        #expect(
            try ModelReference(parsing: "iris:production")
                == ModelReference(name: "iris", selector: .alias("production")))
        #expect(try ModelReference(parsing: "iris@3").description == "iris@3")
    }

    @Test(arguments: ["", "../x", ".hidden", "a/b", "iris@", "iris@x", "iris@0", "iris:", "na me"])
    func rejectsBadModelReferences(_ text: String) async {
        do {
            _ = try ModelReference(parsing: text)
            Issue.record("accepted an invalid reference")
        } catch let error as VaultError {
            #expect([.invalidName, .invalidReference].contains(error.code))
        } catch {
            Issue.record("unexpected error type")
        }
    }

    @Test func parsesDatasetReferences() throws {
        #expect(try DatasetReference(parsing: "cancer@2") == DatasetReference(name: "cancer", version: 2))
        #expect(try DatasetReference(parsing: "cancer").version == nil)
        #expect(throws: VaultError.self) { try DatasetReference(parsing: "cancer@two") }
    }

    @Test(arguments: ["../etc/passwd", "/abs", "a//b", "a/./b", ".modelvault/manifest.json", ""])
    func rejectsUnsafePaths(_ path: String) {
        #expect(throws: VaultError.self) { try VaultNames.validatePath(path) }
    }

    @Test func acceptsNestedPaths() throws {
        try VaultNames.validatePath("weights/layer1/model.safetensors")
        try VaultNames.validatePath(".hidden-file")
    }
}
