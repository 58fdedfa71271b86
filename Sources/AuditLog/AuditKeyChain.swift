import Foundation

/// The checkpoint keys of one log over its life: the current key and every retired one with the tree size it
/// handed over at.
///
/// The origin (first checkpoint line, and the key name) never changes, so witnesses and kept checkpoints follow the
/// log across a rotation. A rotation appends a handover entry (`audit.key-handover`, naming the new key) at index
/// `handoverSize - 1` and a checkpoint of exactly `handoverSize` signed by both keys. A retired key is valid only
/// for checkpoints up to its handover size: a compromised old key cannot sign anything later.
public struct AuditKeyChain: Sendable, Equatable {
    /// A key that signed checkpoints up to (and including) `handoverSize`.
    public struct RetiredKey: Sendable, Equatable {
        /// The retired key.
        public var verifier: NoteVerifier
        /// The size of the handover checkpoint, the last this key may sign.
        public var handoverSize: UInt64

        /// Creates a retired key.
        public init(verifier: NoteVerifier, handoverSize: UInt64) {
            self.verifier = verifier
            self.handoverSize = handoverSize
        }
    }

    /// The entry action that hands the log over to a new key.
    public static let handoverAction = "audit.key-handover"

    /// The key that signs from the last handover on.
    public var current: NoteVerifier
    /// Retired keys, oldest first (increasing handover sizes).
    public var retired: [RetiredKey]

    /// A chain; `retired` must be oldest first, with increasing handover sizes and the current key's name.
    public init(current: NoteVerifier, retired: [RetiredKey] = []) throws {
        guard
            retired.allSatisfy({ $0.verifier.name == current.name && $0.verifier.keyID != current.keyID }),
            zip(retired, retired.dropFirst()).allSatisfy({ $0.handoverSize < $1.handoverSize }),
            retired.allSatisfy({ $0.handoverSize > 0 })
        else { throw AuditLogError.unknownKey }
        self.current = current
        self.retired = retired
    }

    /// The log origin.
    public var origin: String { current.name }

    /// The key that must sign a checkpoint of `size`: a retired key up to its handover size, then its successor.
    public func key(forSize size: UInt64) -> NoteVerifier {
        retired.first { size <= $0.handoverSize }?.verifier ?? current
    }

    /// The key that took over from `retired[index]`.
    public func successor(of index: Int) -> NoteVerifier {
        index + 1 < retired.count ? retired[index + 1].verifier : current
    }

    /// Whether `keyID` is one of this chain's keys.
    func contains(keyID: UInt32) -> Bool {
        current.keyID == keyID || retired.contains { $0.verifier.keyID == keyID }
    }

    /// Verifies a checkpoint note under the key responsible for its size.
    public func verify(_ note: String) throws -> SignedCheckpoint {
        try SignedCheckpoint(verifying: note, with: key(forSize: try Self.uncheckedSize(of: note)))
    }

    /// The tree size a note claims, read before its signature is checked (only to pick the key).
    static func uncheckedSize(of note: String) throws -> UInt64 {
        guard let split = note.range(of: "\n\n", options: .backwards) else { throw AuditLogError.corruptCheckpoint }
        return try Checkpoint(text: String(note[..<split.lowerBound]) + "\n").size
    }

    /// The checkpoint extension line of a handover to `key` (the raw Ed25519 public key in base64): signed by the
    /// retired key, it names the one it hands the log over to.
    public static func handoverLine(naming key: NoteVerifier) -> String {
        handoverLinePrefix + key.publicKey.rawRepresentation.base64EncodedString() + "\n"
    }

    /// The raw public key (base64) a checkpoint note's text names as its successor, if it has exactly one handover
    /// extension line. Read from the verified text only.
    public static func successor(namedIn text: String) -> String? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(3)
        let named = lines.filter { $0.hasPrefix(handoverLinePrefix) }.map {
            String($0.dropFirst(handoverLinePrefix.count))
        }
        guard named.count == 1, let key = named.first, let raw = Data(base64Encoded: key), raw.count == 32 else {
            return nil
        }
        return key
    }

    private static let handoverLinePrefix = "modelvault.audit-key-handover "

    /// The handover entry's resource: names the new key by its verifier key.
    public static func handoverResource(to key: NoteVerifier) -> String { "audit-key:" + key.vkey }

    /// Whether `leaf` (a record's leaf JSON) is the handover entry to `key`.
    static func isHandover(_ leaf: some Collection<UInt8>, to key: NoteVerifier) -> Bool {
        let expected = handoverResource(to: key)
        guard let leaf = try? JSONDecoder().decode(HandoverLeaf.self, from: Data(leaf)) else { return false }
        return leaf.entry.action == handoverAction && leaf.entry.resource == expected && leaf.entry.outcome == "allowed"
    }

    private struct HandoverLeaf: Decodable {
        struct Entry: Decodable {
            var action: String
            var resource: String
            var outcome: String
        }
        var entry: Entry
    }
}

extension NoteVerifier {
    /// The key IDs of every signature line on `note` under `name` (whether or not they verify).
    static func signatureKeyIDs(in note: String, name: String) -> [UInt32] {
        guard let split = note.range(of: "\n\n", options: .backwards) else { return [] }
        return note[split.upperBound...].split(separator: "\n").compactMap { line in
            let fields = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false)
            guard line.hasPrefix("\u{2014} "), fields.count == 2, fields[0] == name,
                let blob = Data(base64Encoded: String(fields[1])), blob.count >= 4
            else { return nil }
            return blob.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }
    }
}

extension NoteSigner {
    /// One signature line over `text` (a note may carry several, e.g. a key handover signed by both keys).
    func signatureLine(for text: String) throws -> String {
        let signed = try sign(text)
        return String(signed.dropFirst(text.count + 1))
    }
}
