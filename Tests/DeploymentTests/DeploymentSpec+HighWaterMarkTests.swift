import Deployment
import Foundation
import Testing

/// Review 3: `serve` keeps the host's high-water mark (the only defence against the whole vault directory being put
/// back to an earlier copy) in `$MODELVAULT_STATE_DIR`, else `$XDG_STATE_HOME/modelvault`, else
/// `~/.local/state/modelvault`. The generated serving pod sets neither variable and runs with a read-only root
/// filesystem: the mark lands on the read-only root (so `serve` cannot raise it) or, if a writable home is ever
/// given, on the container's ephemeral layer. Either way the pod that serves the shared vault volume has no mark
/// that outlives a restart, and the writer of that volume can restore it and wait for (or force) one.
@Suite struct DeploymentHighWaterMarkTests {
    @Test func theServingPodKeepsItsHighWaterMarkOnAWritablePersistentVolumeOutsideTheVault() throws {
        let rendered = try Rendered.make(Fixtures.spec())
        defer { rendered.remove() }
        let pod = try rendered.object("kubernetes/deployment.yaml")["spec"]["template"]["spec"]
        let container = pod["containers"][0]
        var environment: [String: String] = [:]
        for variable in container["env"].array {
            if let name = variable["name"].string { environment[name] = variable["value"].string ?? "" }
        }
        let stateDirectory =
            environment["MODELVAULT_STATE_DIR"]
            ?? environment["XDG_STATE_HOME"].map { $0 + "/modelvault" }
        let directory = try #require(
            stateDirectory,
            """
            the serving container sets neither MODELVAULT_STATE_DIR nor XDG_STATE_HOME: its high-water mark would \
            live under the home directory, on the read-only root filesystem
            """)
        let mounts = container["volumeMounts"].array.compactMap {
            mount -> (path: String, name: String, readOnly: Bool)? in
            guard let path = mount["mountPath"].string, let name = mount["name"].string else { return nil }
            return (path, name, mount["readOnly"].bool ?? false)
        }
        let holding = mounts.filter { (mount: (path: String, name: String, readOnly: Bool)) -> Bool in
            directory == mount.path || directory.hasPrefix(mount.path + "/")
        }
        let deepest = holding.max { $0.path.count < $1.path.count }
        let mount = try #require(deepest, "\(directory) is on no volume (the root filesystem is read-only)")
        #expect(!mount.readOnly, "\(mount.path) is mounted read-only")
        let volumes: [JSON] = pod["volumes"].array
        let volume = try #require(volumes.first { (volume: JSON) -> Bool in volume["name"].string == mount.name })
        #expect(!volume["emptyDir"].exists, "\(mount.name) is an emptyDir: the mark is lost with the pod")
        #expect(mount.name != "vault", "the mark must not live on the volume whose writer it guards against")
    }
}
