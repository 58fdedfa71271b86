import AccessControl
import BlockingWork
import Foundation
import TestSupport
import Testing

@testable import Vault

/// Blocking work runs on the blocking pool's own threads, never on the cooperative pool (issue #18's one rule).
@Suite struct BlockingExecutorTests {
    @Test func runExecutesOnAPoolThreadAndACooperativeTaskDoesNot() async throws {
        let onPool = try await BlockingExecutor.shared.run { BlockingExecutor.isCurrentThreadAWorker }
        #expect(onPool)
        let cooperative = await Task.detached { BlockingExecutor.isCurrentThreadAWorker }.value
        #expect(!cooperative)
    }

    @Test func errorsThrownOnThePoolReachTheCaller() async throws {
        struct Marker: Error {}
        await #expect(throws: Marker.self) { try await BlockingExecutor.shared.run { throw Marker() } }
    }

    /// Eight jobs that each wait until all eight have started: a fixed pool of fewer threads would never
    /// finish them. The pool starts a thread for a job that finds none idle.
    @Test func jobsWaitingForEachOtherDoNotStarveThePool() async throws {
        let pool = BlockingExecutor(maximumThreads: 16)
        let barrier = Barrier(parties: 8)
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask { try await pool.run { barrier.arriveAndWait() } }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 8))
    }

    @Test func theVaultActorRunsOnThePool() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        #expect(await vault.isRunningOnTheBlockingPool)
    }

    /// A session's body, including its nonisolated parts and child tasks, runs on the pool.
    @Test func aSessionOperationsBodyAndItsChildTasksRunOnThePool() async throws {
        let fixture = try await AccessFixture()
        let (body, children) = try await fixture.admin.perform(.modelList, on: .global) {
            () async throws -> (Bool, [Bool]) in
            let here = BlockingExecutor.isCurrentThreadAWorker
            let children = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<4 { group.addTask { BlockingExecutor.isCurrentThreadAWorker } }
                return await group.reduce(into: []) { $0.append($1) }
            }
            return (here, children)
        }
        #expect(body)
        #expect(children == [true, true, true, true])
        let vault = fixture.vault
        let nonisolated = try await fixture.admin.perform(.modelList, on: .global) {
            await vault.isNonisolatedWorkOnTheBlockingPool()
        }
        #expect(nonisolated, "a nonisolated function the vault actor calls runs on the pool")
    }
}

/// Threads that wait until `parties` have arrived (false after 30 s: the test then fails rather than hangs).
private final class Barrier: @unchecked Sendable {
    private let condition = NSCondition()
    private let parties: Int
    private var arrived = 0

    init(parties: Int) { self.parties = parties }

    func arriveAndWait() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        arrived += 1
        condition.broadcast()
        let deadline = Date().addingTimeInterval(30)
        while arrived < parties {
            guard condition.wait(until: deadline) else { return false }
        }
        return true
    }
}
