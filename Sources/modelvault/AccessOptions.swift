import AccessControl
import ArgumentParser
import Foundation
import Vault
import VaultCrypto

/// `--token-file FILE`, else `MODELVAULT_TOKEN`: who is calling (the passphrase only unlocks keys).
struct TokenOptions: ParsableArguments {
    @Option(name: .customLong("token-file"), help: "A file holding your API token (default: $MODELVAULT_TOKEN).")
    var tokenFile: String?

    /// The caller's token text, trimmed. Never printed.
    func read() throws -> String {
        if let tokenFile {
            return try Self.readPrivate(tokenFile).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let token = ProcessInfo.processInfo.environment["MODELVAULT_TOKEN"], !token.isEmpty {
            return token.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        throw CLIError(
            "no API token: set MODELVAULT_TOKEN or pass --token-file (`modelvault init` printed the first admin token)",
            status: .denied)
    }

    /// The text of a token file that only its owner may read or write. A file others can read has leaked the
    /// token to them already: refuse it (as ssh refuses such a private key) rather than use it. The mode is
    /// checked on the descriptor that is read, so the file cannot be swapped between the check and the read.
    static func readPrivate(_ path: String) throws -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw CLIFiles.unreadable("API token file", path) }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw CLIError("cannot read the API token file \(path): not a regular file", status: .invalidInput)
        }
        guard status.st_mode & 0o077 == 0 else {
            throw CLIError(
                "the API token file is open to other users (mode \(String(status.st_mode & 0o777, radix: 8))): "
                    + "make it private with `chmod 600`, and revoke the token if others may have read it",
                status: .denied)
        }
        // A token is a few dozen bytes; a larger file is not a token file.
        guard let data = try? handle.read(upToCount: 4096), !data.isEmpty else {
            throw CLIError("cannot read the API token file")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

extension VaultOptions {
    /// Unlocks the vault, then authenticates the caller's token: every audited command starts here.
    func open() async throws -> VaultSession {
        try requireLocal()
        guard FileManager.default.fileExists(atPath: root.appending(path: "vault.json").path) else {
            throw CLIError(
                "no vault at \(root.path(percentEncoded: false)) (create one with `modelvault init`)", status: .notFound
            )
        }
        let presented = try self.token.read()
        return try await session(try unlock(), token: presented)
    }

    /// Opens the vault's access control and authenticates `token` against it.
    func session(_ vault: Vault, token: String) async throws -> VaultSession {
        // Closed at exit (any exit): the run's entries end under a signed checkpoint.
        let access = OpenVaults.register(
            try await VaultAccess.open(
                vault, highWaterMark: .standard, witnessConnector: HTTPSWitnessTransport.connector))
        if let recovery = access.auditRecovery {
            FileHandle.standardError.write(Data("modelvault: note: \(recovery)\n".utf8))
        }
        for witness in access.unreachableWitnesses {
            FileHandle.standardError.write(
                Data("modelvault: note: witness \(witness) did not answer; its newest cosignature ages\n".utf8))
        }
        guard try access.hasPrincipals() else {
            throw CLIError(
                "this vault has no principals yet (it predates access control): "
                    + "run `modelvault user bootstrap` to create the first admin")
        }
        let session = try await access.authenticate(token: token)
        Self.warnIfNotAdmin(session)
        return session
    }
}

/// Writes a secret to a new file readable only by its owner (0600), atomically.
func writeSecret(_ text: String, to path: String) throws {
    let url = URL(filePath: path, relativeTo: .currentDirectory()).absoluteURL
    do {
        try AtomicFile.write(Data((text + "\n").utf8), to: url, permissions: 0o600)
    } catch {
        throw CLIError("cannot write \(url.lastPathComponent)")
    }
}

/// Parses `--scope` (default global) into a binding for `role`.
func parseBinding(role: String, scope: String?) throws -> RoleBinding {
    RoleBinding(role: try Role(parsing: role), scope: try scope.map { try Scope($0) } ?? .global)
}
