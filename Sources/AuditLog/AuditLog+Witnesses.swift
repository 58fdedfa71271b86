public import Foundation

/// How a log reaches a witness: one `add-checkpoint` call (an HTTPS client, or an in-process ``Witness``).
public protocol WitnessTransport: Sendable {
    /// POSTs an `add-checkpoint` body and returns the HTTP status and response body.
    func addCheckpoint(_ body: Data) async throws -> (status: Int, body: Data)
}

extension Witness: WitnessTransport {
    /// Answers as the HTTP endpoint would.
    public func addCheckpoint(_ body: Data) async throws -> (status: Int, body: Data) {
        do {
            let cosignature: String = try addCheckpoint(body, now: Date())
            return (200, Data(cosignature.utf8))
        } catch let refusal as Refusal {
            if case .conflict(let size) = refusal { return (409, Data("\(size)\n".utf8)) }
            return (refusal.status, Data(refusal.description.utf8))
        }
    }
}

/// A witness a vault's log submits its checkpoints to: its pinned cosignature key and the way to reach it.
public struct WitnessEndpoint: Sendable {
    /// The pinned key (shown as a fingerprint when the witness is added).
    public var verifier: CosignatureVerifier
    /// How to reach it.
    public var transport: any WitnessTransport

    /// Creates an endpoint.
    public init(verifier: CosignatureVerifier, transport: any WitnessTransport) {
        self.verifier = verifier
        self.transport = transport
    }
}

/// What submitting a checkpoint to a witness showed.
public enum WitnessOutcome: Sendable, Equatable {
    /// Cosigned: the checkpoint note with the witness's cosignature line, and its timestamp.
    case cosigned(note: String, timestamp: UInt64)
    /// The witness holds a larger tree than the local log: the log was rolled back or truncated.
    case witnessAhead(size: UInt64)
    /// The witness holds a different tree of the same or an earlier size (a fork or rewrite), or refused the proof.
    case inconsistent(status: Int)
    /// The witness refuses the log's checkpoint key (403): it pins a retired audit key (after `keys rotate
    /// --reencrypt`; restart it with the vault's new `audit/verifier.vkey`) or another one. Reported, never silent.
    case keyRefused
    /// The witness could not be reached or refused for another reason (appends go on; the cosignature ages).
    case unavailable(status: Int?)
}

extension AuditLog {
    /// Submits the latest checkpoint (signed now if needed) to `witness`, following the tlog-witness protocol: the
    /// old size is what the witness last cosigned (`known`, else learnt from a 409), with a consistency proof from
    /// it. A successful cosignature is stored as `cosigned-<key id>.note` in the audit directory.
    ///
    /// With `latest` false (background cosigning), a checkpoint this writer already signed and made durable (the
    /// group commit signs one every ``checkpointInterval`` entries) is sent when it is newer than the witness's, rather
    /// than one signed and synced now beside the appends; it may trail the newest entries by up to that interval.
    public func submit(
        to witness: WitnessEndpoint, knownSize known: UInt64? = nil, latest: Bool = true
    ) async -> WitnessOutcome {
        let directory = directory
        let keys = keyChain
        var oldSize =
            known ?? Self.storedCosignature(in: directory, verifier: witness.verifier, keys: keys)?.checkpoint.size ?? 0
        let checkpoint: SignedCheckpoint
        if !latest, let reusable = durableCheckpoint(after: oldSize) {
            checkpoint = reusable
        } else {
            guard let signed = try? await self.checkpoint() else { return .unavailable(status: nil) }
            checkpoint = signed
        }
        var handedOver = false
        for _ in 0..<3 {
            if oldSize > checkpoint.checkpoint.size { return .witnessAhead(size: oldSize) }
            guard let proof = await consistencyProof(from: oldSize, to: checkpoint.checkpoint.size) else {
                return .inconsistent(status: 0)
            }
            let request = AddCheckpointRequest(
                oldSize: oldSize, proof: oldSize == 0 ? [] : proof, checkpoint: checkpoint.note)
            guard let (status, body) = try? await witness.transport.addCheckpoint(request.body) else {
                return .unavailable(status: nil)
            }
            switch status {
            case 200:
                let note = checkpoint.note + String(decoding: body, as: UTF8.self)
                guard let timestamp = try? witness.verifier.verify(note) else { return .unavailable(status: 200) }
                let file = directory.appendingPathComponent(
                    String(format: "cosigned-%08x.note", witness.verifier.keyID))
                try? Data(note.utf8).write(to: file, options: .atomic)
                return .cosigned(note: note, timestamp: timestamp)
            case 409:
                let text = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                guard let size = UInt64(text) else { return .inconsistent(status: 409) }
                if size > checkpoint.checkpoint.size { return .witnessAhead(size: size) }
                // Same size as ours, yet a conflict: the witness cosigned another root.
                if size == oldSize { return .inconsistent(status: 409) }
                oldSize = size
            case 422: return .inconsistent(status: 422)
            case 403:
                // A witness that holds an older key takes the newer one only from the handover checkpoint that names
                // it (it missed the handover): send each handover since `oldSize`, then the latest checkpoint again.
                guard !handedOver else { return .keyRefused }
                handedOver = true
                switch await submitHandovers(to: witness, from: oldSize, upTo: checkpoint.checkpoint.size) {
                case .success(let size): oldSize = size
                case .failure(let failure): return failure.outcome
                }
            default: return .unavailable(status: status)
            }
        }
        return .inconsistent(status: 409)
    }

