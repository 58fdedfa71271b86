import Foundation

/// A kept demo vault stays usable (issue #20): its admin token is saved to a 0600 file instead of being lost
/// with the process, or shown on a terminal where it would end up in scrollback and logs.
extension DemoRun {
    /// `DIR.admin-token` beside the vault directory `root`.
    static func adminTokenFile(for root: URL) -> URL {
        root.deletingLastPathComponent().appending(path: root.lastPathComponent + ".admin-token")
    }

    /// Writes the admin token to `adminTokenFile` (if the vault is kept) and says where and how to use it.
    func keepAdminToken(_ token: String) throws {
        guard let file = adminTokenFile else { return }
        try writeSecret(token, to: file.path)
        let vault = root.path(percentEncoded: false)
        say("  admin token written to \(file.path(percentEncoded: false)) (mode 0600); use the vault afterwards with")
        say("    modelvault model list --vault \(vault) --token-file \(file.path(percentEncoded: false))")
    }
}
