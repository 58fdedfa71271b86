import ArgumentParser
import Foundation
import Vault
import VaultClient

/// `modelvault whoami`: the caller's principal, role bindings, permissions and token, locally or through the
/// server (`GET /v1/whoami`). Lets a client check which identity a token is before it acts (review 4, F6).
struct WhoAmI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whoami",
        abstract: "Show the principal a token authenticates, its roles, permissions, token id and expiry.")

    @OptionGroup var options: VaultOptions
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        try show(try await options.open().whoami())
    }

    func show(_ identity: CallerIdentity) throws {
        if json { return try printJSON(identity) }
        print("principal: \(identity.principal) (\(identity.kind.rawValue))")
        print(
            "roles: "
                + (identity.bindings.isEmpty ? "none" : identity.bindings.map(\.description).joined(separator: ", ")))
        print("permissions: " + (identity.permissions.isEmpty ? "none" : identity.permissions.joined(separator: ", ")))
        if let id = identity.tokenID {
            print("token: \(id), expires \(identity.tokenExpiresAt ?? "never")")
        } else {
            print("token: none (client certificate)")
        }
    }
}

extension WhoAmI: RemoteCapable {
    func remote(_ client: VaultClient) async throws {
        try show(try RemoteModels.decode(CallerIdentity.self, try await client.whoami()))
    }
}
