import Foundation
import Synchronization
import TestSupport
import Testing

@testable import Vault

@Suite struct VaultProgressTests {
    /// Every event a callback heard, in order.
    final class Recorder: Sendable {
        let events = Mutex<[ProgressEvent]>([])
        var handler: ProgressHandler { { event in self.events.withLock { $0.append(event) } } }
        var all: [ProgressEvent] { events.withLock { $0 } }
    }

    @Test func pushAndPullReportMonotonicProgressEndingAtTheTotal() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        let files = ["a.bin": Data(repeating: 1, count: 3000), "b/c.bin": Data(repeating: 2, count: 500), "d": Data()]
        let total = Int64(3500)
        for (path, data) in files {
            let url = directory.url.appending(path: "model/\(path)")
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url)
        }
        let pushed = Recorder()
        _ = try await vault.pushModel(
            "m", from: .path(directory.url.appending(path: "model")), progress: pushed.handler)
        let pulled = Recorder()
        try await vault.pullModel(
            ModelReference(parsing: "m@1"), to: directory.url.appending(path: "out"), progress: pulled.handler)
        for events in [pushed.all, pulled.all] {
            #expect(events.count == files.count + 1)
            #expect(events.allSatisfy { $0.total == total && $0.unit == .bytes })
            #expect(zip(events, events.dropFirst()).allSatisfy { $0.done <= $1.done })
            #expect(events.first?.done == 0)
            #expect(events.last?.done == total)
        }
    }
}

extension VaultProgressTests {
    @Test func aPullReWrappedForARecipientReportsTheBytesItReWraps() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        let files = ["a.bin": Data(repeating: 1, count: 3000), "b.bin": Data(repeating: 2, count: 700)]
        _ = try await vault.pushModel("m", from: .files(files))
        let suite = FakeCipherSuite()
        let recipient = try suite.recipient(ofIdentity: suite.generateIdentity(postQuantum: false))
        let recorder = Recorder()
        try await vault.pullModel(
            ModelReference(parsing: "m@1"), for: recipient, to: directory.url.appending(path: "out"),
            progress: recorder.handler)
        let events = recorder.all
        #expect(events.count == files.count + 1)
        #expect(events.allSatisfy { $0.total == 3700 && $0.unit == .bytes })
        #expect(zip(events, events.dropFirst()).allSatisfy { $0.done <= $1.done })
        #expect(events.first?.done == 0 && events.last?.done == 3700)
    }
}

extension VaultProgressTests {
    /// With real age encryption, a single 8 MiB file reports its bytes 1 MiB at a time, on push and on pull (issue
    /// #18: a 300 MB file went from 0% to 100% at once).
    @Test func aSingleLargeFileReportsProgressWithinTheFile() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory, suite: AgeCipherSuite())
        let size = 8 << 20
        let model = directory.url.appending(path: "model.bin")
        try TestVault.bytes(size, seed: 7).write(to: model)
        let pushed = Recorder()
        _ = try await vault.pushModel("m", from: .path(model), progress: pushed.handler)
        let pulled = Recorder()
        try await vault.pullModel(
            ModelReference(parsing: "m@1"), to: directory.url.appending(path: "out"), progress: pulled.handler)
        for (label, events) in [("push", pushed.all), ("pull", pulled.all)] {
            let inside = events.filter { $0.done > 0 && $0.done < Int64(size) }
            #expect(inside.count >= 4, "\(label): \(events.map(\.done))")
            #expect(zip(events, events.dropFirst()).allSatisfy { $0.done <= $1.done }, "\(label)")
            #expect(events.last?.done == Int64(size), "\(label)")
            #expect(events.allSatisfy { $0.total == Int64(size) }, "\(label)")
        }
    }
}
