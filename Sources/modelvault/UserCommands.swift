import AccessControl
import ArgumentParser
import Foundation
import Vault

/// An admin token handed out by `init` or `user bootstrap`: `--json`'s shape (the token is in it unless written to
/// a file).
struct IssuedAdminToken: Encodable {
    var principal: String
    var id: String
    var expiresAt: String?
    var token: String?
    var file: String?
}

/// Creates the first admin of a new (or pre-access-control) vault and hands out its token once: printed, or
/// written to `tokenOut` (0600). With `json`, `prefix` (the vault `init` made) is merged into one JSON document.
func printFirstAdminToken(
    _ vault: Vault, tokenOut: String?, lifetime: TimeInterval? = TokenLifetime.default, json: Bool = false,
    jsonPrefix: InitResult? = nil
) async throws {
    let access = try await VaultAccess.open(
        vault, highWaterMark: .standard, witnessConnector: HTTPSWitnessTransport.connector)
    let issued = try await access.bootstrap(lifetime: lifetime)
    try await access.close()
    let expiry = issued.info.expiresAt.map { "expires \($0)" } ?? "no expiry"
    if let tokenOut { try writeSecret(issued.token, to: tokenOut) }
    if json {
        let admin = IssuedAdminToken(
            principal: issued.info.principal, id: issued.info.id, expiresAt: issued.info.expiresAt,
            token: tokenOut == nil ? issued.token : nil, file: tokenOut)
        guard var result = jsonPrefix else { return try printJSON(admin) }
        result.admin = admin
        result.auditKeyFingerprint = access.verifier.fingerprint
        return try printJSON(result)
    }
    if jsonPrefix != nil {
        print(
            "audit key fingerprint: \(access.verifier.fingerprint) (pin it for `audit verify-proof --key-fingerprint`)")
    }
    if let tokenOut {
        print(
            "first admin: \(issued.info.principal) (token id \(issued.info.id), \(expiry)); token written to \(tokenOut)"
        )
    } else {
        print("first admin: \(issued.info.principal) (token id \(issued.info.id), \(expiry))")
        print("admin API token (shown once, store it safely): \(issued.token)")
    }
}

/// `modelvault user`: principals (people and service accounts).
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Principals: add, list, remove (and bootstrap an older vault).",
        subcommands: [UserAdd.self, UserList.self, UserRemove.self, UserBootstrap.self, UserCertificate.self])
}

/// `modelvault user add NAME --role ROLE [--scope S] [--service]`.
struct UserAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add a principal with a role (issue a token with `token create NAME`).")

    @OptionGroup var options: VaultOptions
    @Argument(help: "The principal's name.") var name: String
    @Option(name: .long, help: "The role: \(Role.allCases.map(\.rawValue).joined(separator: ", ")).") var role: String
    @Option(name: .long, help: "global (default), model:NAME or dataset:NAME.") var scope: String?
    @Flag(name: .long, help: "A service account rather than a person.") var service = false
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        let binding = try parseBinding(role: role, scope: scope)
        let session = try await options.open()
        let principal = try await session.addPrincipal(name, kind: service ? .service : .person, binding: binding)
        try printResult(
            json: json, ["principal": principal.name, "kind": principal.kind.rawValue, "binding": "\(binding)"],
            text: "added \(principal.kind.rawValue) \(principal.name): \(binding)")
    }
}

/// `modelvault user list`.
struct UserList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List principals and roles.")

    @OptionGroup var options: VaultOptions
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        try show(try await options.open().principals())
    }

    func show(_ principals: [Principal]) throws {
        if json { return try printJSON(principals) }
        printTable(
            ["NAME", "KIND", "ROLES"],
            principals.map { principal in
                let roles = principal.bindings.map(\.description).joined(separator: ",")
                return [principal.name, principal.kind.rawValue, roles.isEmpty ? "<none>" : roles]
            })
    }
}

/// `modelvault user remove NAME`.
struct UserRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove a principal: its roles go, its tokens are revoked.")

    @OptionGroup var options: VaultOptions
    @Argument(help: "The principal's name.") var name: String
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        try await options.open().removePrincipal(name)
        try printResult(json: json, ["removed": name], text: "removed \(name)")
    }
}

/// `modelvault user bootstrap`: the first admin of a vault made before access control, or (`--break-glass`) an
/// expiring admin token for a vault whose admins are locked out. The vault passphrase or identity is enough.
struct UserBootstrap: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bootstrap",
        abstract: "Create the first admin, or with --break-glass mint an expiring admin token (needs the passphrase).")

    @OptionGroup var options: VaultOptions
    @Option(name: .shortAndLong, help: "Write the admin's API token to this file (0600).") var output: String?
    @Option(name: .customLong("token-out"), help: .hidden) var legacyTokenOut: String?
    @Flag(name: .customLong("break-glass"), help: "Mint an audited, expiring admin token on a vault that has admins.")
    var breakGlass = false
    @Option(name: .long, help: "With --break-glass: the admin principal (created if missing).") var name = "admin"
    @Option(name: .long, help: "With --break-glass: the token's lifetime, at most 7d.")
    var expires = "24h"
    @Flag(name: .long, help: "Print JSON (the token is in it unless -o is given).") var json = false

    func run() async throws {
        let tokenOut = output ?? legacyTokenOut
        guard breakGlass else {
            return try await printFirstAdminToken(try options.unlock(), tokenOut: tokenOut, json: json)
        }
        let lifetime = try TokenLifetime.parse(expires)
        let access = try await VaultAccess.open(
            try options.unlock(), highWaterMark: .standard, witnessConnector: HTTPSWitnessTransport.connector)
        let issued = try await access.breakGlass(admin: name, lifetime: lifetime)
        try await access.close()
        let expiry = issued.info.expiresAt ?? "?"
        if let tokenOut { try writeSecret(issued.token, to: tokenOut) }
        if json {
            return try printJSON(
                IssuedAdminToken(
                    principal: name, id: issued.info.id, expiresAt: issued.info.expiresAt,
                    token: tokenOut == nil ? issued.token : nil, file: tokenOut))
        }
        if let tokenOut {
            print("break-glass admin token \(issued.info.id) for \(name) (expires \(expiry)) written to \(tokenOut)")
        } else {
            progress("break-glass admin token \(issued.info.id) for \(name) (expires \(expiry)); shown once:")
            print(issued.token)
        }
    }
}

