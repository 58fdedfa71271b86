/// What a model's initializers may take when it loads, and the external ranges already read.
///
/// Without it a model of a few KiB could name the same data file again and again, each copy widened to Int64
/// (adversarial review 5, O1). Ranges of one file may not overlap, and each tensor's decoded size is charged before
/// anything is read or allocated, against `ratio` × the bytes of the files it came from and an absolute `limit`.
/// External reads are bounded too: a range is read only after it is claimed, and claimed ranges are disjoint.
final class LoadBudget {
    /// The decoded and raw sizes of one tensor, known from its type and shape before its values are read.
    struct Cost {
        /// Bytes its values take decoded (integers as Int64, strings as their bytes plus a String each).
        var decoded: Int
        /// Bytes its values take as `raw_data` (0 for strings, which have no raw form).
        var raw: Int
    }

    /// A data file, by identity: a path among a version's files, or a file on disk by device and inode (so a
    /// hard link or a second spelling is the same file).
    enum File: Hashable {
        case path(String)
        case inode(device: UInt64, inode: UInt64)
    }

    /// The widest widening at decode (UINT8 to Int64): a model honest about its files never needs more.
    static let ratio = 8
    /// The absolute cap on decoded initializers, whatever the files' sizes.
    static let defaultLimit = 16 << 30

    let limit: Int
    private var sourceBytes: Int
    private var decodedBytes = 0
    private var ranges: [File: [Range<Int>]] = [:]

    /// A budget for a model file of `modelBytes` bytes, with at most `limit` decoded bytes.
    init(modelBytes: Int, limit: Int = LoadBudget.defaultLimit) {
        self.sourceBytes = modelBytes
        self.limit = limit
    }

    /// Charges `cost` for an inline tensor, refusing it when the decoded total would pass the budget.
    func charge(_ cost: Cost, tensor: String) throws(ONNXError) {
        guard let total = admit(cost) else {
            throw .malformed(
                "tensor '\(tensor)' takes the decoded initializers past the load budget (\(allowed) bytes)")
        }
        decodedBytes = total
    }

    /// Records `range` of `file` (of `size` bytes) for an external tensor and charges `cost`, refusing a range
    /// that overlaps one already read, a length other than the tensor's raw size, or a cost past the budget.
    func claim(_ range: Range<Int>, of file: File, size: Int, cost: Cost, tensor: String) throws(ONNXError) {
        guard cost.raw > 0, range.count == cost.raw else {
            throw .externalData("tensor '\(tensor)' range length does not match its type and shape")
        }
        if ranges[file] == nil {
            let (total, overflow) = sourceBytes.addingReportingOverflow(size)
            sourceBytes = overflow ? Int.max : total
        }
        guard let index = Self.place(range, in: ranges[file, default: []]) else {
            throw .externalData("tensor '\(tensor)' range overlaps another tensor's data")
        }
        guard let total = admit(cost) else {
            throw .externalData(
                "tensor '\(tensor)' takes the decoded initializers past the load budget (\(allowed) bytes)")
        }
        decodedBytes = total
        // Inserted in place (no copy of the file's ranges per tensor).
        ranges[file, default: []].insert(range, at: index)
    }

    /// Charges `bytes` of weights a kernel lays out again at load (packed convolution weights), returning
    /// whether they fit: past the budget the node keeps its general path instead of the load failing.
    func admitPacked(bytes: Int) -> Bool {
        guard let total = admit(Cost(decoded: bytes, raw: 0)) else { return false }
        decodedBytes = total
        return true
    }

    /// The decoded bytes allowed so far: `ratio` × the source bytes, never more than `limit`.
    private var allowed: Int {
        let (scaled, overflow) = sourceBytes.multipliedReportingOverflow(by: Self.ratio)
        return overflow ? limit : min(limit, scaled)
    }

    /// The decoded total with `cost` added, or nil when it would pass the budget (or overflow).
    private func admit(_ cost: Cost) -> Int? {
        let (total, overflow) = decodedBytes.addingReportingOverflow(cost.decoded)
        guard !overflow, cost.decoded >= 0, total <= allowed else { return nil }
        return total
    }

    /// Where `range` goes in `sorted` (sorted by start, pairwise disjoint), or nil when it overlaps one of them: only
    /// the neighbours of the insertion point (found by binary search) can.
    private static func place(_ range: Range<Int>, in sorted: [Range<Int>]) -> Int? {
        var low = 0
        var high = sorted.count
        while low < high {
            let middle = low + (high - low) / 2
            if sorted[middle].lowerBound < range.lowerBound { low = middle + 1 } else { high = middle }
        }
        if low > 0, sorted[low - 1].upperBound > range.lowerBound { return nil }
        if low < sorted.count, sorted[low].lowerBound < range.upperBound { return nil }
        return low
    }
}
