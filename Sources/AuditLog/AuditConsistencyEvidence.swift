public import Foundation

/// What a log's holder (the server) sends a client that checks the log against checkpoints the client trusts
/// (remote `audit verify --trusted FILE --max-cosignature-age S`): a checkpoint signed now over every entry, the key
/// chain, the handover checkpoints linking its keys, consistency proofs from the sizes asked for (and from every
/// handover and cosigned size) to that checkpoint, and the witnesses' stored cosignatures.
///
/// Nothing in it is taken on the holder's word: ``check(trusted:maxCosignatureAge:now:)`` accepts a log key only
/// when it verifies a checkpoint the client trusts, a later key only through a handover checkpoint signed by the key
/// before it, a witness key only when it verifies a cosignature on a trusted checkpoint, and a tree only through a
/// consistency proof it recomputes.
public struct AuditConsistencyEvidence: Sendable, Codable, Equatable {
    /// A retired log key and the size of its handover checkpoint.
    public struct RetiredKey: Sendable, Codable, Equatable {
        /// The verifier key (`<origin>+<key id>+<key>`).
        public var key: String
        /// The last tree size this key may sign.
        public var handoverSize: UInt64

        /// Creates a retired key record.
        public init(key: String, handoverSize: UInt64) {
            self.key = key
            self.handoverSize = handoverSize
        }
    }

    /// A consistency proof from a tree size to ``checkpoint``'s.
    public struct Proof: Sendable, Codable, Equatable {
        /// The older tree size.
        public var from: UInt64
        /// The proof's hashes, base64.
        public var hashes: [String]

        /// Creates a proof record.
        public init(from: UInt64, hashes: [String]) {
            self.from = from
            self.hashes = hashes
        }
    }

    /// The checkpoint signed now over every entry (a signed note).
    public var checkpoint: String
    /// The current log key (`<origin>+<key id>+<key>`).
    public var key: String
    /// The retired log keys, oldest first.
    public var retiredKeys: [RetiredKey]
    /// Each retired key's handover checkpoint (signed by it and its successor), oldest first.
    public var handovers: [String]
    /// Consistency proofs to ``checkpoint``'s size.
    public var proofs: [Proof]
    /// The witnesses' cosignature keys as the holder has them pinned (`<name>+<key id>+<key>`).
    public var witnesses: [String]
    /// The newest cosigned checkpoint stored for each witness (the log's note with the witness's line).
    public var cosignatures: [String]

    /// The most tree sizes a client may ask proofs from.
    public static let maxTrustedSizes = 16

    /// Creates evidence.
    public init(
        checkpoint: String, key: String, retiredKeys: [RetiredKey], handovers: [String], proofs: [Proof],
        witnesses: [String], cosignatures: [String]
    ) {
        self.checkpoint = checkpoint
        self.key = key
        self.retiredKeys = retiredKeys
        self.handovers = handovers
        self.proofs = proofs
        self.witnesses = witnesses
        self.cosignatures = cosignatures
    }

    /// The tree size a checkpoint note claims, read before any signature is checked (to ask for a proof from it).
    public static func claimedSize(of note: String) -> UInt64? {
        try? AuditKeyChain.uncheckedSize(of: note)
    }

