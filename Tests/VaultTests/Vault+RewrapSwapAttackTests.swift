import Foundation
import Synchronization
import TestSupport
import Testing
import VaultCrypto

@testable import Vault

/// The real age suite with an attacker who can write the vault directory: once armed, it replaces one stored file
/// (by rename, with a file encrypted to the vault's public recipient) right after the vault's first read of it.
final class SwapAfterFirstReadSuite: VaultCipherSuite {
    private let inner = AgeCipherSuite()
    private let armed = Mutex<(suffix: String, replacement: Data)?>(nil)

    func arm(replacing suffix: String, with replacement: Data) { armed.withLock { $0 = (suffix, replacement) } }

    private func read<T>(_ url: URL, _ body: () throws -> T) rethrows -> T {
        defer {
            armed.withLock { armed in
                guard let swap = armed, url.path.hasSuffix(swap.suffix) else { return }
                try? swap.replacement.write(to: url, options: .atomic)
                armed = nil
            }
        }
        return try body()
    }

    func generateIdentity(postQuantum: Bool) throws -> String { try inner.generateIdentity(postQuantum: postQuantum) }
    func recipient(ofIdentity identity: String) throws -> String { try inner.recipient(ofIdentity: identity) }
    func validateRecipient(_ recipient: String) throws -> String { try inner.validateRecipient(recipient) }
    func parseIdentities(_ text: String) throws -> [String] { try inner.parseIdentities(text) }
    func seal(_ plaintext: Data, passphrase: String, workFactor: Int) throws -> Data {
        try inner.seal(plaintext, passphrase: passphrase, workFactor: workFactor)
    }
    func open(_ file: Data, passphrase: String) throws -> Data { try inner.open(file, passphrase: passphrase) }
    func encrypt(_ plaintext: Data, to recipients: [String]) throws -> Data {
        try inner.encrypt(plaintext, to: recipients)
    }
    func decrypt(_ file: Data, using identities: [String]) throws -> Data { try inner.decrypt(file, using: identities) }
    func encryptFile(at input: URL, to output: URL, recipients: [String]) throws {
        try inner.encryptFile(at: input, to: output, recipients: recipients)
    }
    func decryptFile(at input: URL, to output: URL, using identities: [String]) throws {
        try read(input) { try inner.decryptFile(at: input, to: output, using: identities) }
    }
    func encryptFileDigesting(at input: URL, into output: FileHandle, recipients: [String]) throws -> FileDigest {
        try inner.encryptFileDigesting(at: input, into: output, recipients: recipients)
    }
    func encryptFileDigesting(
        reading input: FileHandle, into output: FileHandle, recipients: [String]
    ) throws
        -> FileDigest
    {
        try inner.encryptFileDigesting(reading: input, into: output, recipients: recipients)
    }
    func encryptFileDigestingHeader(at input: URL, into output: FileHandle, recipients: [String]) throws -> SealedDigest
    {
        try inner.encryptFileDigestingHeader(at: input, into: output, recipients: recipients)
    }
    func encryptFileDigestingHeader(
        reading input: FileHandle, into output: FileHandle, recipients: [String]
    ) throws -> SealedDigest {
        try inner.encryptFileDigestingHeader(reading: input, into: output, recipients: recipients)
    }
    func headerSHA256(ofSealed sealed: Data) -> [UInt8]? { inner.headerSHA256(ofSealed: sealed) }
    func openRewrapped(
        at url: URL, using identities: [String], for recipients: [String], requiringHeaderSHA256 header: [UInt8]
    ) throws -> AgeRewrappedSource? {
        try read(url) {
            try inner.openRewrapped(at: url, using: identities, for: recipients, requiringHeaderSHA256: header)
        }
    }
    func openRewrappedCopy(
        at url: URL, using identities: [String], for recipients: [String], requiringHeaderSHA256 header: [UInt8]?
    ) throws -> (source: AgeRewrappedSource, digest: FileDigest) {
        try read(url) {
            try inner.openRewrappedCopy(at: url, using: identities, for: recipients, requiringHeaderSHA256: header)
        }
    }
    func decryptFileDigesting(at input: URL, into output: FileHandle, using identities: [String]) throws -> FileDigest {
        try read(input) { try inner.decryptFileDigesting(at: input, into: output, using: identities) }
    }
    func plaintextDigest(ofFileAt url: URL, using identities: [String]) throws -> FileDigest {
        try read(url) { try inner.plaintextDigest(ofFileAt: url, using: identities) }
    }
    func rewrapFile(at input: URL, to output: URL, using identities: [String], for recipients: [String]) throws {
        try read(input) { try inner.rewrapFile(at: input, to: output, using: identities, for: recipients) }
    }
    func rewrapFileDigesting(
        at input: URL, to output: URL, using identities: [String], for recipients: [String]
    )
        throws -> FileDigest
    {
        try read(input) { try inner.rewrapFileDigesting(at: input, to: output, using: identities, for: recipients) }
    }
    func rewrappedSize(ofFileAt url: URL, using identities: [String], for recipients: [String]) throws -> Int {
        try inner.rewrappedSize(ofFileAt: url, using: identities, for: recipients)
    }
    func openRewrapped(
        at url: URL, using identities: [String], for recipients: [String]
    ) throws -> (source: AgeRewrappedSource, digest: FileDigest) {
        try read(url) { try inner.openRewrapped(at: url, using: identities, for: recipients) }
    }
    func reencryptFile(at input: URL, to output: URL, using identities: [String], for recipients: [String]) throws {
        try read(input) { try inner.reencryptFile(at: input, to: output, using: identities, for: recipients) }
    }
    func decryptFernet(token: Data, keyText: String) throws -> Data {
        try inner.decryptFernet(token: token, keyText: keyText)
    }
}

