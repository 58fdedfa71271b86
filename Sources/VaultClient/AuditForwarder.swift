public import Foundation
public import VaultServer

/// Forwards a serving pod's audit entries to the vault's log through `POST /v1/audit/entries` (`audit.append`),
/// where the pod cannot rewrite them.
///
/// Entries wait in a bounded in-memory queue: ``enqueue(_:)`` never waits for the network, so inference is never
/// held up by the vault. One task (``run()``) sends them in order; a network error, a 5xx or a 429 keeps the entry
/// and retries after an exponential backoff (doubling up to a ceiling), while any other refusal (a 4xx: the token
/// revoked, or an entry the server rejects) drops that entry, counted as rejected. When the queue is full a new
/// entry is dropped and counted: the counts are exported as metrics, and the pod's own local log still holds
/// every entry.
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

    let capacity: Int
    let initialBackoff: Duration
    let maximumBackoff: Duration
    private var queue: [AppendAuditRequest] = []
    private var head = 0
    private var counts = Counts()
    private var stopping = false

    /// Creates a forwarder.
    ///
    /// - Parameters:
    ///   - capacity: the most entries held in memory; beyond it new entries are dropped (counted).
    ///   - initialBackoff: the first wait after a failed attempt; it doubles up to `maximumBackoff`.
    public init(
        capacity: Int = 10_000, initialBackoff: Duration = .milliseconds(250), maximumBackoff: Duration = .seconds(30)
    ) {
        self.capacity = max(1, capacity)
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
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
        queue.append(entry)
        return true
    }

    /// The counts so far.
    public var snapshot: Counts {
        var current = counts
        current.pending = queue.count - head
        return current
    }

    /// Sends queued entries through `client` until ``stop()``, then tries the rest for at most `drainTimeout`.
    public func run(client: VaultClient, drainTimeout: Duration = .seconds(5)) async {
        await run { entry in try await client.appendAuditEntry(entry) }
        await flush(timeout: drainTimeout) { entry in try await client.appendAuditEntry(entry) }
    }

    /// Makes ``run(_:)`` return (at shutdown).
    public func stop() { stopping = true }

    /// Sends queued entries with `send` until ``stop()`` or cancellation.
    public func run(_ send: Sender) async {
        var backoff = initialBackoff
        while !stopping, !Task.isCancelled {
            guard head < queue.count else {
                try? await Task.sleep(for: .milliseconds(50))
                continue
            }
            let entry = queue[head]
            do {
                try await send(entry)
                counts.forwarded += 1
                pop()
                backoff = initialBackoff
            } catch let error as VaultClientError where Self.isPermanent(error) {
                counts.rejected += 1
                pop()
            } catch {
                counts.retries += 1
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, maximumBackoff)
            }
        }
    }

    /// Tries to send what is queued for at most `timeout` (at shutdown); what is left stays counted as pending.
    public func flush(timeout: Duration, _ send: Sender) async {
        let deadline = ContinuousClock.now + timeout
        while head < queue.count, ContinuousClock.now < deadline, !Task.isCancelled {
            let entry = queue[head]
            do {
                try await send(entry)
                counts.forwarded += 1
                pop()
            } catch let error as VaultClientError where Self.isPermanent(error) {
                counts.rejected += 1
                pop()
            } catch {
                counts.retries += 1
                try? await Task.sleep(for: min(initialBackoff, deadline - ContinuousClock.now))
            }
        }
    }

    private func pop() {
        head += 1
        // Compact now and then, so the array does not grow with everything ever sent.
        if head >= 1024, head * 2 >= queue.count {
            queue.removeFirst(head)
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
}
