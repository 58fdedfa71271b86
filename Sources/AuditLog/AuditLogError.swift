/// An audit-log failure. Descriptions are fixed texts naming what failed; they never carry entry contents or keys.
public struct AuditLogError: Error, Equatable, Sendable, CustomStringConvertible {
    private enum Code: Equatable, Sendable {
        case io, corruptRecord, corruptCheckpoint, badSignature, logShorterThanCheckpoint,
            checkpointMismatch, indexOutOfRange, invalidOrigin, invalidProof, encoding, unknownKey, closed,
            trailingBytes, unsignedTail, keyRetired, unsealedTail
    }
    private let code: Code
    /// The operating-system error number for I/O failures.
    public let errno: Int32?

    private init(_ code: Code, errno: Int32? = nil) {
        self.code = code
        self.errno = errno
    }

    /// A read, write, sync or truncate failed.
    public static func io(_ errno: Int32) -> AuditLogError { AuditLogError(.io, errno: errno) }
    /// A complete record in the entries file does not parse.
    public static let corruptRecord = AuditLogError(.corruptRecord)
    /// A checkpoint (signed note) does not parse.
    public static let corruptCheckpoint = AuditLogError(.corruptCheckpoint)
    /// A checkpoint's signature does not verify under the log key.
    public static let badSignature = AuditLogError(.badSignature)
    /// The entries file holds fewer entries than the latest checkpoint covers (entries were removed).
    public static let logShorterThanCheckpoint = AuditLogError(.logShorterThanCheckpoint)
    /// The latest checkpoint's root differs from the tree recomputed from the entries.
    public static let checkpointMismatch = AuditLogError(.checkpointMismatch)
    /// An index or tree size beyond the log.
    public static let indexOutOfRange = AuditLogError(.indexOutOfRange)
    /// An origin (key name) that is empty or contains spaces or `+`.
    public static let invalidOrigin = AuditLogError(.invalidOrigin)
    /// An inclusion or consistency proof that does not verify.
    public static let invalidProof = AuditLogError(.invalidProof)
    /// An entry could not be encoded or decoded.
    public static let encoding = AuditLogError(.encoding)
    /// No signature from the expected key on a note.
    public static let unknownKey = AuditLogError(.unknownKey)
    /// The log was closed.
    public static let closed = AuditLogError(.closed)
    /// Bytes follow the last record (other than preallocated zeroes) although every writer closed cleanly.
    public static let trailingBytes = AuditLogError(.trailingBytes)
    /// Entries follow the latest checkpoint although every writer closed cleanly (so signed all its entries).
    public static let unsignedTail = AuditLogError(.unsignedTail)
    /// Entries follow the latest checkpoint that carry no valid seal under the audit key: no writer appended them.
    public static let unsealedTail = AuditLogError(.unsealedTail)
    /// Another writer handed the log over to a new key: this writer's key is retired and signs nothing more.
    public static let keyRetired = AuditLogError(.keyRetired)

    /// A fixed text naming what failed.
    public var description: String {
        switch code {
        case .io: "audit log I/O failed (errno \(errno ?? 0))"
        case .corruptRecord: "audit log entries file has a malformed record"
        case .corruptCheckpoint: "audit log checkpoint is malformed"
        case .badSignature: "audit log checkpoint signature does not verify"
        case .logShorterThanCheckpoint: "audit log has fewer entries than its latest checkpoint (entries removed)"
        case .checkpointMismatch: "audit log entries do not match the latest checkpoint"
        case .indexOutOfRange: "audit log index out of range"
        case .invalidOrigin: "invalid audit log origin (non-empty, no spaces or '+')"
        case .invalidProof: "audit proof does not verify"
        case .encoding: "audit entry could not be encoded or decoded"
        case .unknownKey: "audit note carries no signature from the expected key"
        case .closed: "audit log is closed"
        case .trailingBytes:
            "audit log has bytes after its last record that are not preallocated zeroes (every writer had closed)"
        case .unsignedTail:
            "audit log has entries after its latest checkpoint that no writer signed (every writer had closed)"
        case .unsealedTail:
            "audit log has entries after its latest checkpoint that no writer holding the audit key appended "
                + "(added outside the vault); none was adopted"
        case .keyRetired:
            "audit log key was handed over to a newer key by another writer; reopen the vault to append"
        }
    }
}