/// `modelvault role`: role bindings.
struct RoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "role", abstract: "Role bindings: grant, revoke.", subcommands: [RoleGrant.self, RoleRevoke.self])
}

/// `modelvault role grant NAME ROLE [--scope S]`.
struct RoleGrant: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "grant", abstract: "Grant a role to a principal.")

    @OptionGroup var options: VaultOptions
    @Argument(help: "The principal's name.") var name: String
    @Argument(help: "The role.") var role: String
    @Option(name: .long, help: "global (default), model:NAME or dataset:NAME.") var scope: String?
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        let binding = try parseBinding(role: role, scope: scope)
        try await options.open().grant(binding, to: name)
        try printResult(
            json: json, ["principal": name, "granted": "\(binding)"], text: "granted \(binding) to \(name)")
    }
}

/// `modelvault role revoke NAME ROLE [--scope S]`.
struct RoleRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a principal's role.")

    @OptionGroup var options: VaultOptions
    @Argument(help: "The principal's name.") var name: String
    @Argument(help: "The role.") var role: String
    @Option(name: .long, help: "global (default), model:NAME or dataset:NAME.") var scope: String?
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        let binding = try parseBinding(role: role, scope: scope)
        try await options.open().revoke(binding, from: name)
        try printResult(
            json: json, ["principal": name, "revoked": "\(binding)"], text: "revoked \(binding) from \(name)")
    }
}

/// `modelvault token`: API tokens.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "API tokens: create (shown once), list, revoke.",
        subcommands: [TokenCreate.self, TokenList.self, TokenRevoke.self])
}

/// `modelvault token create NAME [--expires 30d] [-o FILE]`.
struct TokenCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create an API token for a principal; it is shown once.",
        discussion: """
            Examples:
              modelvault token create alice --expires 30d -o alice.token
              modelvault token create ci --expires 12h --json
            """)

    @OptionGroup var options: VaultOptions
    @Argument(help: "The principal's name.") var name: String
    @Option(name: .long, help: "Lifetime, e.g. 12h, 30d, 2w, or never.") var expires = TokenLifetime.defaultText
    @Option(name: .shortAndLong, help: "Write the token to this file (0600) instead of printing it.")
    var output: String?
    @Option(name: .customLong("out"), help: .hidden) var legacyOut: String?
    @Flag(name: .long, help: "Print JSON (the token is in it unless -o is given).") var json = false

    /// `-o/--output`, or its old spelling `--out`.
    var out: String? { output ?? legacyOut }

    /// `--json`'s shape.
    struct Output: Encodable {
        var id: String
        var principal: String
        var expiresAt: String?
        var token: String?
        var file: String?
    }

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        let lifetime = try TokenLifetime.parseOrNever(expires)
        let issued = try await options.open().createToken(for: name, lifetime: lifetime)
        try present(token: issued.token, info: issued.info)
    }

    /// Writes or prints a token issued locally or by the server.
    func present(token: String, info: TokenInfo) throws {
        let expiry = info.expiresAt.map { "expires \($0)" } ?? "no expiry"
        if let out { try writeSecret(token, to: out) }
        if json {
            return try printJSON(
                Output(
                    id: info.id, principal: name, expiresAt: info.expiresAt, token: out == nil ? token : nil,
                    file: out))
        }
        if let out {
            print("token \(info.id) for \(name) (\(expiry)) written to \(out)")
        } else {
            progress("token \(info.id) for \(name) (\(expiry)); shown once:")
            print(token)
        }
    }
}

/// `modelvault token list`.
struct TokenList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List token ids, owners, expiry and state (never the tokens).")

    @OptionGroup var options: VaultOptions
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        try show(try await options.open().tokens())
    }

    func show(_ tokens: [TokenInfo]) throws {
        if json { return try printJSON(tokens) }
        printTable(
            ["ID", "PRINCIPAL", "STATE", "CREATED", "EXPIRES"],
            tokens.map { [$0.id, $0.principal, $0.state, $0.createdAt, $0.expiresAt ?? "never"] })
    }
}

/// `modelvault token revoke ID`.
struct TokenRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a token by id.")

    @OptionGroup var options: VaultOptions
    @Argument(help: "The token id (from `token list`).") var id: String
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        try await options.open().revokeToken(id: id)
        try printResult(json: json, ["revoked": id], text: "revoked token \(id)")
    }
}
