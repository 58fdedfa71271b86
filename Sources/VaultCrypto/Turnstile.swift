import Foundation

/// Lets the segments of a parallel pipeline through one stage in index order: segment `k` enters only after
/// segment `k - 1` has left. Every index from 0 up must pass exactly once, or later ones wait forever.
final class Turnstile: Sendable {
    private let condition = NSCondition()
    /// The index allowed in next; guarded by `condition`.
    nonisolated(unsafe) private var next = 0

    /// Waits for the turn of `index`, runs `body`, then admits `index + 1`. The lock hand-over orders each
    /// body's memory effects before the next one's.
    func pass<T>(_ index: Int, _ body: () throws -> T) rethrows -> T {
        condition.lock()
        while next != index { condition.wait() }
        condition.unlock()
        defer {
            condition.lock()
            next += 1
            condition.broadcast()
            condition.unlock()
        }
        return try body()
    }
}
