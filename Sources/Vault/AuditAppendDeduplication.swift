import Synchronization

/// Remembers the entries pods forwarded (`audit.append` with an entry id), so that a retry of an entry the vault
/// already recorded (the pod's attempt timed out, or its answer was lost) is not recorded twice.
///
/// Keys are the caller's principal and the id it chose, so one principal cannot suppress another's entries. A retry
/// that arrives while the first attempt is still being written waits for it, and records the entry only if that
/// attempt failed. At most ``capacity`` keys are kept, oldest forgotten first; a retry that comes after
/// ``capacity`` newer entries, or after a server restart, is recorded again.
final class AuditAppendDeduplication: Sendable {
    /// What the caller of ``begin(_:)`` must do.
    enum Start: Sendable {
        /// Record the entry, then call ``finish(_:recorded:)``.
        case record
        /// The entry is in the log already.
        case alreadyRecorded
    }

    private enum State {
        case recording([CheckedContinuation<Void, Never>])
        case recorded
    }

    private struct Table: ~Copyable {
        var states: [String: State] = [:]
        var order: [String] = []
        var head = 0
    }

    /// The most entry ids kept.
    let capacity: Int
    private let table = Mutex(Table())

    init(capacity: Int = 65_536) {
        self.capacity = max(1, capacity)
    }

    /// Claims `key` for recording, waits for an attempt already recording it, or says it was recorded.
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

    /// Ends the attempt that ``begin(_:)`` told to record: kept as recorded, or forgotten so a retry records it.
    func finish(_ key: String, recorded: Bool) {
        let waiters = table.withLock { table -> [CheckedContinuation<Void, Never>] in
            guard case .recording(let waiters) = table.states[key] else { return [] }
            if recorded {
                table.states[key] = .recorded
                table.order.append(key)
                // Forget the oldest beyond capacity; compact the order list once its dead prefix is large.
                while table.order.count - table.head > capacity {
                    table.states[table.order[table.head]] = nil
                    table.head += 1
                }
                if table.head > capacity {
                    table.order.removeFirst(table.head)
                    table.head = 0
                }
            } else {
                table.states[key] = nil
            }
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
