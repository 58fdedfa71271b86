import Synchronization

/// Remembers the entries pods forwarded (`audit.append` with an entry id), so that a retry of an entry the vault
/// already recorded (the pod's attempt timed out, or its answer was lost) is not recorded twice.
///
/// Keys are the caller's principal and the id it chose, so one principal cannot suppress another's entries. A retry
/// that arrives while the first attempt is still being written waits for it, and records the entry only if that
/// attempt failed. At most ``capacity`` keys are kept for each principal, its oldest forgotten first; a retry that
/// comes after ``capacity`` newer entries of the same principal, or after a server restart, is recorded again. One
/// table per principal: with one shared table, a writer could push another's keys out, so that principal's retries
/// were recorded twice (review 8, F6). Principals are created by an admin, so the tables are bounded too.
final class AuditAppendDeduplication: Sendable {
    /// What the caller of ``begin(_:)`` must do.
    enum Start: Sendable {
        /// Record the entry, then call ``finish(_:of:recorded:)``.
        case record
        /// The entry is in the log already.
        case alreadyRecorded
    }

    private enum State {
        case recording([CheckedContinuation<Void, Never>])
        case recorded
    }

    /// One principal's recorded keys, oldest first from `head`.
    private struct Recorded {
        var order: [String] = []
        var head = 0
    }

    private struct Table: ~Copyable {
        var states: [String: State] = [:]
        var recorded: [String: Recorded] = [:]
    }

    /// The most entry ids kept.
    let capacity: Int
    private let table = Mutex(Table())

    init(capacity: Int = 65_536) {
        self.capacity = max(1, capacity)
    }

    /// Claims `key` for recording, waits for an attempt already recording it, or says it was recorded. `key` starts
    /// with the principal's name, so keys of two principals never meet.
    func begin(_ key: String) async -> Start {
        while true {
            enum Step { case start(Start), wait }
            let step: Step = table.withLock { table in
                switch table.states[key] {
                case nil:
                    table.states[key] = .recording([])
                    return .start(.record)
                case .recorded:
                    return .start(.alreadyRecorded)
                case .recording:
                    return .wait
                }
            }
            switch step {
            case .start(let start): return start
            case .wait:
                await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                    let parked = table.withLock { table -> Bool in
                        guard case .recording(var waiters) = table.states[key] else { return false }
                        waiters.append(waiter)
                        table.states[key] = .recording(waiters)
                        return true
                    }
                    // Finished between the check and here: look again.
                    if !parked { waiter.resume() }
                }
            }
        }
    }

    /// Ends the attempt that ``begin(_:)`` told to record: kept as recorded among `principal`'s keys, or forgotten so
    /// a retry records it.
    func finish(_ key: String, of principal: String, recorded: Bool) {
        let capacity = capacity
        let waiters = table.withLock { table -> [CheckedContinuation<Void, Never>] in
            guard case .recording(let waiters) = table.states[key] else { return [] }
            if recorded {
                table.states[key] = .recorded
                var kept = table.recorded[principal] ?? Recorded()
                kept.order.append(key)
                // Forget the principal's oldest beyond capacity; compact its list once the dead prefix is large.
                while kept.order.count - kept.head > capacity {
                    table.states[kept.order[kept.head]] = nil
                    kept.head += 1
                }
                if kept.head > capacity {
                    kept.order.removeFirst(kept.head)
                    kept.head = 0
                }
                table.recorded[principal] = kept
            } else {
                table.states[key] = nil
            }
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
