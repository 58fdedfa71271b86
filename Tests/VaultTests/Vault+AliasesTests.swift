import Foundation
import TestSupport
import Testing

@testable import Vault

@Suite struct VaultAliasesTests {
    @Test func aliasesResolveAndMovesAreRecorded() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        for byte in [UInt8(1), 2, 3] { _ = try await vault.pushModel("m", from: .files(["w": Data([byte])])) }
        #expect(try await vault.setAlias("production", to: ModelReference(parsing: "m@1")) == nil)
        #expect(try await vault.model(ModelReference(parsing: "m:production")).version == 1)
        #expect(try await vault.setAlias("production", to: ModelReference(parsing: "m@3")) == 1)
        try await vault.setAlias("staging", to: ModelReference(parsing: "m@2"))
        #expect(try await vault.loadModel(ModelReference(parsing: "m:production")) == ["w": Data([3])])
        #expect(try await vault.model(ModelReference(parsing: "m@3")).aliases == ["production"])
        let history = try await vault.aliasHistory("m")
        #expect(history.map(\.alias) == ["production", "production", "staging"])
        #expect(history.map(\.fromVersion) == [nil, 1, nil])
        #expect(history.map(\.toVersion) == [1, 3, 2])
        #expect(try await vault.models().first?.aliases == ["production": 3, "staging": 2])
    }

    @Test func aliasesOfUnknownVersionsAndBadNamesAreRefused() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        _ = try await vault.pushModel("m", from: .files(["w": Data([1])]))
        await expectVaultError(.notFound) { try await vault.setAlias("production", to: ModelReference(parsing: "m@4")) }
        await expectVaultError(.invalidName) { try await vault.setAlias("7", to: ModelReference(parsing: "m@1")) }
        await expectVaultError(.invalidName) { try await vault.setAlias("../x", to: ModelReference(parsing: "m@1")) }
    }
}
