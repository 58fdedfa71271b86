/// The bounds every request runs under: shapes computed from request data (Reshape, Expand, ConstantOfShape,
/// Tile, Range) escape load-time checks, so the interpreter counts the bytes it allocates and the time it takes.
public struct ExecutionLimits: Sendable, Equatable {
    /// Most bytes of tensor values one request may allocate in total.
    public var maximumBytes: Int
    /// Longest one request may run.
    public var timeout: Duration

    /// Limits of `maximumBytes` (default 512 MiB) and `timeout` (default 30 s).
    public init(maximumBytes: Int = 512 << 20, timeout: Duration = .seconds(30)) {
        self.maximumBytes = maximumBytes
        self.timeout = timeout
    }
}

/// One request's running totals against its limits.
struct ExecutionContext {
    let limits: ExecutionLimits
    let deadline: ContinuousClock.Instant
    let opset: Int64
    var allocated = 0

    init(limits: ExecutionLimits, opset: Int64) {
        self.limits = limits
        self.deadline = ContinuousClock.now.advanced(by: limits.timeout)
        self.opset = opset
    }

    /// Counts `count` elements of `width` bytes against the cap before they are allocated.
    mutating func reserve(_ count: Int, width: Int = 8) throws(ONNXError) {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: max(width, 1))
        let (total, overflowTotal) = allocated.addingReportingOverflow(bytes)
        guard count >= 0, !overflow, !overflowTotal, total <= limits.maximumBytes else {
            throw .allocationLimit(limits.maximumBytes)
        }
        allocated = total
    }

    /// Throws once the deadline has passed.
    func checkDeadline() throws(ONNXError) {
        if ContinuousClock.now > deadline { throw .deadlineExceeded }
    }
}
