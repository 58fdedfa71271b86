import AccessControl
import Foundation
import HummingbirdTesting
import Testing
import Vault
import VaultServer

/// `GET /v1/whoami`: the caller learns its own principal, bindings, permissions and token id and expiry, and
/// nothing about anyone else (the deny rows are in `everyRemoteCommandFollowsThePermissionMatrix`).
@Suite struct VaultServingWhoAmITests {
    @Test func whoamiNamesTheCallerItsPermissionsAndItsTokenButNeverTheToken() async throws {
        let fixture = try await VaultServingRemoteCommandsTests.prepared()
        defer { Task { await fixture.remove() } }
        let admin = try await fixture.adminSession()
        try await admin.addPrincipal("scoped", binding: RoleBinding(role: .mlEngineer, scope: .model("alpha")))
        let issued = try await admin.createToken(for: "scoped", lifetime: 3600)
        try await withConfiguredApplication(fixture) { client in
            let call = VaultServingRemoteCommandsTests.Call(method: .get, path: "/v1/whoami", action: .whoami)
            let response = try await client.json(call, token: issued.token)
            #expect(response.status == .ok)
            let body = String(buffer: response.body)
            #expect(!body.contains(issued.token))
            let identity = try JSONDecoder().decode(CallerIdentity.self, from: Data(body.utf8))
            #expect(identity.principal == "scoped")
            #expect(identity.bindings == [RoleBinding(role: .mlEngineer, scope: .model("alpha"))])
            #expect(identity.tokenID == issued.info.id)
            #expect(identity.tokenExpiresAt == issued.info.expiresAt)
            #expect(identity.permissions.contains("model.pull@model:alpha"))
            #expect(identity.permissions.contains("whoami@model:alpha"))
            #expect(!identity.permissions.contains("model.pull"))
        }
    }
}
