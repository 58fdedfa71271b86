import Foundation
import Synchronization
import Vault
import VaultClient

/// Draws a ``ProgressMeter`` on stderr: a redrawn bar with rate and ETA when stderr is a terminal, one summary
/// line when it is not (a pipe or a file, as pip and docker do), nothing under `--quiet`.
final class ProgressReporter: Sendable {
    private enum Mode { case bar, summary, silent }

    private struct State {
        var meter: ProgressMeter
        var last: ProgressEvent?
        var drewBar = false
    }

    private let mode: Mode
    private let summaryLabel: String
    private let start = ContinuousClock.now
    private let state: Mutex<State>

    /// A reporter whose bar reads `label` (such as "pushing") and whose summary reads `summaryLabel` ("pushed").
    init(_ label: String, summary summaryLabel: String) {
        mode =
            Quiet.isRequested ? .silent : isatty(STDERR_FILENO) != 0 ? .bar : .summary
        self.summaryLabel = summaryLabel
        state = Mutex(State(meter: ProgressMeter(label: label)))
    }

    /// The callback to hand to a vault operation.
    var handler: ProgressHandler { { [self] event in self.report(event) } }

    private var elapsed: Double {
        let duration = ContinuousClock.now - start
        return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Records `event`; on a terminal redraws the bar, at most 10 times a second.
    func report(_ event: ProgressEvent) {
        let elapsed = self.elapsed
        let line: String? = state.withLock { state in
            state.last = event
            guard mode == .bar, state.meter.shouldRedraw(event, elapsed: elapsed) else { return nil }
            state.drewBar = true
            return state.meter.line(event, elapsed: elapsed)
        }
        if let line { FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8)) }
    }

    /// Ends the bar's line on a terminal, or prints the summary line elsewhere (none when nothing was reported).
    func finish() {
        let elapsed = self.elapsed
        let (last, drewBar) = state.withLock { ($0.last, $0.drewBar) }
        switch mode {
        case .silent: return
        case .bar: if drewBar { FileHandle.standardError.write(Data("\n".utf8)) }
        case .summary:
            guard let last else { return }
            let meter = ProgressMeter(label: summaryLabel)
            FileHandle.standardError.write(Data((meter.summary(last, elapsed: elapsed) + "\n").utf8))
        }
    }

    /// A remote transfer's callback (bytes sent or received so far, of the total) feeding `report`.
    static func transfer(_ report: @escaping ProgressHandler) -> VaultClient.TransferProgress {
        { done, total in report(ProgressEvent(done: done, total: total, unit: .bytes)) }
    }

    /// Runs `body` with the callback, finishing the line after it (also when it throws, so that an error starts
    /// on a line of its own).
    func run<R>(_ body: (@escaping ProgressHandler) async throws -> R) async rethrows -> R {
        defer { finish() }
        return try await body(handler)
    }
}
