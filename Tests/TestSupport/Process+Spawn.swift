public import Foundation

/// Serialises `Process.run()` across the test process.
private let spawnLock = NSLock()

extension Process {
    /// `run()`, one spawn at a time: Foundation's `Process.run` on Linux crashed twice (a bad `memcpy` inside
    /// `run`) while another test thread was spawning too. A spawn is brief and waiting is not serialised, so
    /// this costs nothing measurable.
    public func runSerially() throws {
        spawnLock.lock()
        defer { spawnLock.unlock() }
        try run()
    }
}
