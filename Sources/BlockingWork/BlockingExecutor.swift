public import Foundation
import Synchronization

/// Dedicated threads for blocking work: file I/O, SQLite, key derivation, decryption of whole files.
///
/// The cooperative pool has one thread per core; a job that waits on the disk there stalls every task queued
/// behind it (on two cores, two slow reads stop the server). Blocking work runs here instead, in one of three
/// ways: ``run(_:)`` for a synchronous closure, `withTaskExecutorPreference(BlockingExecutor.shared)` for async
/// code, and ``SerialBlockingExecutor`` for an actor whose methods block (the vault).
///
/// The pool grows on demand: a job that finds no idle thread starts one, up to ``maximumThreads``, so a job that
/// waits for another job cannot starve it. Threads stay once started and are named `mv-blocking`.
public final class BlockingExecutor: TaskExecutor, Sendable {
    /// The process's pool.
    public static let shared = BlockingExecutor()

    /// The most threads the pool starts; past it, jobs wait in order for a free thread.
    public let maximumThreads: Int

    /// The name each worker thread carries (visible in `top -H`, `gdb` and the tests; Linux keeps 15 bytes).
    public static let threadName = "mv-blocking"

    private struct State {
        var jobs: [UnownedJob] = []
        var head = 0
        var threads = 0
        var idle = 0
    }

    private let state = Mutex(State())
    private let wakeup = NSCondition()

    /// A pool of at most `maximumThreads` threads (at least 1).
    public init(maximumThreads: Int = 64) {
        self.maximumThreads = max(1, maximumThreads)
    }

    /// Queues a job; part of `TaskExecutor`.
    public func enqueue(_ job: consuming ExecutorJob) {
        submit(UnownedJob(job))
    }

    /// Runs `body` on a pool thread and returns its result, leaving the caller's thread free meanwhile.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withTaskExecutorPreference(self) {
            // A nonisolated async closure runs on the preferred executor, so `body` is on a pool thread here.
            try await Self.call(body)
        }
    }

    /// Whether the calling thread is one of a pool's threads.
    public static var isCurrentThreadAWorker: Bool { Thread.current.threadDictionary[threadName] as? Bool == true }

    private nonisolated static func call<T>(_ body: () throws -> T) async throws -> T { try body() }

    func submit(_ job: UnownedJob) {
        let startThread = state.withLock { state -> Bool in
            state.jobs.append(job)
            if state.idle > 0 { return false }
            guard state.threads < maximumThreads else { return false }
            state.threads += 1
            return true
        }
        if startThread {
            let thread = Thread { [self] in work() }
            thread.name = Self.threadName
            thread.start()
        } else {
            wakeup.lock()
            wakeup.signal()
            wakeup.unlock()
        }
    }

    private func work() {
        Thread.current.threadDictionary[Self.threadName] = true
        let executor = asUnownedTaskExecutor()
        while true {
            if let job = next() {
                job.runSynchronously(on: executor)
                continue
            }
            wakeup.lock()
            // Checked again under the condition's lock, so a job queued since `next()` is not slept through.
            let waiting = state.withLock { state -> Bool in
                guard state.head == state.jobs.count else { return false }
                state.idle += 1
                return true
            }
            if waiting {
                wakeup.wait()
                state.withLock { $0.idle -= 1 }
            }
            wakeup.unlock()
        }
    }

    private func next() -> UnownedJob? {
        state.withLock { state in
            guard state.head < state.jobs.count else { return nil }
            let job = state.jobs[state.head]
            state.head += 1
            // Compacted once the consumed prefix is large, so the queue's memory stays bounded by the backlog.
            if state.head >= 1024, state.head * 2 >= state.jobs.count {
                state.jobs.removeFirst(state.head)
                state.head = 0
            }
            return job
        }
    }
}
