/// Per-key token buckets: each key may make `burst` requests at once and `rate` per second sustained.
actor TokenBucketLimiter {
    /// The answer for one request.
    enum Decision: Equatable {
        case allowed
        /// Refused; a token is available again after `retryAfter` seconds (rounded up, at least 1).
        case limited(retryAfter: Int)
    }

    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let rate: Double
    private let capacity: Double
    private let clock = ContinuousClock()
    private var buckets: [String: Bucket] = [:]
    private var lastSweep: ContinuousClock.Instant

    init(requestsPerSecond: Double, burst: Int) {
        self.rate = requestsPerSecond
        self.capacity = Double(burst)
        self.lastSweep = clock.now
    }

    /// Takes one token from `key`'s bucket, or says how long to wait.
    func acquire(_ key: String) -> Decision {
        let now = clock.now
        sweepIfDue(now)
        var bucket = buckets[key] ?? Bucket(tokens: capacity, updated: now)
        let elapsed = Self.seconds(now - bucket.updated)
        bucket.tokens = min(capacity, bucket.tokens + elapsed * rate)
        bucket.updated = now
        if bucket.tokens >= 1 {
            bucket.tokens -= 1
            buckets[key] = bucket
            return .allowed
        }
        buckets[key] = bucket
        let wait = (1 - bucket.tokens) / rate
        return .limited(retryAfter: max(1, Int(wait.rounded(.up))))
    }

    /// Gives back the token `acquire(key)` took (a client address's, once its token authenticated).
    func refund(_ key: String) {
        guard var bucket = buckets[key] else { return }
        bucket.tokens = min(capacity, bucket.tokens + 1)
        buckets[key] = bucket
    }

    /// Drops buckets that have refilled completely, so idle keys do not accumulate.
    private func sweepIfDue(_ now: ContinuousClock.Instant) {
        guard now - lastSweep > .seconds(60) else { return }
        lastSweep = now
        let refill = capacity / rate
        buckets = buckets.filter { Self.seconds(now - $0.value.updated) < refill }
    }

    private static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }
}

/// Decides which failed authentications reach the durable audit log: the first per client address in each
/// window. The rest are counted in metrics only, so an unauthenticated flood cannot grow the log.
actor FailureAuditWindows {
    private let window: Duration
    private let clock = ContinuousClock()
    private var started: [String: ContinuousClock.Instant] = [:]
    /// Beyond this many addresses in one window, the rest share one entry (bounded memory under a wide flood).
    private static let maximumAddresses = 10_000

    init(window: Duration) {
        self.window = window
    }

    /// `true` for the first failure of `address` in the current window.
    func shouldAudit(_ address: String) -> Bool {
        let now = clock.now
        if let start = started[address], now - start < window { return false }
        if started[address] == nil, started.count >= Self.maximumAddresses {
            started = started.filter { now - $0.value < window }
            if started.count >= Self.maximumAddresses { return shouldAuditOverflow(now) }
        }
        started[address] = now
        return true
    }

    private func shouldAuditOverflow(_ now: ContinuousClock.Instant) -> Bool {
        if let start = started["*"], now - start < window { return false }
        started["*"] = now
        return true
    }
}

/// A bound on concurrent inferences; a request beyond it is refused rather than queued without limit.
actor InferenceGate {
    private let limit: Int
    private var running = 0

    init(limit: Int) {
        self.limit = limit
    }

    /// Claims a slot; `false` when all are taken.
    func tryAcquire() -> Bool {
        guard running < limit else { return false }
        running += 1
        return true
    }

    /// Returns a slot claimed with `tryAcquire()`.
    func release() {
        running -= 1
    }
}
