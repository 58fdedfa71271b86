import Crypto
import Foundation
import TestSupport
import Testing
import VaultCrypto

/// Interoperability with the reference `age` / `age-keygen` tools, both directions.
@Suite struct AgeInteropTests {
    static let sizes = [0, 1, 65535, 65536, 65537]

    /// An identity file in age-keygen's format.
    static func identityFile(_ identity: AgeX25519Identity) -> String {
        "# created: 2026-01-01T00:00:00Z\n# public key: \(identity.recipient.encoded)\n\(identity.encoded)\n"
    }

    @Test(arguments: sizes, [false, true])
    func ourFilesDecryptWithAge(size: Int, armored: Bool) throws {
        guard Interop.available("age") else { try Interop.skipOrFail("age") }
        let directory = try TemporaryDirectory()
        let ours = AgeX25519Identity.generate()
        let others = (0..<2).map { _ in AgeX25519Identity.generate() }
        let plain = AgeRoundTripTests.plaintext(size)
        for recipients in [[ours], [ours] + others] {
            let file = try Age.encrypt(plain, to: recipients.map(\.recipient), armored: armored)
            let encrypted = directory.url.appendingPathComponent("f.age")
            try file.write(to: encrypted)
            for identity in recipients {
                let key = directory.url.appendingPathComponent("key.txt")
                try Self.identityFile(identity).write(to: key, atomically: true, encoding: .utf8)
                let result = try Interop.run("age", ["-d", "-i", key.path, encrypted.path])
                #expect(result.status == 0, "age -d: \(result.stderr)")
                #expect(result.stdoutData == plain)
            }
        }
    }

    @Test(arguments: sizes + [300_000], [false, true])
    func ageFilesDecryptWithOurs(size: Int, armored: Bool) throws {
        guard Interop.available("age"), Interop.available("age-keygen") else { try Interop.skipOrFail("age") }
        let directory = try TemporaryDirectory()
        let key = directory.url.appendingPathComponent("key.txt")
        let keygen = try Interop.run("age-keygen", ["-o", key.path])
        #expect(keygen.status == 0)
        let identities = try AgeKeys.parseIdentities(String(contentsOf: key, encoding: .utf8))
        let recipient = try #require(AgeKeys.recipient(of: identities[0]).flatMap(AgeKeys.encoded))
        let recipientsFile = directory.url.appendingPathComponent("recipients.txt")
        try "# team\n\(recipient)\n\(AgeX25519Identity.generate().recipient.encoded)\n".write(
            to: recipientsFile, atomically: true, encoding: .utf8)
        let plain = AgeRoundTripTests.plaintext(size)
        let armor = armored ? ["-a"] : []
        for arguments in [["-r", recipient], ["-R", recipientsFile.path]] {
            let encrypted = try Interop.run("age", arguments + armor, input: plain)
            #expect(encrypted.status == 0, "age -e: \(encrypted.stderr)")
            #expect(try Age.decrypt(encrypted.stdoutData, using: identities) == plain)
        }
    }

    /// 100 MiB streamed through files: ours encrypts, age decrypts, and the reverse.
    @Test func hundredMebibytesThroughFiles() throws {
        guard Interop.available("age") else { try Interop.skipOrFail("age") }
        let directory = try TemporaryDirectory()
        let identity = AgeX25519Identity.generate()
        let key = directory.url.appendingPathComponent("key.txt")
        try Self.identityFile(identity).write(to: key, atomically: true, encoding: .utf8)
        let plainURL = directory.url.appendingPathComponent("plain.bin")
        _ = FileManager.default.createFile(atPath: plainURL.path, contents: nil)
        let writer = try FileHandle(forWritingTo: plainURL)
        var block = [UInt8](repeating: 0, count: 1 << 20)
        for index in 0..<100 {
            for position in stride(from: 0, to: block.count, by: 997) {
                block[position] = UInt8(truncatingIfNeeded: index &+ position)
            }
            try writer.write(contentsOf: block)
        }
        try writer.close()
        let encryptedURL = directory.url.appendingPathComponent("plain.bin.age")
        try Age.encryptFile(at: plainURL, to: encryptedURL, recipients: [identity.recipient])
        let outURL = directory.url.appendingPathComponent("age-out.bin")
        let result = try Interop.run("age", ["-d", "-i", key.path, "-o", outURL.path, encryptedURL.path])
        #expect(result.status == 0, "age -d: \(result.stderr)")
        #expect(try Self.sha256(outURL) == Self.sha256(plainURL))
        let ageEncrypted = directory.url.appendingPathComponent("by-age.age")
        let byAge = try Interop.run(
            "age", ["-r", identity.recipient.encoded, "-o", ageEncrypted.path, plainURL.path])
        #expect(byAge.status == 0, "age -e: \(byAge.stderr)")
        let oursOut = directory.url.appendingPathComponent("ours-out.bin")
        try Age.decryptFile(at: ageEncrypted, to: oursOut, using: [identity])
        #expect(try Self.sha256(oursOut) == Self.sha256(plainURL))
    }