    private struct SubmitFailure: Error {
        var outcome: WitnessOutcome
    }

    /// Sends the log's handover checkpoints of sizes in `(size, limit]` to `witness`, oldest first, and returns the
    /// size it then holds. A 409 takes the witness's size, as ``submit(to:knownSize:)`` does: one at or past a
    /// handover skips it. No handover to send is `.keyRefused`.
    private func submitHandovers(
        to witness: WitnessEndpoint, from size: UInt64, upTo limit: UInt64
    ) async -> Result<UInt64, SubmitFailure> {
        let handovers = await handoverNotes(after: size, upTo: limit)
        guard !handovers.isEmpty else { return .failure(SubmitFailure(outcome: .keyRefused)) }
        var oldSize = size
        for handover in handovers {
            var attempts = 0
            while oldSize < handover.size {
                attempts += 1
                guard attempts <= 2, let proof = await consistencyProof(from: oldSize, to: handover.size) else {
                    return .failure(SubmitFailure(outcome: .inconsistent(status: 409)))
                }
                let request = AddCheckpointRequest(
                    oldSize: oldSize, proof: oldSize == 0 ? [] : proof, checkpoint: handover.note)
                guard let (status, body) = try? await witness.transport.addCheckpoint(request.body) else {
                    return .failure(SubmitFailure(outcome: .unavailable(status: nil)))
                }
                switch status {
                case 200: oldSize = handover.size
                case 409:
                    let text = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                    guard let witnessSize = UInt64(text), witnessSize != oldSize else {
                        return .failure(SubmitFailure(outcome: .inconsistent(status: 409)))
                    }
                    if witnessSize > limit { return .failure(SubmitFailure(outcome: .witnessAhead(size: witnessSize))) }
                    oldSize = witnessSize
                case 403: return .failure(SubmitFailure(outcome: .keyRefused))
                default: return .failure(SubmitFailure(outcome: .inconsistent(status: status)))
                }
            }
        }
        return .success(oldSize)
    }

    /// The log's handover checkpoints (each signed by a retired key and its successor, at that key's handover size)
    /// of sizes in `(size, limit]`, oldest first.
    private func handoverNotes(after size: UInt64, upTo limit: UInt64) async -> [(size: UInt64, note: String)] {
        let keys = keyChain
        let pending = keys.retired.indices.filter {
            keys.retired[$0].handoverSize > size && keys.retired[$0].handoverSize <= limit
        }
        guard !pending.isEmpty else { return [] }
        let directory = directory
        let notes =
            (try? await Self.run(on: Self.proofQueue) { try AuditLogReader(directory: directory).checkpointNotes() }
                .get()) ?? []
        return pending.compactMap { index in
            let retired = keys.retired[index]
            let successor = keys.successor(of: index)
            let note = notes.last { note in
                guard let signed = try? SignedCheckpoint(verifying: note, with: retired.verifier) else { return false }
                return signed.checkpoint.size == retired.handoverSize
                    && (try? SignedCheckpoint(verifying: note, with: successor)) != nil
            }
            return note.map { (retired.handoverSize, $0) }
        }
    }

    /// The newest checkpoint `witness` cosigned, as stored beside the log: the checkpoint and the cosignature time.
    /// `nil` when there is none or it does not verify under both the log key and the pinned witness key.
    public nonisolated static func storedCosignature(
        in directory: URL, verifier witness: CosignatureVerifier, log: NoteVerifier
    ) -> (checkpoint: Checkpoint, timestamp: UInt64)? {
        guard let keys = try? AuditKeyChain(current: log) else { return nil }
        return storedCosignature(in: directory, verifier: witness, keys: keys)
    }

