import AccessControl
import AuditLog
import Foundation
import TestSupport
import Testing

@testable import Vault

/// A fake-crypto vault with access control: the first admin's session and helpers to make more.
struct AccessFixture {
    let directory: TemporaryDirectory
    let vault: Vault
    let access: VaultAccess
    let adminToken: String
    let admin: VaultSession

    init() async throws {
        directory = try TemporaryDirectory()
        vault = try TestVault.create(in: directory)
        access = try await VaultAccess.open(vault)
        adminToken = try await access.bootstrap().token
        admin = try await access.authenticate(token: adminToken)
    }

    var auditDirectory: URL { vault.root.appending(path: "audit") }

    /// Adds a principal with one binding and returns a session authenticated with a fresh token of its own.
    func session(_ name: String, _ binding: RoleBinding) async throws -> (VaultSession, IssuedToken) {
        try await admin.addPrincipal(name, binding: binding)
        let issued = try await admin.createToken(for: name)
        return (try await access.authenticate(token: issued.token), issued)
    }

    /// The last audit entry.
    func lastEntry() throws -> AuditEntry {
        try #require(try AuditLogReader(directory: auditDirectory).tail(1).first).entry
    }

    /// Every byte of every file under the vault, for secret scans.
    func everyFileContains(_ needle: String) -> [String] {
        TestVault.allFiles(under: vault.root).filter { url in
            guard let data = FileManager.default.contents(atPath: url.path) else { return false }
            return data.range(of: Data(needle.utf8)) != nil
        }.map(\.lastPathComponent)
    }
}

/// A vault with one model (`m`) pushed through a session and closed, on a host that keeps its high-water mark in
/// `mark`; `token` is the admin's.
struct MarkedVaultFixture {
    let directory: TemporaryDirectory
    let mark: HighWaterMark
    let vault: Vault
    let token: String

    init() async throws {
        directory = try TemporaryDirectory()
        mark = HighWaterMark(directory: directory.url.appending(path: "host-state"))
        vault = try TestVault.create(in: directory)
        let first = try await VaultAccess.open(vault, highWaterMark: mark)
        token = try await first.bootstrap().token
        _ = try await first.authenticate(token: token).pushModel("m", from: .files(["w": Data([1, 2, 3])]))
        try await first.close()
    }
}
