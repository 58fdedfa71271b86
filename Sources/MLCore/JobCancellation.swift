import Synchronization

/// A flag a long computation checks between steps: set it from another thread (a server whose client went away)
/// and the computation stops at its next check with `MLError(.cancelled)`. Blocking ML work runs on its own
/// threads, off Swift's cooperative pool, where task cancellation does not reach; this carries it there.
public final class JobCancellation: Sendable {
    private let flag = Atomic<Bool>(false)

    /// Creates a flag that is not set.
    public init() {}

    /// Asks the computation to stop.
    public func cancel() { flag.store(true, ordering: .relaxed) }

    /// Whether ``cancel()`` was called.
    public var isCancelled: Bool { flag.load(ordering: .relaxed) }

    /// Throws `MLError(.cancelled)` once ``cancel()`` was called.
    func check() throws(MLError) {
        if isCancelled { throw MLError(.cancelled, "the job was cancelled") }
    }
}
