import Crypto
import Deployment
import Foundation
import TestSupport
import Testing

/// `modelvault deploy` writes artifacts only for a version that verifies, with that version's digests and signer.
@Suite(.serialized) struct DeployCLITests {
    /// Digest-pinned bases, as an operator gives them (made-up digests: deploy never looks one up).
    static let builder = "swift:6.3.1-bookworm@sha256:" + String(repeating: "b1", count: 32)
    static let runtime = "gcr.io/distroless/cc-debian12:nonroot@sha256:" + String(repeating: "c2", count: 32)

    /// What the distroless `cc` base documents (glibc's libraries, libgcc, libstdc++, OpenSSL 3): the image may
    /// rely on these being there.
    static let runtimeBaseLibraries: Set<String> = [
        "linux-vdso.so.1", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "libc.so.6", "libm.so.6",
        "libpthread.so.0", "libdl.so.2", "librt.so.1", "libresolv.so.2", "libutil.so.1", "libgcc_s.so.1",
        "libstdc++.so.6", "libgomp.so.1", "libssl.so.3", "libcrypto.so.3",
    ]

    /// Issue #19: every library the built program needs (`ldd`) is in the runtime base's documented contents, is
    /// one the Dockerfile copies next to the program, or is part of the Swift runtime, which the image links in
    /// statically (`--static-swift-stdlib`).
    @Test func everyLibraryTheProgramNeedsIsInTheRuntimeBaseOrBundled() throws {
        try ModelVaultBinary.requireBuilt()
        guard Interop.available("ldd") else { try Interop.skipOrFail("ldd") }
        let listing = try ChildProcess.tool("ldd", [ModelVaultBinary.url.path]).run()
        try #require(listing.status == 0, "\(listing.stderr)")
        var missing: [String] = []
        for line in listing.stdout.split(separator: "\n") {
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard let name = fields.first.map(String.init) else { continue }
            let soname = name.split(separator: "/").last.map(String.init) ?? name
            let resolved = fields.count >= 3 ? String(fields[2]) : name
            let swiftRuntime = resolved.contains("/lib/swift/linux/")
            if !Self.runtimeBaseLibraries.contains(soname) && !DeploymentSpec.bundledLibraries.contains(soname)
                && !swiftRuntime
            {
                missing.append(soname)
            }
        }
        #expect(missing.isEmpty, "needed but neither in the runtime base nor bundled: \(missing)")
    }

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

        // Base image digests are inputs: without them deploy refuses (a usage error) and writes nothing.
        let unpinned = try ModelVaultBinary.run(["deploy", "clf", "-o", "out"], environment: env, in: work)
        #expect(unpinned.status == 2)
        #expect(!FileManager.default.fileExists(atPath: work.appending(path: "out").path))
        let tagOnly = try ModelVaultBinary.run(
            ["deploy", "clf", "-o", "out", "--builder-image", "swift:6.3.1-bookworm", "--runtime-image", Self.runtime],
            environment: env, in: work)
        #expect(tagOnly.status != 0 && tagOnly.stderr.contains("digest"), "\(tagOnly.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.appending(path: "out").path))

        let deployed = try ModelVaultBinary.run(
            ["deploy", "clf", "-o", "out", "--builder-image", Self.builder, "--runtime-image", Self.runtime],
            environment: env, in: work)
        #expect(deployed.status == 0, "\(deployed.stderr)")
        let dockerfile = try String(contentsOf: work.appending(path: "out/Dockerfile"), encoding: .utf8)
        #expect(dockerfile.contains("FROM \(Self.builder) AS build\n"))
        #expect(dockerfile.contains("FROM \(Self.runtime)\n"))
        let config = try String(contentsOf: work.appending(path: "out/deployment_config.yaml"), encoding: .utf8)
        let digest = SHA256.hash(data: weights).map { String(format: "%02x", $0) }.joined()
        #expect(config.contains(digest))
        #expect(FileManager.default.fileExists(atPath: work.appending(path: "out/Dockerfile").path))
        // Without the image digest there is no Deployment yet (a pod never runs an image by tag); the bundle is there.
        #expect(!FileManager.default.fileExists(atPath: work.appending(path: "out/kubernetes/deployment.yaml").path))
        #expect(FileManager.default.fileExists(atPath: work.appending(path: "out/bundle/bundle.sig").path))

        // A tampered stored blob: nothing is written for a version that does not verify.
        let blobs = try FileManager.default.subpathsOfDirectory(atPath: work.appending(path: "v/models/encrypted").path)
            .filter { $0.hasSuffix(".age") }
        let blob = try #require(blobs.first.map { work.appending(path: "v/models/encrypted/\($0)") })
        var bytes = try Data(contentsOf: blob)
        bytes[bytes.count - 20] ^= 0x01
        try bytes.write(to: blob)
        let refused = try ModelVaultBinary.run(
            ["deploy", "clf@1", "-o", "out2", "--builder-image", Self.builder, "--runtime-image", Self.runtime],
            environment: env, in: work)
        #expect(refused.status == 6)
        #expect(!FileManager.default.fileExists(atPath: work.appending(path: "out2").path))
    }
}

/// `modelvault version --json`: version, commit, build date, toolchain and resolved dependencies.
@Suite struct VersionCLITests {
    @Test func versionJSONNamesTheBuild() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let printed = try ModelVaultBinary.run(["version", "--json"], in: directory.url)
        #expect(printed.status == 0, "\(printed.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: printed.stdoutData) as? [String: Any])
        #expect(object["version"] as? String == "0.1.0")
        for key in ["commit", "buildDate", "toolchain"] { #expect(object[key] is String, "\(key)") }
        #expect(object["dependencies"] is [String: Any])

        // The build step the Dockerfile runs: a record of the dependencies resolved for the build.
        let resolved = directory.url.appendingPathComponent("Package.resolved")
        try Data(
            #"{"pins":[{"identity":"swift-nio","kind":"remoteSourceControl","location":"x","state":{"revision":"r","version":"2.101.2"}}],"version":3}"#
                .utf8
        ).write(to: resolved)
        let recorded = try ModelVaultBinary.run(
            ["version", "--json", "--record-resolved", resolved.path], in: directory.url)
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let record = try #require(try JSONSerialization.jsonObject(with: recorded.stdoutData) as? [String: Any])
        #expect((record["dependencies"] as? [String: String]) == ["swift-nio": "2.101.2"])
        #expect((record["buildDate"] as? String)?.hasSuffix("Z") == true)
    }
}
