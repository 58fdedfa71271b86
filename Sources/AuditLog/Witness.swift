public import Foundation

/// A C2SP tlog-witness: for each log it knows (by origin and checkpoint key) it keeps the latest checkpoint it
/// cosigned, and cosigns a new one only if it is consistent with that one. A log can then not be rolled back,
/// truncated or forked without the witness refusing, and a cosigned checkpoint held elsewhere exposes a rollback of
/// the log's own files.
///
/// State is one small JSON file, replaced atomically and made durable (`fsync` of the file and its directory) before a
/// cosignature is returned, so a witness that crashes or loses power never cosigns below a head it answered for; the
/// actor makes checking the old size and storing the new checkpoint atomic (the race the spec warns of cannot happen).
public actor Witness {
    /// Why an `add-checkpoint` request is refused, with the HTTP status the spec assigns.
    public enum Refusal: Error, Equatable, Sendable, CustomStringConvertible {
        /// 404: the checkpoint's origin is not a log this witness knows.
        case unknownOrigin
        /// 403: no signature from the log's key verifies.
        case badSignature
        /// 400: malformed request or checkpoint, or an old size above the checkpoint's size.
        case badRequest
        /// 409: the old size is not the size the witness last cosigned (that size is returned), or the same size
        /// with another root (a fork).
        case conflict(latestSize: UInt64)
        /// 422: the consistency proof does not verify.
        case invalidProof

        /// The HTTP status code.
        public var status: Int {
            switch self {
            case .unknownOrigin: 404
            case .badSignature: 403
            case .badRequest: 400
            case .conflict: 409
            case .invalidProof: 422
            }
        }

        /// A fixed text naming what failed.
        public var description: String {
            switch self {
            case .unknownOrigin: "unknown log origin"
            case .badSignature: "checkpoint signature does not verify under the log's key"
            case .badRequest: "malformed add-checkpoint request"
            case .conflict(let size): "old size does not match the latest cosigned checkpoint (size \(size))"
            case .invalidProof: "consistency proof does not verify"
            }
        }
    }

    private struct Head: Codable {
        var size: UInt64
        var root: String
    }

    /// The `Content-Type` of a 409 response, whose body is the latest cosigned size in decimal and a newline.
    public static let sizeContentType = "text/x.tlog.size"

    /// The cosigner.
    public nonisolated let signer: CosignatureSigner
    private let logs: [String: NoteVerifier]
    private let stateFile: URL
    private var heads: [String: Head]

    /// A witness for `logs` (checkpoint verifiers, keyed by their origin) keeping its state in `stateFile`.
    public init(signer: CosignatureSigner, logs: [NoteVerifier], stateFile: URL) throws {
        self.signer = signer
        self.logs = Dictionary(logs.map { ($0.name, $0) }) { first, _ in first }
        self.stateFile = stateFile
        if let data = FileManager.default.contents(atPath: stateFile.path) {
            guard let heads = try? JSONDecoder().decode([String: Head].self, from: data) else {
                throw AuditLogError.corruptCheckpoint
            }
            self.heads = heads
        } else {
            heads = [:]
        }
    }

    /// The latest checkpoint cosigned for `origin` (size and root), if any.
    public func latest(origin: String) -> (size: UInt64, root: TreeHash)? {
        guard let head = heads[origin], let root = TreeHash(base64: head.root) else { return nil }
        return (head.size, root)
    }

    /// Handles an `add-checkpoint` request body and returns the response body: the cosignature line(s).
    public func addCheckpoint(_ body: Data, now: Date = Date()) throws -> String {
        guard let request = try? AddCheckpointRequest(body: body) else { throw Refusal.badRequest }
        return try addCheckpoint(request, now: now)
    }

    /// Checks `request` against the latest cosigned checkpoint of its log, stores the new one and cosigns it.
    public func addCheckpoint(_ request: AddCheckpointRequest, now: Date = Date()) throws -> String {
        let origin = String(request.checkpoint.prefix { $0 != "\n" })
        guard let verifier = logs[origin] else { throw Refusal.unknownOrigin }
        let text: String
        do {
            text = try verifier.verify(request.checkpoint)
        } catch let error as AuditLogError where error == .corruptCheckpoint {
            throw Refusal.badRequest
        } catch {
            throw Refusal.badSignature
        }
        guard let checkpoint = try? Checkpoint(text: text) else { throw Refusal.badRequest }
        guard request.oldSize <= checkpoint.size else { throw Refusal.badRequest }
        let stored = latest(origin: origin)
        guard request.oldSize == stored?.size ?? 0 else { throw Refusal.conflict(latestSize: stored?.size ?? 0) }
        if let stored, stored.size == checkpoint.size {
            guard stored.root == checkpoint.rootHash else { throw Refusal.conflict(latestSize: stored.size) }
        } else if let stored {
            guard
                Merkle.verifyConsistency(
                    oldSize: stored.size, newSize: checkpoint.size, oldRoot: stored.root, newRoot: checkpoint.rootHash,
                    proof: request.proof)
            else { throw Refusal.invalidProof }
        } else {
            guard request.proof.isEmpty else { throw Refusal.invalidProof }
        }
        var updated = heads
        updated[origin] = Head(size: checkpoint.size, root: checkpoint.rootHash.base64)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        // Persisted durably before the cosignature leaves: a restarted witness never cosigns an older head.
        try DurableFile.replace(stateFile, with: try encoder.encode(updated))
        heads = updated
        return try signer.cosign(body: text, at: UInt64(max(0, now.timeIntervalSince1970)))
    }
}
