public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ModelSignature {
    /// The signature file name the reference tool uses by default.
    public static let defaultSignatureName = "model.sig"

    /// Hashes the model at `model` (a file or directory), signs it, and writes the bundle atomically to
    /// `signature`. A signature inside the model directory is excluded from hashing, as the reference does.
    ///
    /// - Parameter ignoring: model-relative paths to exclude (git metadata is always excluded).
    /// - Returns: the signed manifest.
    @discardableResult
    public static func signModel(
        at model: URL, with key: SigningKey, signature: URL, ignoring: [String] = []
    ) throws -> ModelManifest {
        let ignored = ignoring + [relativePath(of: signature, inside: model)].compactMap { $0 }
        let manifest = try ModelManifest.hashing(modelAt: model, ignoring: ignored)
        let bundle = try sign(
            manifest, with: key, modelName: modelName(of: model),
            ignoredPaths: isDirectory(model) ? ignored.map(ModelManifest.normalized) + ModelManifest.gitPaths : [])
        try AtomicSignatureFile.store(bundle, at: signature)
        return manifest
    }

    /// Verifies the signature file against the model at `model` (a file or directory).
    ///
    /// Paths the signer ignored, `ignoring`, git metadata and the signature itself are skipped.
    ///
    /// - Throws: `ModelSigningError` naming the first file that was modified, is not in the signature, or is
    ///   missing; or `.signatureInvalid` when the signature does not verify with `key`.
    @discardableResult
    public static func verifyModel(
        at model: URL, with key: VerifyingKey, signature: URL, ignoring: [String] = []
    ) throws -> SignedModel {
        guard let bundle = try? Data(contentsOf: signature) else {
            throw ModelSigningError(.unreadable, path: signature.lastPathComponent)
        }
        let signed = try open(bundle, with: key)
        let ignored =
            ignoring + signed.ignoredPaths + [relativePath(of: signature, inside: model)].compactMap { $0 }
        let actual = try ModelManifest.hashing(modelAt: model, ignoring: ignored)
        try compare(signed: signed.manifest, actual: actual)
        return signed
    }

    /// The reference names a model after the last component of its (resolved) path.
    static func modelName(of model: URL) -> String {
        model.standardizedFileURL.resolvingSymlinksInPath().lastPathComponent
    }

    static func isDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// `path` relative to `directory` if it lies inside it (after resolving links), else nil.
    public static func relativePath(of path: URL, inside directory: URL) -> String? {
        let root = resolved(directory)
        let target = resolved(path)
        guard target.count > root.count, target.starts(with: root) else { return nil }
        return target.dropFirst(root.count).joined(separator: "/")
    }

    /// Path components with symlinks resolved; a missing last component (a signature not yet written) is kept.
    private static func resolved(_ url: URL) -> [String] {
        let standard = url.standardizedFileURL
        let parent = standard.deletingLastPathComponent().resolvingSymlinksInPath()
        let full = parent.appendingPathComponent(standard.lastPathComponent).resolvingSymlinksInPath()
        return full.pathComponents.filter { $0 != "/" }
    }
}

/// Atomic writes for signature files (kept outside `ModelSignature`, whose `open` would shadow the C call).
enum AtomicSignatureFile {
    /// Writes to a temporary file in the same directory, syncs it and renames it over `url`.
    static func store(_ data: Data, at url: URL) throws {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        let failure = ModelSigningError(.writeFailed, path: url.lastPathComponent)
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard descriptor >= 0 else { throw failure }
        var ok = data.withUnsafeBytes { bytes -> Bool in
            var offset = 0
            while offset < bytes.count {
                let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            return true
        }
        ok = ok && fsync(descriptor) == 0
        ok = close(descriptor) == 0 && ok
        guard ok, rename(temporary.path, url.path) == 0 else {
            unlink(temporary.path)
            throw failure
        }
    }
}