    /// ``storedCosignature(in:verifier:log:)`` for a log whose key was rotated: a cosignature kept from before a
    /// handover verifies under the retired key responsible for its size.
    public nonisolated static func storedCosignature(
        in directory: URL, verifier witness: CosignatureVerifier, keys: AuditKeyChain
    ) -> (checkpoint: Checkpoint, timestamp: UInt64)? {
        let file = directory.appendingPathComponent(String(format: "cosigned-%08x.note", witness.keyID))
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        let note = String(decoding: data, as: UTF8.self)
        guard let timestamp = try? witness.verify(note), let checkpoint = try? keys.verify(note).checkpoint
        else { return nil }
        return (checkpoint, timestamp)
    }

    /// Cosigns in the background: whenever `entries` entries were appended since the last round (at most one such
    /// round a second, or per `interval` if shorter), or `interval` passed with entries no witness cosigned yet, every
    /// witness gets a checkpoint: the newest one the group commit signed and synced if it is newer than the witness's
    /// (no signing or syncing beside the appends), else one signed now. Appends never wait for it; an unreachable
    /// witness only lets the newest cosignature age (which `audit verify` reports). Cancel the task to stop.
    public nonisolated func cosignContinuously(
        with witnesses: [WitnessEndpoint], every interval: Duration, orEntries entries: UInt64,
        poll: Duration = .milliseconds(200),
        onOutcome: @escaping @Sendable (CosignatureVerifier, WitnessOutcome) -> Void = { _, _ in }
    ) -> Task<Void, Never> {
        Task {
            var roundSize: UInt64 = 0
            var witnessedSize: UInt64 = 0
            var lastTime = ContinuousClock.now
            // Under a heavy load `entries` come many times a second; each round costs the witness a durable write.
            let spacing = min(interval, .seconds(1))
            while !Task.isCancelled {
                try? await Task.sleep(for: poll)
                let size = await self.size
                let elapsed = ContinuousClock.now - lastTime
                let due =
                    (size >= roundSize + max(1, entries) && elapsed >= spacing)
                    || (size > witnessedSize && elapsed >= interval)
                guard due else { continue }
                var sent = size
                for witness in witnesses {
                    let outcome = await self.submit(to: witness, latest: false)
                    // A reused checkpoint may trail the entries: the rest goes at a later round, timed if need be.
                    if case .cosigned(let note, _) = outcome,
                        let cosigned = try? await self.keyChain.verify(note).checkpoint.size
                    {
                        sent = min(sent, cosigned)
                    }
                    onOutcome(witness.verifier, outcome)
                }
                roundSize = size
                witnessedSize = sent
                lastTime = ContinuousClock.now
            }
        }
    }

    /// Verifies the log (see ``verify(trusted:)``) after asking each witness whether it holds a newer or another tree
    /// (a live `add-checkpoint`, which also refreshes its cosignature), and with each witness's newest stored
    /// cosignature as a trusted checkpoint. Reports the newest cosignature's time; with `maxCosignatureAge`, an older
    /// one (or none) fails the verification.
    public func verify(
        trusted: [Checkpoint] = [], witnesses: [WitnessEndpoint], maxCosignatureAge: TimeInterval? = nil,
        now: Date = Date()
    ) async throws -> VerificationReport {
        var found: [VerificationProblem] = []
        for witness in witnesses {
            switch await submit(to: witness) {
            case .witnessAhead: found.append(.init(kind: .inconsistentWithWitness, index: size))
            case .inconsistent: found.append(.init(kind: .inconsistentWithWitness))
            case .keyRefused: found.append(.init(kind: .witnessRefusesKey))
            case .cosigned, .unavailable: break
            }
        }
        let cosigned = witnesses.compactMap {
            Self.storedCosignature(in: directory, verifier: $0.verifier, keys: keyChain)
        }
        var report = try await verify(trusted: trusted + cosigned.map(\.checkpoint))
        report.newestCosignature = cosigned.map(\.timestamp).max().map { Date(timeIntervalSince1970: TimeInterval($0)) }
        if let maxCosignatureAge {
            let age = report.newestCosignature.map { now.timeIntervalSince($0) } ?? .infinity
            if age > maxCosignatureAge { found.append(.init(kind: .staleCosignature)) }
        }
        for problem in found { report.add(problem) }
        return report
    }
}
