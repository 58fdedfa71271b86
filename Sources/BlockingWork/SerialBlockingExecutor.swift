import Synchronization

/// A serial executor whose jobs run one at a time on ``BlockingExecutor``'s threads: the executor of an actor
/// whose methods block (the vault's catalog reads, file I/O and decryption), so that they never run on the
/// cooperative pool.
public final class SerialBlockingExecutor: SerialExecutor, Sendable {
    private struct State {
        var jobs: [UnownedJob] = []
        var draining = false
    }

    private let state = Mutex(State())
    private let pool: BlockingExecutor

    /// A serial executor on `pool`'s threads.
    public init(on pool: BlockingExecutor = .shared) {
        self.pool = pool
    }

    /// Queues a job; part of `SerialExecutor`.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let start = state.withLock { state -> Bool in
            state.jobs.append(job)
            guard !state.draining else { return false }
            state.draining = true
            return true
        }
        if start { Task(executorPreference: pool) { self.drain() } }
    }

    /// Runs the queued jobs in order, on one pool thread, until none is left.
    private func drain() {
        let executor = asUnownedSerialExecutor()
        while true {
            let batch = state.withLock { state -> [UnownedJob] in
                let batch = state.jobs
                state.jobs.removeAll(keepingCapacity: true)
                if batch.isEmpty { state.draining = false }
                return batch
            }
            if batch.isEmpty { return }
            for job in batch { job.runSynchronously(on: executor) }
        }
    }
}
