import AccessControl
import ArgumentParser
import Foundation
import Vault
import VaultClient

/// `--server URL` (or `MODELVAULT_SERVER`) and `--ca-file FILE` (or `MODELVAULT_CA_FILE`): remote mode.
///
/// In remote mode a command talks only to the server's API with the caller's token: it never opens the vault
/// directory and needs no passphrase or identity. A command the server cannot do yet fails with "not available in
/// remote mode"; it never falls back to a local vault.
struct RemoteOptions: ParsableArguments {
    @Option(
        name: .customLong("server"),
        help: "Remote mode: the server's URL, e.g. https://vault.example:8443 (default: $MODELVAULT_SERVER).")
    var server: String?

    @Option(
        name: .customLong("ca-file"),
        help: """
            PEM certificates to trust for --server: a private CA or the server's self-signed certificate \
            (default: $MODELVAULT_CA_FILE, else the system's roots).
            """)
    var caFile: String?

    /// The server's URL when remote mode is on.
    var serverURL: String? {
        if let server { return server }
        if let value = ProcessInfo.processInfo.environment["MODELVAULT_SERVER"], !value.isEmpty { return value }
        return nil
    }

    /// The CA file, when one is named.
    var caPath: String? {
        if let caFile { return caFile }
        if let value = ProcessInfo.processInfo.environment["MODELVAULT_CA_FILE"], !value.isEmpty { return value }
        return nil
    }
}

/// A command that does its work through the server when remote mode is on. Any other command that takes
/// `VaultOptions` is refused in remote mode before it runs (`RemoteMode.refuseUnsupported`).
protocol RemoteCapable {}

enum RemoteMode {
    /// Refuses `command` when remote mode is on and the command cannot work through the server, naming it.
    static func refuseUnsupported(_ command: any ParsableCommand) throws {
        guard !(command is any RemoteCapable), !(command is Serve), let options = vaultOptions(of: command),
            options.remote.serverURL != nil
        else { return }
        let name = path(to: type(of: command), under: ModelVaultCommand.self)?.joined(separator: " ") ?? "this command"
        throw CLIError.notInRemoteMode("`\(name)`")
    }

    /// The subcommand names leading from `root` to `target`, e.g. `["keys", "list"]`.
    private static func path(to target: any ParsableCommand.Type, under root: any ParsableCommand.Type) -> [String]? {
        for child in root.configuration.subcommands {
            let name = child.configuration.commandName ?? String(describing: child).lowercased()
            if ObjectIdentifier(child) == ObjectIdentifier(target) { return [name] }
            if let rest = path(to: target, under: child) { return [name] + rest }
        }
        return nil
    }

    /// The command's `VaultOptions`, found by reflection: every vault command holds one as an option group.
    private static func vaultOptions(of command: any ParsableCommand) -> VaultOptions? {
        for child in Mirror(reflecting: command).children {
            if let group = child.value as? OptionGroup<VaultOptions> { return group.wrappedValue }
        }
        return nil
    }
}

extension CLIError {
    /// What a command (or one of its flags) answers in remote mode when the server cannot do it.
    static func notInRemoteMode(_ what: String) -> CLIError {
        CLIError(
            "\(what) is not available in remote mode (--server / MODELVAULT_SERVER): the server has no route for it "
                + "yet; run it locally with the vault's key (break-glass admin)",
            status: .usage)
    }
}

extension VaultOptions {
    /// Whether a server is given (remote mode).
    var isRemote: Bool { remote.serverURL != nil }

    /// Refuses local vault access in remote mode: nothing falls back to the vault directory.
    func requireLocal() throws {
        if isRemote { throw CLIError.notInRemoteMode("this command") }
    }

    /// In remote mode, runs `body` with a client holding the caller's token and returns true; otherwise returns
    /// false without reading anything.
    func whenRemote(_ body: (VaultClient) async throws -> Void) async throws -> Bool {
        guard let server = remote.serverURL else { return false }
        var pem: String?
        if let path = remote.caPath {
            let data = try CLIFiles.read(path, what: "CA file")
            guard data.count <= 1 << 20 else {
                throw CLIError("the CA file \(path) is too large", status: .invalidInput)
            }
            pem = String(decoding: data, as: UTF8.self)
        }
        let configuration = try VaultClientConfiguration(
            server: server, trustedCertificatesPEM: pem, token: try token.read())
        try await VaultClient.with(configuration, body)
        return true
    }

    /// Warns when a token without a global admin binding is used with a local vault key: the key alone is admin
    /// access to everything (local mode is break-glass), so the token's role does not limit what this user can do.
    static func warnIfNotAdmin(_ session: VaultSession) {
        guard !session.caller.bindings.contains(RoleBinding(role: .admin, scope: .global)) else { return }
        FileHandle.standardError.write(
            Data(
                ("modelvault: warning: \(session.caller.principal) is not an admin, but holds the vault's key: "
                    + "whoever holds the passphrase or identity is an admin (local mode is break-glass). Work through "
                    + "the server instead (--server or MODELVAULT_SERVER, with your token only)\n").utf8))
    }
}
