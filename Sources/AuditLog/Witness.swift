import Crypto
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
        /// The newest of the log's keys (index in the order given) that signed a checkpoint this head came from;
        /// `nil` in state written before it was kept (the oldest key). Read from older state only: it depended on
        /// the order of `--log-key` at each start (review 5, trust F4).
        var key: Int?
        /// The log's keys in rotation order, oldest first (base64 Ed25519 public keys), as this witness first
        /// learned them. Kept with the head so that the order of the keys given at a later start cannot change which
        /// key counts as newer.
        var order: [String]?
        /// The position in `order` of the newest key that signed a checkpoint this head came from.
        var rank: Int?
        /// The key (base64 public key) the key in force handed the log over to at this head, when this witness was
        /// not given it: it joins `order` once given, and until then no key moves the log past the head.
        var successor: String?
    }

    /// The configuration a witness refuses to start with.
    public struct ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
        /// A fixed text naming the log whose keys are out of order.
        public let description: String
    }

    /// The `Content-Type` of a 409 response, whose body is the latest cosigned size in decimal and a newline.
    public static let sizeContentType = "text/x.tlog.size"

    /// The cosigner.
    public nonisolated let signer: CosignatureSigner
    /// Each log's keys by origin, oldest first: after an audit-key rotation the witness is given the new key in
    /// addition to the retired one.
    private let logs: [String: [NoteVerifier]]
    /// Each log's keys in rotation order (base64 public keys, oldest first): the order kept in the state (with the
    /// successors handovers named), or the order given at the first start of a log the state does not know yet.
    private var orders: [String: [String]]
    private let stateFile: URL
    private var heads: [String: Head]

    /// A handover to a given key, signed by it and by a key of the kept order no older than the one behind the head
    /// that this start did not give (the operator gave the new key in place of the old one): the old key's
    /// signature counts for this note only, as the one naming its successor. The text and that key's rank, or `nil`.
    private func handoverSignedByAKeyLeftOut(
        _ note: String, origin: String, order: [String], given: [NoteVerifier]
    ) -> (text: String, key: Int)? {
        let storedKey = heads[origin]?.rank ?? 0
        guard heads[origin]?.successor == nil,
            let named = given.first(where: { !order.contains(Self.name(of: $0)) && (try? $0.verify(note)) != nil }),
            let text = try? named.verify(note), AuditKeyChain.successor(namedIn: text) == Self.name(of: named)
        else { return nil }
        for rank in order.indices.reversed() where rank >= storedKey {
            guard let raw = Data(base64Encoded: order[rank]),
                let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw),
                let verifier = try? NoteVerifier(name: origin, publicKey: key),
                (try? verifier.verify(note)) != nil
            else { continue }
            return (text, rank)
        }
        return nil
    }

    /// The stable name of a log key in the state file.
    private static func name(of key: NoteVerifier) -> String { key.publicKey.rawRepresentation.base64EncodedString() }

    /// A witness for `logs` (checkpoint verifiers, keyed by their origin) keeping its state in `stateFile`.
    ///
    /// Several keys of one origin are that log's keys in rotation order, oldest first. Once a newer key signed a
    /// checkpoint the witness cosigned, an older one can no longer move the log past that head: a copy of the log
    /// from before the rotation (or one continued with the retired, possibly compromised, key) is answered with 409
    /// and the witness's size, which the vault refuses as rolled back or forked.
    ///
    /// The order is kept in the state with each head: a later start may leave keys out or add newer ones at the end,
    /// but giving known keys in another order throws ``ConfigurationError`` (review 5, trust F4: before, the order
    /// of `--log-key` at each start decided which key was newer, so a reordered start let the retired key move the
    /// log again, and one without the retired key refused the new key's checkpoints). A key the state does not know
    /// signs nothing until the key in force names it in a handover checkpoint (an extension line it signs, see
    /// ``AuditKeyChain/handoverLine(naming:)``) that moves the log past the head; named while not given, it is kept
    /// as the head's successor, joins at the start that gives it, and until then no key moves the log past the head.
    ///
    /// `adopting` names given keys to take as the newest key in force at once, with no handover naming them: the
    /// operator's word, for a rotation made before handovers named their successor, or to recover a witness whose
    /// head names a successor that will never be given. The adoption is written to the state before the witness
    /// serves. Adopting a retired key lets it move the log again: adopt only a key read from the vault itself.
    public init(
        signer: CosignatureSigner, logs: [NoteVerifier], stateFile: URL, adopting adopted: [NoteVerifier] = []
    ) throws {
        self.signer = signer
        // Duplicates are the same public key: two keys whose 4-byte IDs collide both stay (review 9: an attacker key
        // built to share the new key's ID, listed first, hid it).
        let grouped = Dictionary(grouping: logs, by: \.name).mapValues { keys in
            keys.reduce(into: [NoteVerifier]()) { kept, key in
                if !kept.contains(where: { $0.publicKey.rawRepresentation == key.publicKey.rawRepresentation }) {
                    kept.append(key)
                }
            }
        }
        guard adopted.allSatisfy({ key in logs.contains { $0 == key } }) else {
            throw ConfigurationError(description: "an adopted log key must also be given as a log key")
        }
        self.stateFile = stateFile
        var heads: [String: Head] = [:]
        // Only a state file that is absent starts a witness afresh. One that exists but cannot be read (a directory
        // or a link in its place, a permission mistake) used to read as absent too, and the witness then cosigned from
        // size 0 whatever it was sent, overwriting the heads it had answered for (review 9).
        if let data = try Self.readState(stateFile) {
            guard let stored = try? JSONDecoder().decode([String: Head].self, from: data) else {
                throw AuditLogError.corruptCheckpoint
            }
            heads = stored
        }
        var orders: [String: [String]] = [:]
        var adoptedAny = false
        for (origin, keys) in grouped {
            let given = keys.map(Self.name(of:))
            guard let head = heads[origin] else {
                orders[origin] = given
                continue
            }
            // State from before the order was kept: the order given now is taken as the one it was written with.
            let known = head.order ?? given
            let positions = given.compactMap { known.firstIndex(of: $0) }
            guard positions == positions.sorted() else {
                throw ConfigurationError(
                    description: "the log keys of \(origin) are given in another order than before (oldest first)")
            }
            // A key the state does not know is ranked newest, so it may only follow every known key given: placed
            // before one, a retired key new to this witness would outrank the key in force (review 7, M1).
            if let firstNew = given.firstIndex(where: { !known.contains($0) }),
                given[firstNew...].contains(where: { known.contains($0) })
            {
                throw ConfigurationError(
                    description: "a log key of \(origin) new to this witness is given before a key it already knows")
            }
            // A key new to the state joins the order only as the successor a handover checkpoint, signed by the key
            // in force, named (review 8, F4: a key new to the state was ranked newest, so a retired key listed after
            // the key in force to a witness that never saw it moved the log again). Other new keys sign nothing.
            if head.order == nil {
                heads[origin]?.order = known
                heads[origin]?.rank = head.key ?? 0
            }
            var order = known
            if let successor = head.successor, given.contains(successor) {
                order.append(successor)
                heads[origin]?.rank = order.count - 1
                heads[origin]?.successor = nil
            }
            for key in adopted where key.name == origin {
                let name = Self.name(of: key)
                if let index = order.firstIndex(of: name) {
                    // A key the state knows as older is never made newer again: that would undo a rotation.
                    guard index == order.count - 1 else {
                        throw ConfigurationError(
                            description: "an adopted log key of \(origin) is already known as an older key")
                    }
                    if heads[origin]?.rank == index, heads[origin]?.successor == nil { continue }
                } else {
                    order.append(name)
                }
                heads[origin]?.order = order
                heads[origin]?.rank = order.count - 1
                heads[origin]?.successor = nil
                adoptedAny = true
            }
            orders[origin] = order
        }
        self.logs = grouped
        if adoptedAny {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            try DurableFile.replace(stateFile, with: try encoder.encode(heads))
        }
        self.orders = orders
        self.heads = heads
    }

    /// The state file's bytes, or `nil` when there is no file at all; anything else that is not a readable regular
    /// file throws.
    private static func readState(_ url: URL) throws -> Data? {
        var status = stat()
        guard lstat(url.path, &status) == 0 else {
            if errno == ENOENT { return nil }
            throw AuditLogError.io(errno)
        }
        guard status.st_mode & S_IFMT == S_IFREG, let data = FileManager.default.contents(atPath: url.path) else {
            throw AuditLogError.corruptCheckpoint
        }
        return data
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
        guard let verifiers = logs[origin], var order = orders[origin] else { throw Refusal.unknownOrigin }
        let stored = latest(origin: origin)
        let storedKey = heads[origin]?.rank ?? 0
        let pending = heads[origin]?.successor
        // The newest key that verifies the note, by its place in the kept rotation order (a given key outside it
        // signs nothing).
        var signed: (text: String, key: Int)?
        let ranked = verifiers.compactMap { verifier in
            order.firstIndex(of: Self.name(of: verifier)).map { (verifier: verifier, rank: $0) }
        }
        for (verifier, rank) in ranked.sorted(by: { $0.rank > $1.rank }) {
            do {
                signed = (try verifier.verify(request.checkpoint), rank)
                break
            } catch let error as AuditLogError where error == .corruptCheckpoint {
                throw Refusal.badRequest
            } catch {
                continue
            }
        }
        if signed == nil {
            signed = handoverSignedByAKeyLeftOut(request.checkpoint, origin: origin, order: order, given: verifiers)
        }
        guard let signed else {
            // No key of this log verifies it: a key the witness was not given, or one it no longer lists. A claimed
            // size below the head is a copy from before that head (the size is not secret): answered as any stale
            // request, so the vault refuses it instead of taking it for a witness that lacks its new key.
            if let stored, let claimed = Self.unverifiedSize(of: request.checkpoint), claimed < stored.size {
                throw Refusal.conflict(latestSize: stored.size)
            }
            throw Refusal.badSignature
        }
        let text = signed.text
        guard let checkpoint = try? Checkpoint(text: text) else { throw Refusal.badRequest }
        guard request.oldSize <= checkpoint.size else { throw Refusal.badRequest }
        // A key older than the one behind the head (retired by a rotation) never moves the log past that head, and
        // once the head is a handover to a key this witness was not given, no key it holds does.
        if let stored, signed.key < storedKey || pending != nil, checkpoint.size > stored.size {
            throw Refusal.conflict(latestSize: stored.size)
        }
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
        // A handover: the key in force names its successor in the checkpoint it signs. Given, and signing the same
        // checkpoint, the successor becomes the key in force; not given, it is kept until a start gives it.
        var rank = max(signed.key, storedKey)
        var successor = pending
        if signed.key >= storedKey, checkpoint.size > stored?.size ?? 0,
            let named = AuditKeyChain.successor(namedIn: text), !order.contains(named)
        {
            // Given, it joins on the key in force's word alone: its own signature line could be spoiled by anyone
            // (a junk line under its key ID fails its check; review 9).
            if verifiers.contains(where: { Self.name(of: $0) == named }) {
                order.append(named)
                rank = order.count - 1
                successor = nil
            } else {
                successor = named
            }
        }
        var updated = heads
        updated[origin] = Head(
            size: checkpoint.size, root: checkpoint.rootHash.base64, key: nil, order: order, rank: rank,
            successor: successor)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        // Persisted durably before the cosignature leaves: a restarted witness never cosigns an older head.
        try DurableFile.replace(stateFile, with: try encoder.encode(updated))
        heads = updated
        orders[origin] = order
        return try signer.cosign(body: text, at: UInt64(max(0, now.timeIntervalSince1970)))
    }

    /// The size line of a note's checkpoint, unverified.
    private static func unverifiedSize(of note: String) -> UInt64? {
        guard let end = note.range(of: "\n\n") else { return nil }
        return try? Checkpoint(text: String(note[..<end.lowerBound]) + "\n").size
    }
}
