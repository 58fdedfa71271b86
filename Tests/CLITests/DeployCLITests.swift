import Crypto
import Foundation
import TestSupport
import Testing

/// `modelvault deploy` writes artifacts only for a version that verifies, with that version's digests and signer.
@Suite(.serialized) struct DeployCLITests {
    @Test func deployWritesArtifactsForTheVerifiedProductionVersion() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try VaultCLITests.makeVault(in: work)
        let model = work.appending(path: "model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        let weights = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try weights.write(to: model.appending(path: "weights.bin"))

        #expect(try ModelVaultBinary.run(["model", "push", "clf", "model"], environment: env, in: work).status == 0)
        #expect(
            try ModelVaultBinary.run(["model", "alias", "clf@1", "production"], environment: env, in: work).status == 0)

        let deployed = try ModelVaultBinary.run(["deploy", "clf", "-o", "out"], environment: env, in: work)
        #expect(deployed.status == 0, "\(deployed.stderr)")
        let config = try String(contentsOf: work.appending(path: "out/deployment_config.yaml"), encoding: .utf8)
        let digest = SHA256.hash(data: weights).map { String(format: "%02x", $0) }.joined()
        #expect(config.contains(digest))
        #expect(FileManager.default.fileExists(atPath: work.appending(path: "out/Dockerfile").path))
        #expect(FileManager.default.fileExists(atPath: work.appending(path: "out/kubernetes/deployment.yaml").path))

        // A tampered stored blob: nothing is written for a version that does not verify.
        let blobs = try FileManager.default.subpathsOfDirectory(atPath: work.appending(path: "v/models/encrypted").path)
            .filter { $0.hasSuffix(".age") }
        let blob = try #require(blobs.first.map { work.appending(path: "v/models/encrypted/\($0)") })
        var bytes = try Data(contentsOf: blob)
        bytes[bytes.count - 20] ^= 0x01
        try bytes.write(to: blob)
        let refused = try ModelVaultBinary.run(["deploy", "clf@1", "-o", "out2"], environment: env, in: work)
        #expect(refused.status == 6)
        #expect(!FileManager.default.fileExists(atPath: work.appending(path: "out2").path))
    }
}
