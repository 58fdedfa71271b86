import Crypto
import Foundation
import TestSupport
import Testing

@testable import Vault
@testable import VaultCrypto

#if canImport(Glibc)
import Glibc
#endif

/// The vault's record of the header it wrote for each stored file (`blob_headers`, #14): a streamed pull whose file has
/// its recorded header in place wraps for the caller the key the vault encrypted that file with, without decrypting
/// the payload; an attacker who can write the vault directory can neither swap in another file's header nor change
/// the record.
@Suite struct VaultRecordedHeaderTests {
    static let genuine = TestVault.bytes(300_000, seed: 7)
    static let secret = Data("another model's weights".utf8)

    private func vault(_ directory: TemporaryDirectory) throws -> Vault {
        try TestVault.create(in: directory, suite: AgeCipherSuite())
    }

    private func storedFile(_ vault: Vault, model: String, _ suffix: String = "/w.bin.age") throws -> URL {
        try #require(
            TestVault.allFiles(under: vault.root.appending(path: "models/encrypted/\(model)")).first {
                $0.path.hasSuffix(suffix)
            })
    }

    /// The bytes a streamed pull sends for `path`: the entry's head and body.
    private func streamed(_ stream: RewrappedVersionStream, _ path: String = "w.bin.age") throws -> Data {
        let entry = try #require(stream.entries.first { $0.path == path })
        let source = try stream.open(entry)
        var body = [UInt8](repeating: 0, count: source.body?.payloadCount ?? 0)
        if let payload = source.body {
            _ = try body.withUnsafeMutableBytes { try payload.readPayload(into: $0, at: 0) }
        }
        return Data(source.head + body)
    }

    /// Every way a push encrypts (in memory, a named file, an opened file) records the SHA-256 of the header it wrote.
    @Test func everyPushRecordsTheHeaderItWrote() async throws {
        let directory = try TemporaryDirectory()
        let vault = try vault(directory)
        let model = directory.url.appending(path: "model")
        let files = try TestVault.writeModel(in: model)
        _ = try await vault.pushModel("m", from: .files(["w.bin": Self.genuine]))
        _ = try await vault.pushModel("d", from: .path(model))
        for name in ["m@1", "d@1"] {
            let checked = try await vault.checkedVersion(ModelReference(parsing: name))
            #expect(checked.files.count == (name == "m@1" ? 1 : files.count))
            for file in checked.files {
                let stored = try Data(contentsOf: vault.root.appending(path: file.blobPath))
                #expect(file.headerSHA256 == (try Age.headerSHA256(of: stored)), "\(name) \(file.path)")
            }
        }
    }

    /// The attack: the stored file of a model the caller may pull replaced by a genuine vault file of another model
    /// (same vault key: its header unwraps). The stream refuses it before any header for the caller exists.
    @Test func anotherModelsStoredFileCopiedOverIsRefusedByItsHeader() async throws {
        let directory = try TemporaryDirectory()
        let vault = try vault(directory)
        _ = try await vault.pushModel("m", from: .files(["w.bin": Self.genuine]))
        _ = try await vault.pushModel("secret", from: .files(["w.bin": Self.secret]))
        let stream = try await vault.rewrappedStream(
            ModelReference(parsing: "m@1"), for: AgeX25519Identity.generate().recipient.encoded,
            checkedByReceiver: true)
        #expect(!stream.checksPayloads)
        try Data(contentsOf: storedFile(vault, model: "secret")).write(
            to: storedFile(vault, model: "m"), options: .atomic)
        let error = try #require(throws: VaultError.self) { _ = try streamed(stream) }
        #expect(error.code == .tampered)
        #expect(error.description.contains("header"))
    }

    /// With its header recorded, the payload is not read when the stream opens the file: damage to it reaches the
    /// receiver, whose decryption authenticates every chunk and fails (the CLI's pull then checks the signed digest).
    @Test func aRecordedHeaderLeavesThePayloadToTheReceiver() async throws {
        let directory = try TemporaryDirectory()
        let vault = try vault(directory)
        _ = try await vault.pushModel("m", from: .files(["w.bin": Self.genuine]))
        let caller = AgeX25519Identity.generate()
        let stream = try await vault.rewrappedStream(
            ModelReference(parsing: "m@1"), for: caller.recipient.encoded, checkedByReceiver: true)
        #expect(try Age.decrypt(try streamed(stream), using: [caller]) == Self.genuine)
        let stored = try storedFile(vault, model: "m")
        var damaged = try Data(contentsOf: stored)
        damaged[damaged.count - 20] ^= 0x01
        try damaged.write(to: stored, options: .atomic)
        let sent = try streamed(stream)
        #expect(throws: AgeError.self) { try Age.decrypt(sent, using: [caller]) }
    }

    /// Review of the recorded headers, finding 1: whoever may pull a model learns its file key, and with write access
    /// to the vault directory puts any payload under the recorded header. A re-wrap whose receiver does not decrypt
    /// now (`model pull --to`, a deployment) hands that on unchecked unless the payload is checked here: it is, and the
    /// forgery is refused. A receiver that decrypts gets the header-only check, and a payload cut short fails its
    /// length there.
    @Test func aForgedPayloadUnderTheRecordedHeaderIsRefusedUnlessTheReceiverChecksIt() async throws {
        let directory = try TemporaryDirectory()
        let vault = try vault(directory)
        _ = try await vault.pushModel("m", from: .files(["w.bin": Self.genuine]))
        let reference = try ModelReference(parsing: "m@1")
        let insider = AgeX25519Identity.generate()
        let pulled = try streamed(try await vault.rewrappedStream(reference, for: insider.recipient.encoded))
        let fileKey = try AgeHeader.read(from: ByteReader(bytes: Array(pulled))).unwrapFileKey(using: [insider])
        let stored = try storedFile(vault, model: "m")
        let original = try Data(contentsOf: stored)
        let reader = ByteReader(bytes: Array(original))
        _ = try AgeHeader.read(from: reader)
        let headerCount = reader.consumed
        let nonce = [UInt8](repeating: 7, count: AgePayload.nonceSize)
        var forged = Data(original.prefix(headerCount) + nonce)
        try AgePayload(fileKey: fileKey, nonce: nonce).encrypt(
            from: ByteReader(bytes: Array(TestVault.bytes(Self.genuine.count, seed: 99))), to: { forged += $0 })
        #expect(forged.count == original.count)
        try forged.write(to: stored, options: .atomic)

        let deployment = AgeX25519Identity.generate().recipient.encoded
        let handedOn = try await vault.rewrappedStream(reference, for: deployment)
        #expect(handedOn.checksPayloads)
        let error = try #require(throws: VaultError.self) { _ = try streamed(handedOn) }
        #expect(error.code != .storage)

        try original.prefix(original.count - 1_000).write(to: stored, options: .atomic)
        let checking = try await vault.rewrappedStream(reference, for: deployment, checkedByReceiver: true)
        let cut = try #require(throws: VaultError.self) { _ = try streamed(checking) }
        #expect(cut.code == .tampered)
        #expect(cut.description.contains("length"))
    }

    /// A file key learnt from a pull of `reference` (the insider's) and the stored file's header length.
    private func fileKey(_ vault: Vault, _ reference: ModelReference) async throws -> (SymmetricKey, Int) {
        let insider = AgeX25519Identity.generate()
        let pulled = try streamed(try await vault.rewrappedStream(reference, for: insider.recipient.encoded))
        let key = try AgeHeader.read(from: ByteReader(bytes: Array(pulled))).unwrapFileKey(using: [insider])
        let reader = ByteReader(bytes: Array(try Data(contentsOf: storedFile(vault, model: reference.name))))
        _ = try AgeHeader.read(from: reader)
        return (key, reader.consumed)
    }

    /// Second review of the recorded headers, finding 1: the server checked a payload when it opened the file and sent
    /// it later from the same descriptor, so a payload rewritten in place in between (same key, learnt from a pull) was
    /// handed to a receiver that does not check. Such a receiver is now sent a private copy made before the check.
    @Test func aPayloadRewrittenInPlaceAfterTheCheckIsNotSentToAReceiverThatDoesNotCheck() async throws {
        let directory = try TemporaryDirectory()
        let vault = try vault(directory)
        _ = try await vault.pushModel("m", from: .files(["w.bin": Self.genuine]))
        let reference = try ModelReference(parsing: "m@1")
        let (key, headerCount) = try await fileKey(vault, reference)
        let nonce = [UInt8](repeating: 9, count: AgePayload.nonceSize)
        var forged = Data(nonce)
        try AgePayload(fileKey: key, nonce: nonce).encrypt(
            from: ByteReader(bytes: Array(TestVault.bytes(Self.genuine.count, seed: 5))), to: { forged += $0 })
        let deployment = AgeX25519Identity.generate()
        let stream = try await vault.rewrappedStream(reference, for: deployment.recipient.encoded)
        let entry = try #require(stream.entries.first { $0.path == "w.bin.age" })
        let source = try stream.open(entry)
        let handle = try FileHandle(forWritingTo: try storedFile(vault, model: "m"))
        try handle.seek(toOffset: UInt64(headerCount))
        try handle.write(contentsOf: forged)
        try handle.close()
        let payload = try #require(source.body)
        var body = [UInt8](repeating: 0, count: payload.payloadCount)
        _ = try body.withUnsafeMutableBytes { try payload.readPayload(into: $0, at: 0) }
        #expect(try Age.decrypt(Data(source.head + body), using: [deployment]) == Self.genuine)
    }

    /// Second review, finding 2: two models holding the same file; the other model's stored file copied over passed a
    /// payload check (same digest), and its key was wrapped for a caller of this one. The recorded header is now
    /// required on every path.
    @Test func anotherModelsIdenticalFileIsRefusedByItsHeaderOnEveryPath() async throws {
        let directory = try TemporaryDirectory()
        let vault = try vault(directory)
        _ = try await vault.pushModel("m", from: .files(["w.bin": Self.genuine]))
        _ = try await vault.pushModel("secret", from: .files(["w.bin": Self.genuine]))
        try Data(contentsOf: storedFile(vault, model: "secret")).write(
            to: storedFile(vault, model: "m"), options: .atomic)
        for checkedByReceiver in [false, true] {
            let stream = try await vault.rewrappedStream(
                ModelReference(parsing: "m@1"), for: AgeX25519Identity.generate().recipient.encoded,
                checkedByReceiver: checkedByReceiver)
            let error = try #require(throws: VaultError.self) { _ = try streamed(stream) }
            #expect(error.code == .tampered)
        }
    }

    /// Reviews of the recorded headers: a FIFO in a stored file's place blocked the server's open of it until someone
    /// wrote to it (first review, finding 2), and one held open by a writer blocked verification threads until the
    /// writer closed (second review, finding 3); every registry call queued behind. Both are now refused at once.
    @Test(.timeLimit(.minutes(1)), arguments: [false, true])
    func aFIFOInPlaceOfAStoredFileIsRefusedWithoutBlocking(heldByAWriter: Bool) async throws {
        let directory = try TemporaryDirectory()
        let vault = try vault(directory)
        _ = try await vault.pushModel("m", from: .files(["w.bin": Self.genuine]))
        let stored = try storedFile(vault, model: "m")
        try FileManager.default.removeItem(at: stored)
        #expect(mkfifo(stored.path, 0o600) == 0)
        let writer = heldByAWriter ? open(stored.path, O_RDWR | O_NONBLOCK) : -1
        #expect(writer >= 0 || !heldByAWriter)
        defer { if writer >= 0 { close(writer) } }
        let reference = try ModelReference(parsing: "m@1")
        await #expect(throws: VaultError.self) {
            _ = try await vault.rewrappedStream(reference, for: AgeX25519Identity.generate().recipient.encoded)
        }
        await #expect(throws: (any Error).self) { _ = try await vault.verifyModel(reference) }
    }

    /// Second review, finding 4: a version's manifest was read whole, following links and with no bound (a sparse
    /// 1.5 GB file took the server to 1.6 GB). It must be a regular file of at most 16 MiB.
    @Test(arguments: ["link", "large"])
    func aManifestThatIsALinkOrTooLargeIsRefused(how: String) async throws {
        let directory = try TemporaryDirectory()
        let vault = try vault(directory)
        _ = try await vault.pushModel("m", from: .files(["w.bin": Self.genuine]))
        let manifest = vault.root.appending(path: "models/encrypted/m/1").appending(path: VersionManifest.fileName)
        let original = try Data(contentsOf: manifest)
        try FileManager.default.removeItem(at: manifest)
        if how == "link" {
            let elsewhere = directory.url.appending(path: "manifest.json")
            try original.write(to: elsewhere)
            try FileManager.default.createSymbolicLink(at: manifest, withDestinationURL: elsewhere)
        } else {
            FileManager.default.createFile(atPath: manifest.path, contents: original)
            #expect(truncate(manifest.path, off_t(Vault.maximumSignatureFileBytes + 1)) == 0)
        }
        let error = await #expect(throws: VaultError.self) {
            _ = try await vault.verifyModel(ModelReference(parsing: "m@1"))
        }
        #expect(error?.code == .tampered)
    }

    /// The record is authenticated state: changed to another file's header, or deleted, outside the vault, the
    /// catalog fails verification and nothing is served.
    @Test(arguments: ["change", "delete"])
    func aHeaderRecordChangedOutsideTheVaultIsRefused(how: String) async throws {
        let directory = try TemporaryDirectory()
        let vault = try vault(directory)
        _ = try await vault.pushModel("m", from: .files(["w.bin": Self.genuine]))
        _ = try await vault.pushModel("secret", from: .files(["w.bin": Self.secret]))
        let attacker = DirectoryAttacker(root: vault.root)
        if how == "change" {
            try attacker.sql(
                """
                UPDATE blob_headers SET sha256 = (SELECT sha256 FROM blob_headers WHERE path LIKE 'models/encrypted/secret/%')
                WHERE path LIKE 'models/encrypted/m/%'
                """)
        } else {
            try attacker.sql("DELETE FROM blob_headers WHERE path LIKE 'models/encrypted/m/%'")
        }
        let error = await #expect(throws: VaultError.self) {
            _ = try await vault.rewrappedStream(
                ModelReference(parsing: "m@1"), for: AgeX25519Identity.generate().recipient.encoded)
        }
        #expect(error?.code == .tampered)
        #expect(error?.description.contains("blob_headers") == true)
    }

    /// A rotation re-wraps the file and forgets its record first: the stream then checks the payload, and a pull
    /// still gives the genuine weights.
    @Test func aRotatedFileIsCheckedByItsPayload() async throws {
        let directory = try TemporaryDirectory()
        let vault = try vault(directory)
        _ = try await vault.pushModel("m", from: .files(["w.bin": Self.genuine]))
        _ = try await vault.rotateKeys(passphrase: TestVault.passphrase)
        let checked = try await vault.checkedVersion(ModelReference(parsing: "m@1"))
        #expect(checked.files.allSatisfy { $0.headerSHA256 == nil })
        let caller = AgeX25519Identity.generate()
        let stream = try await vault.rewrappedStream(
            ModelReference(parsing: "m@1"), for: caller.recipient.encoded, checkedByReceiver: true)
        #expect(stream.checksPayloads)
        #expect(try Age.decrypt(try streamed(stream), using: [caller]) == Self.genuine)
        _ = try await vault.pushModel("secret", from: .files(["w.bin": Self.secret]))
        try Data(contentsOf: storedFile(vault, model: "secret")).write(
            to: storedFile(vault, model: "m"), options: .atomic)
        #expect(throws: VaultError.self) { _ = try streamed(stream) }
    }
}