    /// Gathers the evidence of the log in `directory`, whose latest checkpoint `signed` was just signed under `keys`:
    /// proofs from each of `trustedSizes` (at most ``maxTrustedSizes``; those past the checkpoint get none), from each
    /// handover and each stored cosignature of `witnesses`. Reads files: call it off the cooperative pool.
    public static func gather(
        directory: URL, keys: AuditKeyChain, signed: SignedCheckpoint, trustedSizes: [UInt64],
        witnesses: [CosignatureVerifier]
    ) throws -> AuditConsistencyEvidence {
        let reader = AuditLogReader(directory: directory)
        let size = signed.checkpoint.size
        let notes = try reader.checkpointNotes()
        let handovers = keys.retired.indices.compactMap { index -> String? in
            let retired = keys.retired[index]
            let successor = keys.successor(of: index)
            return notes.last { note in
                guard let old = try? SignedCheckpoint(verifying: note, with: retired.verifier) else { return false }
                return old.checkpoint.size == retired.handoverSize
                    && (try? SignedCheckpoint(verifying: note, with: successor)) != nil
            }
        }
        var cosignatures: [String] = []
        for witness in witnesses {
            let file = directory.appendingPathComponent(String(format: "cosigned-%08x.note", witness.keyID))
            guard let data = FileManager.default.contents(atPath: file.path), data.count <= 64 << 10 else { continue }
            cosignatures.append(String(decoding: data, as: UTF8.self))
        }
        var sizes = Array(Set(trustedSizes.prefix(maxTrustedSizes))).filter { $0 <= size }
        sizes += handovers.compactMap(claimedSize(of:)).filter { $0 <= size }
        sizes += cosignatures.compactMap(claimedSize(of:)).filter { $0 <= size }
        let leaves = try reader.records().prefix(Int(size)).map(\.leafHash)
        guard leaves.count == Int(size) else { throw AuditLogError.indexOutOfRange }
        var proofs: [Proof] = []
        for from in Set(sizes).sorted() {
            let proof = try Merkle.consistencyProof(from: Int(from), in: leaves[...])
            proofs.append(Proof(from: from, hashes: proof.map(\.base64)))
        }
        return AuditConsistencyEvidence(
            checkpoint: signed.note, key: keys.current.vkey,
            retiredKeys: keys.retired.map { RetiredKey(key: $0.verifier.vkey, handoverSize: $0.handoverSize) },
            handovers: handovers, proofs: proofs, witnesses: witnesses.map(\.vkey), cosignatures: cosignatures)
    }
}

/// What a client's check of ``AuditConsistencyEvidence`` found.
public struct AuditConsistencyCheck: Sendable, Equatable {
    /// The sizes of the trusted and cosigned checkpoints the log was proven consistent with, trusted ones first.
    public var trustedVerified: [UInt64] = []
    /// What failed (none: every trusted checkpoint is a prefix of the log).
    public var problems: [VerificationProblem] = []
    /// The newest cosignature's time from a witness whose key a trusted checkpoint carries a cosignature of.
    public var newestCosignature: Date?

    /// An empty result.
    public init() {}
}

/// Why a client's check could not even start.
public enum AuditConsistencyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A trusted checkpoint is not signed by any key of the log's chain.
    case untrustedCheckpoint
    /// The evidence does not parse.
    case malformedEvidence

    /// A fixed text.
    public var description: String {
        switch self {
        case .untrustedCheckpoint: "the trusted checkpoint is not signed by this vault's audit key"
        case .malformedEvidence: "the server's audit checkpoint evidence is malformed"
        }
    }
}

