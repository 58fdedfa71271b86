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

/// Issue #20: alias mistakes are refused, not silent.
@Suite struct VaultAliasRulesTests {
    @Test func promotingWithoutAVersionIsRefused() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        for byte in [UInt8(1), 2] { _ = try await vault.pushModel("m", from: .files(["w": Data([byte])])) }
        try await vault.setAlias("staging", to: ModelReference(parsing: "m@1"))
        // `m` alone would promote whatever was pushed last; `m:staging` whatever staging points at by then.
        await expectVaultError(.invalidReference) {
            try await vault.setAlias("production", to: ModelReference(parsing: "m"))
        }
        await expectVaultError(.invalidReference) {
            try await vault.setAlias("production", to: ModelReference(parsing: "m:staging"))
        }
        #expect(try await vault.aliasTarget("production", ofModel: "m") == nil)
    }

    @Test func aliasNamesAreCaseInsensitive() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        for byte in [UInt8(1), 2] { _ = try await vault.pushModel("m", from: .files(["w": Data([byte])])) }
        try await vault.setAlias("production", to: ModelReference(parsing: "m@1"))
        #expect(try await vault.setAlias("Production", to: ModelReference(parsing: "m@2")) == 1)
        #expect(try await vault.models().first?.aliases == ["production": 2])
        #expect(try await vault.model(ModelReference(parsing: "m:PRODUCTION")).version == 2)
    }

    @Test(arguments: ["prod_v1", "Prod.v1", "prod-vl", "prod-vi", "pr0d-v1"])
    func confusableAliasesAreRefused(twin: String) async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        for byte in [UInt8(1), 2] { _ = try await vault.pushModel("m", from: .files(["w": Data([byte])])) }
        try await vault.setAlias("prod-v1", to: ModelReference(parsing: "m@1"))
        await expectVaultError(.invalidName) { try await vault.setAlias(twin, to: ModelReference(parsing: "m@2")) }
        #expect(try await vault.models().first?.aliases == ["prod-v1": 1])
    }

    @Test func aliasesCanBeRemovedAndTheRemovalIsRecorded() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        _ = try await vault.pushModel("m", from: .files(["w": Data([1])]))
        try await vault.setAlias("staging", to: ModelReference(parsing: "m@1"))
        #expect(try await vault.removeAlias("Staging", ofModel: "m") == 1)
        await expectVaultError(.notFound) { try await vault.model(ModelReference(parsing: "m:staging")) }
        await expectVaultError(.notFound) { try await vault.removeAlias("staging", ofModel: "m") }
        let history = try await vault.aliasHistory("m")
        #expect(history.map(\.toVersion) == [1, nil])
        #expect(history.map(\.fromVersion) == [nil, 1])
        #expect(try await vault.models().first?.aliases == [:])
        // The catalog's authenticated state follows the removal: the vault reopens and checks clean.
        #expect(try await TestVault.open(in: directory).checkState() == [])
    }
}
