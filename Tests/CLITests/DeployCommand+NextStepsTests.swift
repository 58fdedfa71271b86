import Foundation
import TestSupport
import Testing

/// Issue #20: `deploy` hands over the commands that come next, with this deployment's names in them.
@Suite(.serialized) struct DeployNextStepsTests {
    @Test func deployPrintsTheNextCommandsWithItsNames() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        try FileManager.default.createDirectory(at: work.appending(path: "model"), withIntermediateDirectories: true)
        try Data([1, 2, 3]).write(to: work.appending(path: "model/weights.bin"))
        #expect(try ModelVaultBinary.run(["model", "push", "clf", "model"], environment: env, in: work).status == 0)
        #expect(
            try ModelVaultBinary.run(["model", "alias", "clf@1", "production"], environment: env, in: work).status == 0)

        let deployed = try ModelVaultBinary.run(
            [
                "deploy", "clf", "-o", "out", "--namespace", "ml-prod", "--image-tag", "1.2.3",
                "--builder-image", DeployCLITests.builder, "--runtime-image", DeployCLITests.runtime,
            ], environment: env, in: work
        )
        #expect(deployed.status == 0, "\(deployed.stderr)")
        let steps = deployed.stderr
        #expect(steps.contains("next steps:"))
        #expect(steps.contains("docker build -f out/Dockerfile -t "))
        #expect(steps.contains(":1.2.3 ."))
        // Point 13: the pull policy suits the image the Deployment names. That image is always pinned by the
        // registry digest of a pushed image (no local tag), so `Always` (checkov's CKV_K8S_15) pulls exactly those
        // bytes; the steps say to push, not to side-load an image that has no digest to pin.
        #expect(steps.contains("docker push ") && steps.contains("--image-digest"))
        #expect(!steps.contains("kind load"))
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        let pinned = try ModelVaultBinary.run(
            [
                "deploy", "clf", "-o", "pinned", "--image-tag", "1.2.3", "--image-digest", digest,
                "--builder-image", DeployCLITests.builder, "--runtime-image", DeployCLITests.runtime,
            ], environment: env, in: work)
        #expect(pinned.status == 0, "\(pinned.stderr)")
        let manifest = try String(
            contentsOf: work.appending(path: "pinned/kubernetes/deployment.yaml"), encoding: .utf8)
        let imageLine = manifest.split(separator: "\n").first { $0.contains("image:") } ?? ""
        #expect(imageLine.contains(":1.2.3@\(digest)"), "\(imageLine)")
        #expect(manifest.split(separator: "\n").contains { $0.contains("imagePullPolicy") && $0.contains("Always") })
        #expect(steps.contains("kubectl -n ml-prod create secret tls modelvault-tls"))
        #expect(
            steps.contains(
                "kubectl -n ml-prod create secret generic modelvault-clf-identity --from-file=identity=out/secrets/identity"
            ))
        #expect(!steps.contains("passphrase"), "the pod never gets the vault passphrase")
        #expect(
            steps.contains(
                "tar -C out/bundle -cf - . | kubectl -n ml-prod exec -i bundle-copy -- tar -C /data/bundle -xf -"))
        #expect(steps.contains("kubectl apply -k out/kubernetes"))
        // Every file the steps name was written.
        for file in [
            "out/Dockerfile", "out/kubernetes/namespace.yaml", "out/kubernetes/persistentvolumeclaim.yaml",
            "out/secrets/identity", "out/bundle/bundle.json",
        ] {
            #expect(FileManager.default.fileExists(atPath: work.appending(path: file).path), "\(file)")
        }
        // The helper pod's overrides are valid JSON once the shell has put the claim's name in.
        let line = try #require(steps.split(separator: "\n").first { $0.contains("run bundle-copy") })
        let start = try #require(line.range(of: "--overrides='")).upperBound
        let json = String(line[start...].dropLast()).replacingOccurrences(of: #"'"$claim"'"#, with: "claim")
        let pod = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        #expect(pod?["spec"] != nil)
    }
}