extension AuditConsistencyEvidence {
    /// Checks the evidence against checkpoints the client trusts (signed notes, as `audit checkpoint -o` writes them,
    /// possibly carrying witness cosignature lines), as the local `audit verify --trusted` does against the files:
    /// each trusted note must verify under the log key responsible for its size (which pins that key: the holder
    /// cannot make a key of its own verify the client's signature), every key after the earliest trusted one must be
    /// reached through its predecessor's handover checkpoint, the checkpoint signed now must verify under the key
    /// so reached, and a recomputed consistency proof must link each trusted checkpoint to it.
    ///
    /// Witness keys come from the trusted notes alone: a witness counts only when its key (as the holder lists it)
    /// verifies a cosignature line on one of them. Each such witness's stored cosignature is checked under that key and
    /// the log key, its checkpoint must be consistent too, and its time is the newest cosignature's; with
    /// `maxCosignatureAge` (seconds) an older one, or none, is a problem (``VerificationProblem/Kind/staleCosignature``).
    public func check(
        trusted notes: [String], maxCosignatureAge: TimeInterval?, now: Date = Date()
    ) throws -> AuditConsistencyCheck {
        guard let current = try? NoteVerifier(vkey: key),
            let retired = try? retiredKeys.map({
                AuditKeyChain.RetiredKey(verifier: try NoteVerifier(vkey: $0.key), handoverSize: $0.handoverSize)
            }),
            let keys = try? AuditKeyChain(current: current, retired: retired)
        else { throw AuditConsistencyError.malformedEvidence }
        var trusted: [Checkpoint] = []
        for note in notes {
            guard let signed = try? keys.verify(note) else { throw AuditConsistencyError.untrustedCheckpoint }
            trusted.append(signed.checkpoint)
        }
        var result = AuditConsistencyCheck()
        let proofs = Dictionary(proofs.map { ($0.from, $0.hashes) }, uniquingKeysWith: { first, _ in first })
        // The newest tree, under a key reached from the earliest trusted one.
        guard let head = try? keys.verify(checkpoint).checkpoint,
            linksKeys(keys, from: trusted.map(\.size).min(), to: head, proofs: proofs)
        else {
            result.problems.append(VerificationProblem(kind: .badCheckpointSignature))
            return result
        }
        func prove(_ checkpoint: Checkpoint) {
            if checkpoint.size > head.size {
                result.problems.append(VerificationProblem(kind: .inconsistentWithTrusted, index: head.size))
            } else if checkpoint.origin == keys.origin, let hashes = proofs[checkpoint.size],
                let path = Self.hashes(hashes),
                Merkle.verifyConsistency(
                    oldSize: checkpoint.size, newSize: head.size, oldRoot: checkpoint.rootHash, newRoot: head.rootHash,
                    proof: path)
            {
                result.trustedVerified.append(checkpoint.size)
            } else {
                result.problems.append(VerificationProblem(kind: .inconsistentWithTrusted))
            }
        }
        for checkpoint in trusted { prove(checkpoint) }
        // Witnesses the client's own notes vouch for: a cosignature line on a trusted note verifies under the key.
        var vouched: [CosignatureVerifier] = []
        for text in witnesses {
            guard let witness = try? CosignatureVerifier(vkey: text), !vouched.contains(witness),
                notes.contains(where: { (try? witness.verify($0)) != nil })
            else { continue }
            vouched.append(witness)
        }
        var times: [UInt64] = []
        for witness in vouched {
            let cosigned = cosignatures.compactMap { note -> (Checkpoint, UInt64)? in
                guard let time = try? witness.verify(note), let signed = try? keys.verify(note) else { return nil }
                return (signed.checkpoint, time)
            }
            guard let newest = cosigned.max(by: { $0.1 < $1.1 }) else { continue }
            prove(newest.0)
            times.append(newest.1)
        }
        result.newestCosignature = times.max().map { Date(timeIntervalSince1970: TimeInterval($0)) }
        if let maxCosignatureAge {
            let age = result.newestCosignature.map { now.timeIntervalSince($0) } ?? .infinity
            if age > maxCosignatureAge { result.problems.append(VerificationProblem(kind: .staleCosignature)) }
        }
        return result
    }

    /// Whether every key after the one responsible for `size` is reached through its predecessor's handover
    /// checkpoint (signed by both, naming the successor, consistent with `head`), so that `head`'s key is one the
    /// trusted checkpoint's key handed the log to. With no trusted size there is nothing to reach from.
    private func linksKeys(
        _ keys: AuditKeyChain, from size: UInt64?, to head: Checkpoint, proofs: [UInt64: [String]]
    ) -> Bool {
        guard let size else { return true }
        for index in keys.retired.indices where keys.retired[index].handoverSize >= size {
            let retired = keys.retired[index]
            let successor = keys.successor(of: index)
            let linked = handovers.contains { note in
                guard let old = try? SignedCheckpoint(verifying: note, with: retired.verifier),
                    old.checkpoint.size == retired.handoverSize,
                    let text = try? successor.verify(note),
                    AuditKeyChain.successor(namedIn: text)
                        == successor.publicKey.rawRepresentation.base64EncodedString(),
                    let hashes = proofs[old.checkpoint.size], let path = Self.hashes(hashes)
                else { return false }
                return Merkle.verifyConsistency(
                    oldSize: old.checkpoint.size, newSize: head.size, oldRoot: old.checkpoint.rootHash,
                    newRoot: head.rootHash, proof: path)
            }
            guard linked else { return false }
        }
        return true
    }

    private static func hashes(_ texts: [String]) -> [TreeHash]? {
        let hashes = texts.compactMap(TreeHash.init(base64:))
        return hashes.count == texts.count ? hashes : nil
    }
}
