import Foundation
import TestSupport
import Testing

/// `modelvault convert`: 0 converted, 7 refused by the scan, 5 not a plain tensor checkpoint or the output exists,
/// 4 no such input, 2 usage.
@Suite struct ConvertCommandTests {
    @Test func exitCodesNameWhatFailed() throws {
        let work = try TemporaryDirectory()
        try Data("cos\nsystem\n(S'id'\ntR.".utf8).write(to: work.url.appending(path: "evil.pt"))
        try Data([0x80, 0x04, 0x4E, 0x2E]).write(to: work.url.appending(path: "none.pt"))
        let evil = try ModelVaultBinary.run(["convert", "evil.pt", "-o", "evil.safetensors"], in: work.url)
        #expect(evil.status == 7, "\(evil.stderr)")
        #expect(evil.stderr.contains("pickle.global.dangerous"))
        let plain = try ModelVaultBinary.run(["convert", "none.pt", "-o", "none.safetensors"], in: work.url)
        #expect(plain.status == 5)
        #expect(plain.stderr.contains("not a PyTorch checkpoint"))
        let missing = try ModelVaultBinary.run(["convert", "absent.pt", "-o", "x.safetensors"], in: work.url)
        #expect(missing.status == 4)
        let usage = try ModelVaultBinary.run(["convert", "none.pt"], in: work.url)
        #expect(usage.status == 2)
        let left = try FileManager.default.contentsOfDirectory(atPath: work.url.path).sorted()
        #expect(left == ["evil.pt", "none.pt"])
    }

    @Test func aTorchStateDictConvertsOnceAndIsNeverOverwritten() throws {
        guard Interop.pythonCanImport("torch") else { try Interop.skipOrFail("python3 with torch") }
        let work = try TemporaryDirectory()
        let written = try ChildProcess.python(
            "import sys, torch; torch.save(torch.nn.Linear(3, 2).state_dict(), sys.argv[1])",
            arguments: [work.url.appending(path: "model.pt").path], mergesErrors: true
        ).run()
        try #require(written.status == 0, "\(written.stdout)")
        let converted = try ModelVaultBinary.run(["convert", "model.pt", "-o", "model.safetensors"], in: work.url)
        #expect(converted.status == 0, "\(converted.stderr)")
        #expect(converted.stdout.contains("converted 2 tensors (pytorch-zip)"))
        let again = try ModelVaultBinary.run(["convert", "model.pt", "-o", "model.safetensors"], in: work.url)
        #expect(again.status == 5)
        #expect(again.stderr.contains("refusing to overwrite"))
    }
}