    static func sha256(_ url: URL) throws -> [UInt8] {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty { hasher.update(data: data) }
        return Array(hasher.finalize())
    }
}

/// The `modelvault` binary against `age`, `age-keygen` and itself (build it first with `swift build`).
@Suite struct AgeCLITests {
    @Test func keygenIdentitiesWorkWithAgeAndBack() throws {
        guard Interop.path(of: "modelvault") != nil else { try Interop.skipOrFail("modelvault (run swift build)") }
        guard Interop.available("age"), Interop.available("age-keygen") else { try Interop.skipOrFail("age") }
        let directory = try TemporaryDirectory()
        let ourKey = directory.url.appendingPathComponent("ours.txt").path
        let ageKey = directory.url.appendingPathComponent("age.txt").path
        let keygen = try Interop.run("modelvault", ["keygen", "-o", ourKey])
        #expect(keygen.status == 0)
        #expect(keygen.stderr.hasPrefix("Public key: age1"))
        let mode = try FileManager.default.attributesOfItem(atPath: ourKey)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try Interop.run("age-keygen", ["-o", ageKey]).status == 0)
        let ourRecipient = try Interop.run("modelvault", ["keygen", "-y", ourKey]).stdout
        let ageRecipient = try Interop.run("age-keygen", ["-y", ourKey]).stdout
        #expect(ourRecipient == ageRecipient)
        let plain = AgeRoundTripTests.plaintext(70_000)
        let trimmed = ourRecipient.trimmingCharacters(in: .whitespacesAndNewlines)
        // age encrypts to our key; we decrypt with our identity file.
        let byAge = try Interop.run("age", ["-r", trimmed], input: plain)
        let decrypted = try Interop.run("modelvault", ["decrypt", "-i", ourKey], input: byAge.stdoutData)
        #expect(decrypted.status == 0, "\(decrypted.stderr)")
        #expect(decrypted.stdoutData == plain)
        // We encrypt (armored) to age's key via -R; age decrypts.
        let ageRecipientsFile = directory.url.appendingPathComponent("r.txt").path
        try Interop.run("age-keygen", ["-y", "-o", ageRecipientsFile, ageKey])
        let ours = try Interop.run("modelvault", ["encrypt", "-a", "-R", ageRecipientsFile], input: plain)
        #expect(ours.status == 0, "\(ours.stderr)")
        let byAgeDecrypt = try Interop.run("age", ["-d", "-i", ageKey], input: ours.stdoutData)
        #expect(byAgeDecrypt.stdoutData == plain)
        // age-keygen's identity file works with modelvault decrypt.
        let withAgeKey = try Interop.run("modelvault", ["decrypt", "-i", ageKey], input: ours.stdoutData)
        #expect(withAgeKey.stdoutData == plain)
    }

    @Test func failedDecryptionLeavesNoOutputFile() throws {
        guard Interop.path(of: "modelvault") != nil else { try Interop.skipOrFail("modelvault (run swift build)") }
        let directory = try TemporaryDirectory()
        let identity = AgeX25519Identity.generate()
        let key = directory.url.appendingPathComponent("key.txt")
        try AgeInteropTests.identityFile(identity).write(to: key, atomically: true, encoding: .utf8)
        var file = try Age.encrypt(AgeRoundTripTests.plaintext(200_000), to: [identity.recipient])
        file[file.count - 10] ^= 0x80
        let input = directory.url.appendingPathComponent("in.age")
        try file.write(to: input)
        let output = directory.url.appendingPathComponent("out.bin").path
        let result = try Interop.run("modelvault", ["decrypt", "-i", key.path, "-o", output, input.path])
        #expect(result.status == 6)
        #expect(result.stderr == "modelvault: error: payload chunk 3 failed authentication\n")
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(try directory.contents() == ["in.age", "key.txt"])
    }

    @Test func passphraseRoundTripThroughTheCLI() throws {
        guard Interop.path(of: "modelvault") != nil else { try Interop.skipOrFail("modelvault (run swift build)") }
        let plain = Data("weights".utf8)
        let environment = ["MODELVAULT_PASSPHRASE": "a long test passphrase"]
        let encrypted = try Interop.run("modelvault", ["encrypt", "-p", "-a"], input: plain, environment: environment)
        #expect(encrypted.status == 0, "\(encrypted.stderr)")
        let decrypted = try Interop.run(
            "modelvault", ["decrypt"], input: encrypted.stdoutData, environment: environment)
        #expect(decrypted.stdoutData == plain)
        let wrong = try Interop.run(
            "modelvault", ["decrypt"], input: encrypted.stdoutData, environment: ["MODELVAULT_PASSPHRASE": "nope"])
        #expect(wrong.status == 3)
        #expect(wrong.stderr == "modelvault: error: no identity matched any of the file's recipients\n")
    }
}
