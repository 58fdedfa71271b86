/// The files `modelvault deploy` writes for one model version, rendered in memory.
///
/// ```swift
/// let artifacts = try DeploymentArtifacts(rendering: spec)
/// try artifacts.write(to: outputDirectory)
/// ```
public struct DeploymentArtifacts: Sendable, Equatable {
    /// One rendered file.
    public struct File: Sendable, Equatable {
        /// The path relative to the output directory, `/`-separated.
        public let path: String
        /// The file's text (UTF-8).
        public let contents: String
    }

    /// The files in a fixed order: `deployment_config.yaml`, `Dockerfile`, then `kubernetes/…`.
    public let files: [File]

    /// The directory, relative to the output directory, that holds the Kubernetes manifests.
    public static let kubernetesDirectory = "kubernetes"

    /// Renders every artifact for `spec`, after validating it.
    ///
    /// Rendering is deterministic: the same spec always gives the same bytes.
    public init(rendering spec: DeploymentSpec) throws(DeploymentError) {
        try spec.validate()
        let manifests = spec.kubernetesManifests()
        var files = [
            File(path: "deployment_config.yaml", contents: spec.renderConfig()),
            File(path: "Dockerfile", contents: spec.renderDockerfile()),
        ]
        for manifest in manifests + [spec.kustomization(listing: manifests)] {
            files.append(File(path: Self.kubernetesDirectory + "/" + manifest.fileName, contents: manifest.rendered))
        }
        self.files = files
    }

    /// The contents of the file at `path`, if there is one.
    public subscript(path: String) -> String? {
        files.first { $0.path == path }?.contents
    }
}
