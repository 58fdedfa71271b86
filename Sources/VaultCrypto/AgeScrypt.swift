public import Crypto
import Foundation
import _CryptoExtras

/// A passphrase recipient (scrypt stanza). It must be the only recipient of a file.
public struct AgeScryptRecipient: AgeRecipient {
    let passphrase: String
    let workFactor: Int

    /// A passphrase recipient with scrypt work factor 2^`workFactor` (18 by default, as age).
    public init(passphrase: String, workFactor: Int = 18) {
        self.passphrase = passphrase
        self.workFactor = workFactor
    }

    /// Wraps the file key under a key derived from the passphrase and a fresh salt.
    public func wrap(_ fileKey: SymmetricKey) throws -> [AgeStanza] {
        guard (1...30).contains(workFactor) else { throw AgeError.request("scrypt work factor out of range") }
        let salt = SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) }
        let key = try AgeScryptIdentity.deriveKey(passphrase: passphrase, salt: salt, workFactor: workFactor)
        let body = try AgeWrap.seal(fileKey, with: key)
        return [AgeStanza(arguments: ["scrypt", StrictBase64.encodeString(salt), String(workFactor)], body: body)]
    }
}

/// A passphrase identity: unwraps scrypt stanzas, refusing work factors above 2^`maxWorkFactor`.
public struct AgeScryptIdentity: AgeIdentity {
    let passphrase: String
    let maxWorkFactor: Int

    /// A passphrase identity; files asking for more than 2^`maxWorkFactor` scrypt work are refused.
    public init(passphrase: String, maxWorkFactor: Int = 22) {
        self.passphrase = passphrase
        self.maxWorkFactor = maxWorkFactor
    }

    static func deriveKey(passphrase: String, salt: Data, workFactor: Int) throws -> SymmetricKey {
        do {
            return try KDF.Scrypt.deriveKey(
                from: Array(passphrase.utf8), salt: Array("age-encryption.org/v1/scrypt".utf8) + salt,
                outputByteCount: 32, rounds: 1 << workFactor, blockSize: 8, parallelism: 1)
        } catch {
            throw AgeError.request("scrypt key derivation failed")
        }
    }

    /// Unwraps the file key from an scrypt stanza.
    public func unwrap(_ stanzas: [AgeStanza]) throws -> SymmetricKey? {
        for stanza in stanzas where stanza.type == "scrypt" {
            guard stanza.arguments.count == 3 else { throw AgeError.header("malformed scrypt stanza") }
            let salt = try AgeWrap.argument(stanza.arguments[1], count: 16, "scrypt salt")
            let factorText = stanza.arguments[2]
            guard let firstDigit = factorText.utf8.first, (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(firstDigit),
                factorText.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                factorText.count <= 2, let workFactor = Int(factorText)
            else { throw AgeError.header("malformed scrypt work factor") }
            guard workFactor <= maxWorkFactor else { throw AgeError.header("scrypt work factor is too large") }
            guard stanza.body.count == 32 else { throw AgeError.header("malformed scrypt stanza body") }
            let key = try Self.deriveKey(passphrase: passphrase, salt: salt, workFactor: workFactor)
            if let fileKey = AgeWrap.open(stanza.body, with: key) { return fileKey }
        }
        return nil
    }
}

/// A passphrase identity that asks for the passphrase only when the file has an scrypt stanza, so a tool can
/// decrypt passphrase files without asking up front. Any other file is refused with a clear error.
public struct AgePassphrasePrompt: AgeIdentity {
    let maxWorkFactor: Int
    let ask: @Sendable () throws -> String

    /// Calls `ask` for the passphrase when a file turns out to be passphrase-encrypted.
    public init(maxWorkFactor: Int = 22, ask: @escaping @Sendable () throws -> String) {
        self.maxWorkFactor = maxWorkFactor
        self.ask = ask
    }

    /// Unwraps the scrypt stanza after asking for the passphrase.
    public func unwrap(_ stanzas: [AgeStanza]) throws -> SymmetricKey? {
        guard stanzas.contains(where: { $0.type == "scrypt" }) else {
            throw AgeError(.noIdentityMatched, "the file is not passphrase-encrypted and no identity was given")
        }
        return try AgeScryptIdentity(passphrase: try ask(), maxWorkFactor: maxWorkFactor).unwrap(stanzas)
    }
}
