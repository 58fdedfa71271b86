public import Foundation
import Synchronization
public import VaultServer

/// Forwards a serving pod's audit entries to the vault's log through `POST /v1/audit/batches` (`audit.append`, up
/// to 64 entries a request), where the pod cannot rewrite them.
///
/// Entries wait in a bounded in-memory queue: ``enqueue(_:)`` never waits for the network, so inference is never
/// held up by the vault. One task (``run()``) sends them in order; a network error, a 5xx or a 429 keeps the entry
/// and retries after an exponential backoff (doubling up to a ceiling), while any other refusal (a 4xx: the token
/// revoked, or an entry the server rejects) drops that entry, counted as rejected. When the queue is full a new
/// entry is dropped and counted: the counts are exported as metrics, and the pod's own local log still holds
/// every entry.
///
/// Every attempt is bounded (`attemptTimeout`), and everything after ``stop()`` ends within `drainTimeout`: the
/// attempt in progress may finish within it, a backoff ends at once, and the drain stops at that deadline, so a
/// vault that accepts the connection and never answers cannot keep the pod from shutting down within its grace
/// period (review 4, F4). An abandoned entry stays queued and is tried again by the drain: delivery is at least
/// once.
///
/// Entries go in batches of what is queued (up to `batchSize`): one entry per request topped out at about 115
/// entries/s per pod under the vault's per-principal request limit (review 5, F4). A batch the vault refuses for
/// good (one bad entry refuses the whole request, and so does a vault without the batch route) is sent again one
/// entry at a time, so only the refused entry is dropped.
public actor AuditForwarder {
    /// What happened to the entries so far.
    public struct Counts: Sendable, Equatable {
        /// Recorded by the vault.
        public var forwarded = 0
        /// Dropped because the queue was full.
        public var dropped = 0
        /// Refused by the vault for good (a 4xx other than 408 and 429).
        public var rejected = 0
        /// Attempts that failed and were retried.
        public var retries = 0
        /// Waiting in the queue now.
        public var pending = 0
    }

    /// Sends one entry; throws ``VaultClientError`` (its `status` tells a refusal from an outage).
    public typealias Sender = @Sendable (AppendAuditRequest) async throws -> Void
    /// Sends a batch of entries in one request; throws as ``Sender``.
    public typealias BatchSender = @Sendable ([AppendAuditRequest]) async throws -> Void

    /// The most entries sent in one request (the vault's `AppendAuditBatchRequest.maxEntries`).
    public static let batchSize = AppendAuditBatchRequest.maxEntries

    let capacity: Int
    let initialBackoff: Duration
    let maximumBackoff: Duration
    let attemptTimeout: Duration
    let drainTimeout: Duration
    private var queue: [AppendAuditRequest] = []
    private var head = 0
    private var counts = Counts()
    private var stopping = false
    private var stoppedAt: ContinuousClock.Instant?
    /// Ends the run loop's current attempt or backoff at ``stop()``.
    private var interrupt: (@Sendable () -> Void)?
    /// Entries before this queue index are sent one at a time (their batch was refused).
    private var singlyUntil = 0

    /// Creates a forwarder.
    ///
    /// - Parameters:
    ///   - capacity: the most entries held in memory; beyond it new entries are dropped (counted).
    ///   - initialBackoff: the first wait after a failed attempt; it doubles up to `maximumBackoff`.
    ///   - attemptTimeout: the longest one attempt may take before it counts as failed (and is retried).
    ///   - drainTimeout: how long after ``stop()`` the forwarder may still send (well under the pod's 30 s grace).
    public init(
        capacity: Int = 10_000, initialBackoff: Duration = .milliseconds(250), maximumBackoff: Duration = .seconds(30),
        attemptTimeout: Duration = .seconds(10), drainTimeout: Duration = .seconds(5)
    ) {
        self.drainTimeout = drainTimeout
        self.capacity = max(1, capacity)
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.attemptTimeout = attemptTimeout
    }

    /// Queues an entry, or drops it (counted) when the queue is full. Never waits.
    ///
    /// - Returns: whether the entry was queued.
    @discardableResult
    public func enqueue(_ entry: AppendAuditRequest) -> Bool {
        guard queue.count - head < capacity else {
            counts.dropped += 1
            return false
        }
        // An id of its own, so a retry after an attempt that timed out once the vault had recorded it is not
        // recorded twice.
        var entry = entry
        if entry.id == nil { entry.id = UUID().uuidString }
        queue.append(entry)
        return true
    }

    /// The counts so far.
    public var snapshot: Counts {
        var current = counts
        current.pending = queue.count - head
        return current
    }

    /// Sends queued entries through `client` until ``stop()``, then tries the rest: it returns within about
    /// `drainTimeout` of ``stop()`` whatever the vault does.
    public func run(client: VaultClient) async {
        let send: BatchSender = { batch in
            if batch.count == 1 {
                try await client.appendAuditEntry(batch[0])
            } else {
                try await client.appendAuditEntries(batch)
            }
        }
        await run(batchesOf: Self.batchSize, send)
        await flush(until: (stoppedAt ?? .now) + drainTimeout, batchesOf: Self.batchSize, send)
    }

    /// Makes ``run(_:)`` return (at shutdown): a backoff ends at once, the attempt in progress is abandoned if it has
    /// not ended within `drainTimeout` (its entry stays queued).
    public func stop() {
        stopping = true
        stoppedAt = stoppedAt ?? .now
        interrupt?()
        interrupt = nil
    }

    /// Sends queued entries with `send`, one per request, until ``stop()`` or cancellation.
    public func run(_ send: @escaping Sender) async {
        await run(batchesOf: 1) { batch in try await send(batch[0]) }
    }

    /// Sends queued entries with `send`, up to `size` per request, until ``stop()`` or cancellation.
    public func run(batchesOf size: Int, _ send: @escaping BatchSender) async {
        var backoff = initialBackoff
        while !stopping, !Task.isCancelled {
            guard head < queue.count else {
                await pause(.milliseconds(50))
                continue
            }
            let batch = nextBatch(size)
            switch await attempt(batch, within: attemptTimeout, send, interruptible: true) {
            case .sent:
                counts.forwarded += batch.count
                pop(batch.count)
                backoff = initialBackoff
            case .refused:
                refused(batch)
            case .failed:
                counts.retries += 1
                await pause(backoff)
                backoff = min(backoff * 2, maximumBackoff)
            case .interrupted:
                return
            }
        }
    }

    /// Tries to send what is queued for at most `timeout` (at shutdown); what is left stays counted as pending.
    public func flush(timeout: Duration, _ send: @escaping Sender) async {
        await flush(until: .now + timeout, batchesOf: 1) { batch in try await send(batch[0]) }
    }

    private func flush(
        until deadline: ContinuousClock.Instant, batchesOf size: Int, _ send: @escaping BatchSender
    ) async {
        while head < queue.count, ContinuousClock.now < deadline, !Task.isCancelled {
            let left = deadline - ContinuousClock.now
            let batch = nextBatch(size)
            switch await attempt(batch, within: min(attemptTimeout, left), send, interruptible: false) {
            case .sent:
                counts.forwarded += batch.count
                pop(batch.count)
            case .refused:
                refused(batch)
            case .failed, .interrupted:
                counts.retries += 1
                try? await Task.sleep(for: min(initialBackoff, deadline - ContinuousClock.now))
            }
        }
    }

    /// How one attempt ended.
    enum Outcome: Sendable {
        case sent, refused, failed, interrupted
    }

    /// Sends `entry`, but stops waiting after `timeout`, when the calling task is cancelled, or (if `interruptible`)
    /// `drainTimeout` after ``stop()``. A send that ignores cancellation is left to finish on its own; its result is ignored.
    private func attempt(
        _ batch: [AppendAuditRequest], within timeout: Duration, _ send: @escaping BatchSender, interruptible: Bool
    ) async -> Outcome {
        let race = Race()
        let sender = Task {
            do {
                try await send(batch)
                race.finish(.sent)
            } catch let error as VaultClientError where Self.isPermanent(error) {
                race.finish(.refused)
            } catch {
                race.finish(.failed)
            }
        }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            race.finish(.failed)
        }
        if interruptible {
            // At stop the attempt may still end well within the drain time; only a stalled one is abandoned.
            let grace = drainTimeout
            interrupt = {
                Task {
                    try? await Task.sleep(for: grace)
                    race.finish(.interrupted)
                }
            }
        }
        let outcome = await withTaskCancellationHandler {
            await withCheckedContinuation { race.start($0) }
        } onCancel: {
            race.finish(.interrupted)
        }
        if interruptible { interrupt = nil }
        timer.cancel()
        sender.cancel()
        return outcome
    }

    /// Waits `duration`, or less if ``stop()`` is called or the task is cancelled.
    private func pause(_ duration: Duration) async {
        guard !stopping else { return }
        let sleeper = Task { try? await Task.sleep(for: duration) }
        interrupt = { sleeper.cancel() }
        await withTaskCancellationHandler {
            await sleeper.value
        } onCancel: {
            sleeper.cancel()
        }
        interrupt = nil
    }

    /// The first of several racing outcomes, handed to one waiting continuation exactly once.
    final class Race: Sendable {
        private let state = Mutex<(waiter: CheckedContinuation<Outcome, Never>?, outcome: Outcome?)>((nil, nil))

        func start(_ waiter: CheckedContinuation<Outcome, Never>) {
            let ready: Outcome? = state.withLock { state in
                if let outcome = state.outcome { return outcome }
                state.waiter = waiter
                return nil
            }
            if let ready { waiter.resume(returning: ready) }
        }

        func finish(_ outcome: Outcome) {
            let waiter: CheckedContinuation<Outcome, Never>? = state.withLock { state in
                guard state.outcome == nil else { return nil }
                state.outcome = outcome
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: outcome)
        }
    }

    /// The entries the next request carries: up to `size` from the head, one while a refused batch is resent.
    private func nextBatch(_ size: Int) -> [AppendAuditRequest] {
        let count = head < singlyUntil ? 1 : min(max(1, size), queue.count - head)
        return Array(queue[head..<(head + count)])
    }

    /// A refused single entry is dropped (counted); a refused batch is sent again one entry at a time.
    private func refused(_ batch: [AppendAuditRequest]) {
        if batch.count == 1 {
            counts.rejected += 1
            pop(1)
        } else {
            singlyUntil = head + batch.count
        }
    }

    private func pop(_ count: Int) {
        head += count
        // Compact now and then, so the array does not grow with everything ever sent.
        if head >= 1024, head * 2 >= queue.count {
            queue.removeFirst(head)
            singlyUntil = max(0, singlyUntil - head)
            head = 0
        }
    }

    static func isPermanent(_ error: VaultClientError) -> Bool {
        guard let status = error.httpStatus else { return false }
        return (400..<500).contains(status) && status != 408 && status != 429
    }

    /// The counts in the Prometheus text format.
    public func metricLines() -> String {
        let current = snapshot
        let rows: [(String, String, String, Int)] = [
            (
                "modelvault_audit_forwarded_total", "counter", "Audit entries recorded by the vault's log.",
                current.forwarded
            ),
            (
                "modelvault_audit_forward_dropped_total", "counter",
                "Audit entries dropped because the forwarding queue was full.", current.dropped
            ),
            (
                "modelvault_audit_forward_rejected_total", "counter", "Audit entries the vault refused for good.",
                current.rejected
            ),
            (
                "modelvault_audit_forward_retries_total", "counter",
                "Failed attempts to forward an audit entry, retried.", current.retries
            ),
            ("modelvault_audit_forward_pending", "gauge", "Audit entries waiting to be forwarded.", current.pending),
        ]
        return rows.map { "# HELP \($0.0) \($0.2)\n# TYPE \($0.0) \($0.1)\n\($0.0) \($0.3)\n" }.joined()
    }
}

extension VaultClient {
    /// `POST /v1/audit/entries` (`audit.append`): records one entry in the vault's log under the caller's principal.
    public func appendAuditEntry(_ entry: AppendAuditRequest) async throws {
        _ = try await data(.POST, Self.path("", "v1", "audit", "entries"), json: try Self.encode(entry))
    }

    /// `POST /v1/audit/batches` (`audit.append`): records up to 64 entries in one request and one durable write.
    public func appendAuditEntries(_ entries: [AppendAuditRequest]) async throws {
        _ = try await data(
            .POST, Self.path("", "v1", "audit", "batches"),
            json: try Self.encode(AppendAuditBatchRequest(entries: entries)))
    }
}
