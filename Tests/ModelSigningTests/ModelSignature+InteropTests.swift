import Crypto
import Foundation
import TestSupport
import Testing

@testable import ModelSigning

/// Interop with PyPI `model-signing` 1.1.1 (`model_signing sign key` / `verify key`), both directions.
@Suite struct ModelSigningInteropTests {
    static let tool = "model_signing"
    /// Probed once: starting the Python tool takes seconds.
    static let toolAvailable = Interop.runs(tool)

    /// A nested model, a key pair as PEM files, and a parent directory to run the tool from.
    struct Workspace {
        let root: TemporaryDirectory
        let key: SigningKey
        var model: URL { root.url.appendingPathComponent("model") }
        var privateKey: URL { root.url.appendingPathComponent("key.pem") }
        var publicKey: URL { root.url.appendingPathComponent("key.pub") }

        init(key: SigningKey) throws {
            root = try TemporaryDirectory()
            self.key = key
            try root.write(Data((0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }), to: "model/weights/x.bin")
            try root.write("a", to: "model/a.bin")
            try root.write("b", to: "model/a-b.bin")
            try root.write("{}", to: "model/config/nested/deeper/params.json")
            try root.write("ignored by both tools", to: "model/.gitignore")
            try root.write(key.pemRepresentation, to: "key.pem")
            try root.write(key.verifyingKey.pemRepresentation, to: "key.pub")
        }

        func python(_ arguments: [String]) throws -> ChildProcess.Output {
            try ChildProcess.tool(ModelSigningInteropTests.tool, arguments, in: root.url, mergesErrors: true).run()
        }
    }

    static let keys: [@Sendable () -> SigningKey] = [
        { .p256(P256.Signing.PrivateKey()) }, { .p384(P384.Signing.PrivateKey()) },
        { .p521(P521.Signing.PrivateKey()) },
    ]

    @Test(arguments: 0..<3)
    func ourSignaturePassesModelSigningVerify(curve: Int) throws {
        guard Self.toolAvailable else { try Interop.skipOrFail(Self.tool) }
        let workspace = try Workspace(key: Self.keys[curve]())
        defer { workspace.root.remove() }
        let signature = workspace.model.appendingPathComponent("model.sig")
        try ModelSignature.signModel(at: workspace.model, with: workspace.key, signature: signature)

        let verify = ["verify", "key", "model", "--signature", "model/model.sig", "--public_key", "key.pub"]
        let accepted = try workspace.python(verify)
        #expect(accepted.status == 0, "model_signing refused our signature: \(accepted.stdout)")

        try workspace.root.write("tampered", to: "model/config/nested/deeper/params.json")
        let refused = try workspace.python(verify)
        #expect(refused.status != 0)
        #expect(refused.stdout.contains("params.json"))
    }

    @Test(arguments: 0..<3)
    func modelSigningSignaturePassesOurVerify(curve: Int) throws {
        guard Self.toolAvailable else { try Interop.skipOrFail(Self.tool) }
        let workspace = try Workspace(key: Self.keys[curve]())
        defer { workspace.root.remove() }
        let signed = try workspace.python([
            "sign", "key", "model", "--private_key", "key.pem", "--signature", "model/model.sig",
        ])
        try #require(signed.status == 0, "model_signing failed to sign: \(signed.stdout)")
        let signature = workspace.model.appendingPathComponent("model.sig")
        let verifyingKey = try VerifyingKey(pem: String(contentsOf: workspace.publicKey, encoding: .utf8))

        let model = try ModelSignature.verifyModel(at: workspace.model, with: verifyingKey, signature: signature)
        #expect(model.manifest == (try ModelManifest.hashing(directoryAt: workspace.model, ignoring: ["model.sig"])))

        try workspace.root.write("new", to: "model/config/extra.txt")
        #expect(throws: ModelSigningError(.fileNotSigned, path: "config/extra.txt")) {
            try ModelSignature.verifyModel(at: workspace.model, with: verifyingKey, signature: signature)
        }
    }

    @Test func modelSigningVerifiesASingleFileModelWeSigned() throws {
        guard Self.toolAvailable else { try Interop.skipOrFail(Self.tool) }
        let workspace = try Workspace(key: Self.keys[0]())
        defer { workspace.root.remove() }
        let file = workspace.model.appendingPathComponent("a.bin")
        try ModelSignature.signModel(
            at: file, with: workspace.key, signature: workspace.root.url.appendingPathComponent("single.sig"))
        let result = try workspace.python([
            "verify", "key", "model/a.bin", "--signature", "single.sig", "--public_key", "key.pub",
        ])
        #expect(result.status == 0, "model_signing refused our single-file signature: \(result.stdout)")
    }
}
