import Foundation
import TestSupport
import Testing

@testable import ModelScan

/// Content the scanner does not recognise must not pass when a loader would still read it: a name that claims a
/// pickle or protobuf model, a pickle whose first opcode is not a classic protocol 0 one, an HDF5 superblock after
/// a user block (review finding F3's "fail closed" and F2's follow-ups).
@Suite struct ModelScannerFailClosedTests {
    @Test func unrecognisedContentNamedLikeAModelIsHighOrMedium() {
        let garbage = Array("this is not any model format at all".utf8)
        for name in [
            "model.onnx", "saved_model.pb", "w.pt", "w.pth", "w.ckpt", "m.pkl", "m.pickle", "m.joblib",
            "dir/MODEL.ONNX",
        ] {
            let report = ModelScanner().scan(bytes: garbage, name: name)
            #expect(report.findings.map(\.rule) == ["format.unrecognised-model"], "\(name): \(report.findings)")
            #expect(report.isRefusedByDefault, "\(name)")
        }
        // Loaders of these formats need a magic number or structure the scanner checks exactly; `.bin` is also raw
        // tensor data (ONNX external data): medium, refused by the strict policy.
        for name in ["weights.bin", "m.h5", "m.hdf5", "m.keras", "a.npy", "a.npz", "m.gguf", "m.safetensors"] {
            let report = ModelScanner().scan(bytes: garbage, name: name)
            #expect(report.findings.map(\.severity) == [.medium], "\(name): \(report.findings)")
            #expect(!report.isRefusedByDefault && !report.refused(by: .strict).isEmpty, "\(name)")
        }
        for name in ["config.json", "README.md", "tokenizer.json", "vocab.txt", "merges.txt", "notes"] {
            let report = ModelScanner().scan(bytes: garbage, name: name)
            #expect(report.findings.map(\.rule) == ["format.unrecognised"], "\(name): \(report.findings)")
            #expect(report.findings.allSatisfy { $0.severity == .low }, "\(name): \(report.findings)")
        }
        // A cut protobuf model (first byte 0x08, a field 1 varint) under any name.
        #expect(ModelScanner().scan(bytes: [0x08, 0x01, 0x12, 0x40, 0x0A], name: "blob").isRefusedByDefault)
    }

    /// `M\x01\x00` (BININT2) and `C` (SHORT_BINBYTES) are valid first opcodes without PROTO; the scanner tried a
    /// pickle only for classic protocol 0 starts, so this `os.system` call was "unrecognised" (low) and passed.
    @Test func aPickleStartingWithAnyOpcodeIsInterpreted() {
        for prefix in [[0x4D, 0x01, 0x00, 0x30], [0x43, 0x01, 0x61, 0x30], [0x50] + Array("id\n0".utf8)] as [[UInt8]] {
            let bytes = prefix + Array("cos\nsystem\n(S'id'\ntR.".utf8)
            let report = ModelScanner().scan(bytes: bytes, name: "data")
            #expect(report.has("pickle.global.dangerous"), "\(prefix): \(report.findings)")
            #expect(report.isRefusedByDefault)
        }
    }

    /// libhdf5 looks for the superblock at 0, 512, 1024, ...: a user block hid the whole file from the walker.
    @Test func anHDF5FileAfterAUserBlockIsWalked() {
        let lambda = Array(#"{"layers": [{"class_name": "Lambda"}]}"#.utf8)
        var file = hdf5File(attributes: [("model_config", lambda)])
        file.replaceSubrange(24..<32, with: le(512, 8))  // base address: the superblock's own offset
        let bytes = [UInt8](repeating: 0x20, count: 512) + file
        let report = ModelScanner().scan(bytes: bytes, name: "model")
        #expect(
            report.findings.contains { $0.rule == "keras.lambda" && $0.member == "model_config" }, "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }
}
