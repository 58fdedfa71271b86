import Foundation

/// How far a long vault operation has come: bytes or files done out of a known total.
public struct ProgressEvent: Sendable, Equatable {
    /// What `done` and `total` count.
    public enum Unit: Sendable, Equatable {
        /// Plaintext bytes hashed and encrypted, or decrypted.
        case bytes
        /// Whole files (a rotation moves files whose sizes it does not read).
        case files
    }

    /// The work done so far, never more than `total`.
    public var done: Int64
    /// All the work the operation will do.
    public var total: Int64
    /// What is counted.
    public var unit: Unit

    /// An event; `done` is clamped to `0...total`.
    public init(done: Int64, total: Int64, unit: Unit) {
        self.total = max(0, total)
        self.done = min(max(0, done), self.total)
        self.unit = unit
    }
}

/// A callback for progress: called from the thread doing the work, so it must be cheap and thread-safe.
public typealias ProgressHandler = @Sendable (ProgressEvent) -> Void

/// The pure part of a progress bar: formats a bar line (percentage, amounts with units, rate, ETA) or a summary
/// line from done/total/elapsed, and throttles redraws. No I/O, so that it can be tested; the CLI decides where
/// (and whether) the lines go.
public struct ProgressMeter: Sendable {
    /// What the bar is for, such as "pushing".
    public let label: String
    /// The least time between two redraws, in seconds.
    public let minimumInterval: Double
    /// The width of the bar, in characters.
    public let width: Int
    private var lastDraw: Double?

    /// A meter for `label`, redrawing at most once per `minimumInterval` seconds (10 per second by default).
    public init(label: String, minimumInterval: Double = 0.1, width: Int = 24) {
        self.label = label
        self.minimumInterval = minimumInterval
        self.width = max(1, width)
    }

    /// Whether a redraw is due at `elapsed` seconds for `event`: the first, the last (done == total) and any at
    /// least `minimumInterval` after the previous one. Records the redraw when it returns true.
    public mutating func shouldRedraw(_ event: ProgressEvent, elapsed: Double) -> Bool {
        let due =
            lastDraw == nil || event.done >= event.total || elapsed - (lastDraw ?? 0) >= minimumInterval
        if due { lastDraw = elapsed }
        return due
    }

    /// One bar line, such as `pushing [##########--------------]  42% 126.0 MB / 300.0 MB  50.4 MB/s  ETA 0:03`.
    public func line(_ event: ProgressEvent, elapsed: Double) -> String {
        let fraction = event.total > 0 ? Double(event.done) / Double(event.total) : 1
        let filled = min(width, Int(fraction * Double(width)))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let percent = String(Int(fraction * 100))
        let padded = String(repeating: " ", count: max(0, 3 - percent.count)) + percent
        var text = "\(label) [\(bar)] \(padded)% \(Self.amount(event.done, event.unit)) / "
        text += Self.amount(event.total, event.unit)
        if let rate = Self.rate(event.done, elapsed: elapsed) {
            text += "  \(Self.amount(Int64(rate), event.unit))/s"
            if event.done < event.total {
                text += "  ETA \(Self.duration(Double(event.total - event.done) / rate))"
            }
        }
        return text
    }

    /// The one line printed when nothing is redrawn (stderr is not a terminal), such as
    /// `pushed 300.0 MB in 6.0 s (50.0 MB/s)`.
    public func summary(_ event: ProgressEvent, elapsed: Double) -> String {
        var text = "\(label) \(Self.amount(event.done, event.unit)) in \(Self.seconds(elapsed))"
        if let rate = Self.rate(event.done, elapsed: elapsed) {
            text += " (\(Self.amount(Int64(rate), event.unit))/s)"
        }
        return text
    }

    /// Units per second, or nil before there is a meaningful measure.
    static func rate(_ done: Int64, elapsed: Double) -> Double? {
        guard elapsed >= 0.05, done > 0 else { return nil }
        return Double(done) / elapsed
    }

    /// `count` with its unit: decimal bytes (B, kB, MB, GB, TB, as pip and docker print them) or files.
    public static func amount(_ count: Int64, _ unit: ProgressEvent.Unit) -> String {
        switch unit {
        case .files: return count == 1 ? "1 file" : "\(count) files"
        case .bytes: return bytes(count)
        }
    }

    /// A byte count in decimal units with one decimal past bytes: `999 B`, `1.5 kB`, `300.0 MB`.
    public static func bytes(_ count: Int64) -> String {
        let units = ["kB", "MB", "GB", "TB", "PB"]
        guard count >= 1000 else { return "\(count) B" }
        var value = Double(count) / 1000
        var index = 0
        while value >= 999.95 && index < units.count - 1 {
            value /= 1000
            index += 1
        }
        return String(format: "%.1f", value) + " " + units[index]
    }

    /// A remaining time as `m:ss` or `h:mm:ss`.
    public static func duration(_ seconds: Double) -> String {
        let total = seconds.isFinite ? Int(seconds.rounded(.up)) : 0
        let (hours, minutes, rest) = (total / 3600, total / 60 % 60, total % 60)
        let ss = rest < 10 ? "0\(rest)" : "\(rest)"
        if hours > 0 { return "\(hours):\(minutes < 10 ? "0" : "")\(minutes):\(ss)" }
        return "\(minutes):\(ss)"
    }

    /// An elapsed time as `0.4 s` or, past a minute, `m:ss`.
    public static func seconds(_ elapsed: Double) -> String {
        elapsed < 60 ? String(format: "%.1f s", elapsed) : duration(elapsed)
    }
}
