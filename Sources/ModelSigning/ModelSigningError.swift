/// An error from model signing or verification.
///
/// The description is fixed text that names what failed (a file name at most); it never carries key material.
public struct ModelSigningError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, without detail that could leak secrets.
    public enum Kind: Sendable, Equatable {
        /// A resource name is absolute, contains `..`, or is otherwise not a plain relative path.
        case invalidResourceName
        /// Two manifest entries share a path.
        case duplicateResource
        /// Two manifest entries are distinct spellings of the same Unicode text (e.g. NFC and NFD).
        case equivalentResourceNames
        /// A digest is not 32 bytes of SHA-256.
        case invalidDigest
        /// The PEM text is not an ECDSA P-256, P-384 or P-521 key.
        case unsupportedKey
        /// The signature file is not a well-formed Sigstore bundle of the expected shape.
        case malformedBundle
        /// The bundle uses a serialization this implementation does not verify (only "files" with SHA-256).
        case unsupportedSerialization
        /// The DSSE signature does not verify under the given key, or the key hint names another key.
        case signatureInvalid
        /// The statement's subject digest disagrees with its resources.
        case inconsistentManifest
        /// A file's digest differs from the signed one.
        case fileModified
        /// A file exists in the model but not in the signature.
        case fileNotSigned
        /// A file listed in the signature is missing from the model.
        case fileMissing
        /// The model contains a symbolic link or a special file.
        case unsupportedFileType
        /// A file or directory could not be read.
        case unreadable
        /// The signature could not be written.
        case writeFailed
    }

    /// The category of failure.
    public let kind: Kind
    /// The model-relative path the failure concerns, if any.
    public let path: String?

    init(_ kind: Kind, path: String? = nil) {
        self.kind = kind
        self.path = path
    }

    public var description: String {
        let name = path ?? "?"
        switch kind {
        case .invalidResourceName: return "resource name \(name) is not a relative path inside the model"
        case .duplicateResource: return "resource \(name) appears more than once in the manifest"
        case .equivalentResourceNames:
            return "resource \(name) is a canonically equivalent spelling of another resource in the manifest"
        case .invalidDigest: return "resource \(name) has an invalid SHA-256 digest"
        case .unsupportedKey: return "the key is not a PEM ECDSA P-256, P-384 or P-521 key"
        case .malformedBundle: return "the signature is not a valid model-signing Sigstore bundle"
        case .unsupportedSerialization: return "the signature uses an unsupported serialization (only files/sha256)"
        case .signatureInvalid: return "signature does not verify with the given key"
        case .inconsistentManifest: return "the signed statement's model digest does not match its resources"
        case .fileModified: return "file \(name) was modified"
        case .fileNotSigned: return "file \(name) is not in the signature"
        case .fileMissing: return "file \(name) listed in the signature is missing"
        case .unsupportedFileType: return "\(name) is a symbolic link or special file, which cannot be signed"
        case .unreadable: return "cannot read \(name)"
        case .writeFailed: return "cannot write the signature to \(name)"
        }
    }
}
