public import Foundation

/// Parsing of identity files, recipients files and single recipient strings.
public enum AgeKeys {
    /// Parses an identity file: one identity per line; blank lines and `#` comments are ignored.
    public static func parseIdentities(_ text: String) throws -> [any AgeIdentity] {
        var identities: [any AgeIdentity] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("AGE-SECRET-KEY-PQ-1") {
                guard let identity = try? AgeHybridIdentity(line) else {
                    throw AgeError.invalidKey("identity file line \(number + 1) is not a valid identity")
                }
                identities.append(identity)
            } else if line.hasPrefix("AGE-SECRET-KEY-1") {
                guard let identity = try? AgeX25519Identity(line) else {
                    throw AgeError.invalidKey("identity file line \(number + 1) is not a valid identity")
                }
                identities.append(identity)
            } else {
                throw AgeError.invalidKey("identity file line \(number + 1) is not a supported identity")
            }
        }
        guard !identities.isEmpty else { throw AgeError.invalidKey("no identity found in the identity file") }
        return identities
    }

    /// True if `data` is itself an age file (binary or armored): a passphrase-protected identity file.
    public static func isEncryptedIdentityFile(_ data: some DataProtocol) -> Bool {
        let reader = ByteReader(bytes: Array(data.prefix(4096)))
        if (try? AgeArmor.isArmored(reader)) == true { return true }
        return data.starts(with: "age-encryption.org/".utf8)
    }

    /// Parses an identity file that may be passphrase-protected; `passphrase` is asked only if it is.
    public static func parseIdentities(
        _ data: some DataProtocol, passphrase: () throws -> String
    ) throws -> [any AgeIdentity] {
        var contents = Data(data)
        if isEncryptedIdentityFile(data) {
            contents = try Age.decrypt(data, using: [AgeScryptIdentity(passphrase: try passphrase())])
        }
        guard let text = String(data: contents, encoding: .utf8) else {
            throw AgeError.invalidKey("the identity file is not text")
        }
        return try parseIdentities(text)
    }

    /// Parses a recipients file: one recipient per line; blank lines and `#` comments are ignored.
    public static func parseRecipients(_ text: String) throws -> [any AgeRecipient] {
        var recipients: [any AgeRecipient] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let recipient = try? parseRecipient(line) else {
                throw AgeError.invalidKey("recipients file line \(number + 1) is not a valid recipient")
            }
            recipients.append(recipient)
        }
        guard !recipients.isEmpty else { throw AgeError.invalidKey("no recipient found in the recipients file") }
        return recipients
    }

    /// Parses one recipient: `age1…` (X25519) or `age1pq1…` (post-quantum hybrid).
    public static func parseRecipient(_ encoded: String) throws -> any AgeRecipient {
        if encoded.hasPrefix("age1pq1") { return try AgeHybridRecipient(encoded) }
        if encoded.hasPrefix("age1") { return try AgeX25519Recipient(encoded) }
        throw AgeError.invalidKey("unsupported recipient type")
    }

    /// The recipient of an identity, if it is a native one.
    public static func recipient(of identity: any AgeIdentity) -> (any AgeRecipient)? {
        switch identity {
        case let identity as AgeX25519Identity: identity.recipient
        case let identity as AgeHybridIdentity: identity.recipient
        default: nil
        }
    }

    /// The encoded string of a native recipient.
    public static func encoded(_ recipient: any AgeRecipient) -> String? {
        switch recipient {
        case let recipient as AgeX25519Recipient: recipient.encoded
        case let recipient as AgeHybridRecipient: recipient.encoded
        default: nil
        }
    }
}
