public import Foundation

extension ServingBundle {
    /// What a serving bundle holds, as its signatures say, checked without the deployment identity: a remote
    /// `deploy` reads it to render the Deployment for the bundle it received, and the server to answer with it.
    public struct Contents: Sendable, Equatable {
        /// One served version.
        public struct Version: Sendable, Equatable {
            /// One served file, as the version's signed manifest lists it.
            public struct File: Sendable, Equatable {
                /// The file's relative path.
                public var path: String
                /// The hex SHA-256 of its plaintext.
                public var sha256: String
            }

            /// The model's name.
            public var name: String
            /// The version.
            public var version: Int
            /// Its files.
            public var files: [File]
        }

        /// The deployment id the bundle was made for.
        public var deployment: String
        /// The recipient its files are wrapped for.
        public var recipient: String
        /// The bundle's serial (0 for a bundle without one).
        public var serial: Int
        /// The fingerprint of the vault signing key that signed it.
        public var signerFingerprint: String
        /// The served versions.
        public var versions: [Version]
    }

    /// Checks a bundle as ``open(at:identity:expectedSigner:minimumSerial:)`` does, short of decrypting: the
    /// verifier is the key pinned as `expectedSigner`, the bundle signature covers exactly the files present, and
    /// each version's signature covers its manifest. Throws ``VaultError`` naming the first failure.
    public static func inspect(at directory: URL, expectedSigner: String) throws -> Contents {
        let (index, verifierPEM, fingerprint) = try checkedIndex(
            at: directory, expectedSigner: expectedSigner, minimumSerial: 0, afterFileCheck: {})
        var versions: [Contents.Version] = []
        for entry in index.models {
            let reference = try ModelReference(name: entry.name, selector: .version(entry.version))
            guard entry.version > 0, !versions.contains(where: { $0.name == entry.name }) else {
                throw VaultError(.tampered, "the bundle lists \(reference) twice or with a bad version")
            }
            let manifest = try signedManifest(
                reference, version: entry.version, in: directory, verifierPEM: verifierPEM)
            versions.append(
                Contents.Version(
                    name: entry.name, version: entry.version,
                    files: manifest.files.map { Contents.Version.File(path: $0.path, sha256: $0.sha256) }))
        }
        return Contents(
            deployment: index.deployment, recipient: index.recipient, serial: index.serial ?? 0,
            signerFingerprint: fingerprint, versions: versions)
    }
}
