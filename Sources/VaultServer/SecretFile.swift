#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks on files that hold secrets (the TLS private key, a vault identity or passphrase).
public enum SecretFile {
    /// The permission bits a secret file must not have: write for group, anything for others.
    /// 0400 (owner read) passes; so does 0440, which is what the kubelet makes of a Secret volume's 0400 when the
    /// pod sets `fsGroup` (it adds group read for the pod's own group).
    static let forbiddenBits: mode_t = 0o027

    /// Refuses a secret file that is not a regular file, or whose mode lets others read it or lets anyone but its
    /// owner write it. Symbolic links are followed on purpose: Kubernetes mounts Secret keys as links
    /// into a timestamped directory.
    public static func checkPermissions(_ path: String) throws(VaultServerError) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .unreadablePrivateKey }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .unreadablePrivateKey }
        guard info.st_mode & forbiddenBits == 0 else { throw .secretFilePermissions }
    }
}
