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
    /// Float buffers of values that died earlier in this run, by element count, for later nodes to reuse
    /// instead of allocating (and page-faulting) afresh. Dropped with the context at the end of the run.
    private var pool: [Int: [[Float]]] = [:]
    /// Bytes held by `pool`, kept under `poolCapacity`.
    private var pooledBytes = 0
    /// Positions of the running node's inputs whose values no later node reads (never a graph input, output
    /// or initializer): the kernel may take their storage and write its output over it.
    var consumable: UInt64 = 0

    /// Most bytes the pool holds: a dead buffer past this is freed rather than kept.
    static let poolCapacity = 64 << 20
    /// Smaller buffers are cheaper to allocate than to look up.
    static let poolMinimumCount = 1024

    init(limits: ExecutionLimits, opset: Int64) {
        self.limits = limits
        self.deadline = ContinuousClock.now.advanced(by: limits.timeout)
        self.opset = opset
    }

    /// Counts `count` elements of `width` bytes against the cap before they are allocated.
    /// ``reserve(_:width:)`` of the product of `factors`, multiplied with overflow checks: a count from an
    /// attribute (`n_targets = 2^63 - 1`) would trap a plain `*` before the cap is read.
    mutating func reserve(product factors: [Int], width: Int = 8) throws(ONNXError) {
        var count = 1
        for factor in factors {
            let (next, overflow) = count.multipliedReportingOverflow(by: factor)
            guard factor >= 0, !overflow else { throw .allocationLimit(limits.maximumBytes) }
            count = next
        }
        try reserve(count, width: width)
    }

    mutating func reserve(_ count: Int, width: Int = 8) throws(ONNXError) {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: max(width, 1))
        let (total, overflowTotal) = allocated.addingReportingOverflow(bytes)
        guard count >= 0, !overflow, !overflowTotal, total <= limits.maximumBytes else {
            throw .allocationLimit(limits.maximumBytes)
        }
        allocated = total
    }

    /// A float buffer of exactly `count` elements: a dead one of that size from the pool, or a new zeroed one.
    /// Its contents are unspecified, so the caller must write every element.
    mutating func floats(count: Int) -> [Float] {
        if count >= Self.poolMinimumCount, let buffer = pool[count]?.popLast() {
            pooledBytes -= count * MemoryLayout<Float>.size
            return buffer
        }
        return [Float](repeating: 0, count: max(count, 0))
    }

    /// A scratch buffer of at least `count` elements (rounded up to a power of two, so scratch of nearby sizes
    /// is shared through the pool); unspecified contents. Hand it back with `recycle` when done.
    mutating func scratch(atLeast count: Int) -> [Float] {
        let rounded =
            count <= Self.poolMinimumCount
            ? Self.poolMinimumCount : 1 << (Int.bitWidth - (count - 1).leadingZeroBitCount)
        return floats(count: rounded)
    }

    /// Keeps the float storage of a value no later node reads, so a later node of the same size reuses it.
    /// A buffer still shared with a live value is safe here: writing to it copies first (copy-on-write).
    mutating func release(_ tensor: Tensor) {
        guard case .float(let values) = tensor.storage else { return }
        recycle(values)
    }

    /// Returns a float buffer (a dead value's storage or a kernel's scratch) to the pool, within its capacity.
    mutating func recycle(_ values: [Float]) {
        let bytes = values.count * MemoryLayout<Float>.size
        guard values.count >= Self.poolMinimumCount, pooledBytes + bytes <= Self.poolCapacity else { return }
        pool[values.count, default: []].append(values)
        pooledBytes += bytes
    }

    /// The float storage of input `index` when no later node reads it, taken out of `arguments` so the caller
    /// holds the only reference and can write over it in place; `nil` otherwise.
    func takeFloats(_ index: Int, from arguments: inout [Tensor?]) -> [Float]? {
        guard index < 64, consumable & (1 << UInt64(index)) != 0, index < arguments.count,
            arguments[index]?.elementType == .float
        else { return nil }
        guard case .float(let values) = arguments[index]?.storage else { return nil }
        arguments[index]?.storage = .float([])
        return values
    }

    /// Throws once the deadline has passed.
    func checkDeadline() throws(ONNXError) {
        if ContinuousClock.now > deadline { throw .deadlineExceeded }
    }
}