/// Review of 2026-12-04: a re-wrapped pull (`model pull --to RECIPIENT`, the server's download) checked each file's
/// digest in one read and copied its encrypted payload in a second, so a file swapped in between (anyone can
/// encrypt to the vault's public recipient) was handed out unchecked.
@Suite struct VaultRewrapSwapAttackTests {
    static let genuine = Data("genuine weights".utf8)

    private func forged(for vault: Vault) throws -> Data {
        let recipient = try DirectoryAttacker(root: vault.root).recipient()
        return try Age.encrypt(Data("EVIL".utf8), to: [AgeKeys.parseRecipient(recipient)])
    }

    @Test func aStoredFileSwappedAfterTheVaultFirstReadsItIsNotHandedOut() async throws {
        let directory = try TemporaryDirectory()
        let suite = SwapAfterFirstReadSuite()
        let vault = try TestVault.create(in: directory, suite: suite)
        _ = try await vault.pushModel("m", from: .files(["w.bin": Self.genuine]))
        suite.arm(replacing: "/w.bin.age", with: try forged(for: vault))
        let outsider = AgeX25519Identity.generate()
        let handout = directory.url.appending(path: "handout")
        try await vault.pullModel(ModelReference(parsing: "m@1"), for: outsider.recipient.encoded, to: handout)
        let given = try Data(contentsOf: handout.appending(path: "w.bin.age"))
        #expect(try Age.decrypt(given, using: [outsider]) == Self.genuine)
    }

    @Test func aStoredFileReplacedBeforeThePullIsRefusedAndNothingIsHandedOut() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory, suite: AgeCipherSuite())
        _ = try await vault.pushModel("m", from: .files(["w.bin": Self.genuine]))
        let stored = try #require(
            TestVault.allFiles(under: vault.root.appending(path: "models")).first { $0.path.hasSuffix("/w.bin.age") })
        try forged(for: vault).write(to: stored, options: .atomic)
        let handout = directory.url.appending(path: "handout")
        await #expect(throws: VaultError.self) {
            try await vault.pullModel(
                ModelReference(parsing: "m@1"), for: AgeX25519Identity.generate().recipient.encoded, to: handout)
        }
        #expect(!FileManager.default.fileExists(atPath: handout.path))
    }

    /// The bytes a streamed pull sends for `path` (the server's download, #14): the entry's head and body.
    private func streamed(_ stream: RewrappedVersionStream, _ path: String) throws -> Data {
        let entry = try #require(stream.entries.first { $0.path == path })
        let source = try stream.open(entry)
        var body = [UInt8](repeating: 0, count: source.body?.payloadCount ?? 0)
        if let payload = source.body {
            _ = try body.withUnsafeMutableBytes { try payload.readPayload(into: $0, at: 0) }
        }
        #expect(source.size == entry.size)
        return Data(source.head + body)
    }

    /// The streamed pull, which writes no re-wrapped copy: the file is checked when the stream opens it and what is
    /// sent comes from that open file, so one swapped right after the check is never sent.
    @Test func aStoredFileSwappedAfterTheStreamChecksItIsNotSent() async throws {
        let directory = try TemporaryDirectory()
        let suite = SwapAfterFirstReadSuite()
        let vault = try TestVault.create(in: directory, suite: suite)
        _ = try await vault.pushModel("m", from: .files(["w.bin": Self.genuine]))
        let outsider = AgeX25519Identity.generate()
        let stream = try await vault.rewrappedStream(ModelReference(parsing: "m@1"), for: outsider.recipient.encoded)
        #expect(stream.entries.map(\.path) == [VersionManifest.signedPath, Vault.pulledSignaturePath, "w.bin.age"])
        suite.arm(replacing: "/w.bin.age", with: try forged(for: vault))
        #expect(try Age.decrypt(try streamed(stream, "w.bin.age"), using: [outsider]) == Self.genuine)
    }

    /// A stored file replaced before the streamed pull opens it fails its check at the open, before the header that
    /// would wrap its file key for the caller exists.
    @Test func aStoredFileReplacedBeforeTheStreamOpensItIsRefused() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory, suite: AgeCipherSuite())
        _ = try await vault.pushModel("m", from: .files(["w.bin": Self.genuine]))
        let stream = try await vault.rewrappedStream(
            ModelReference(parsing: "m@1"), for: AgeX25519Identity.generate().recipient.encoded)
        let stored = try #require(
            TestVault.allFiles(under: vault.root.appending(path: "models")).first { $0.path.hasSuffix("/w.bin.age") })
        try forged(for: vault).write(to: stored, options: .atomic)
        #expect(throws: VaultError.self) { _ = try streamed(stream, "w.bin.age") }
    }

    /// Round 3 of that review: the signed manifest and signature handed out with a pull were read again after the
    /// check, so ones swapped in between reached the output. A pull hands out the bytes it checked.
    @Test func aPullHandsOutTheManifestAndSignatureItChecked() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        _ = try await vault.pushModel("m", from: .files(["w.bin": Self.genuine]))
        let checked = try await vault.checkedVersion(ModelReference(parsing: "m@1"))
        try Data("{}".utf8).write(to: checked.directory.appending(path: VersionManifest.fileName), options: .atomic)
        try Data("x".utf8).write(
            to: checked.directory.appending(path: VersionManifest.signatureFileName), options: .atomic)
        let files = try Vault.signatureFiles(of: checked)
        #expect(files[VersionManifest.signedPath] == checked.manifestBytes)
        #expect(files[Vault.pulledSignaturePath] == checked.signatureBundle)
        #expect(FileDigest(of: checked.manifestBytes).hex == checked.row.manifestSHA256)
    }
}
