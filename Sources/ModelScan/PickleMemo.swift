/// The pickle memo as the abstract interpreter tracks it: which keys are defined (exactly, so `MEMOIZE`'s
/// `len(memo)` key is right) and, up to a bound, what they hold. Past the bound a key stays defined but reads
/// back as `.unknown`, which makes later checks fail closed.
struct PickleMemo {
    /// Keys below this are tracked in a bitmap (at most 8 MiB); larger keys in a bounded set.
    static let bitmapKeys: Int64 = 1 << 26
    static let maxLargeKeys = 100_000
    /// Values kept for any key, then only for names and globals.
    static let maxValues = 100_000
    static let maxNameValues = 400_000

    private var bits: [UInt64] = []
    private var largeKeys: Set<Int64> = []
    private var values: [Int64: PickleValue] = [:]
    /// `len(memo)`: the number of distinct keys defined.
    private(set) var count: Int64 = 0
    /// Set once a bound was exceeded.
    private(set) var overflowed = false
    /// Set once a key was defined that the bounded set of large keys could not hold: from then on `count` may
    /// differ from Python's `len(memo)` (a key PUT again counts again), so `MEMOIZE` keys are not known.
    private(set) var untrackedKeys = false

    /// Whether `key` is defined.
    func isDefined(_ key: Int64) -> Bool {
        if key >= 0, key < Self.bitmapKeys {
            let word = Int(key >> 6)
            return word < bits.count && bits[word] & (1 << UInt64(key & 63)) != 0
        }
        return largeKeys.contains(key)
    }

    /// Defines `key` as `value`; returns whether it was already defined.
    @discardableResult
    mutating func put(_ key: Int64, _ value: PickleValue) -> Bool {
        let existed = isDefined(key)
        if !existed {
            if key >= 0, key < Self.bitmapKeys {
                let word = Int(key >> 6)
                if word >= bits.count {
                    bits.append(contentsOf: repeatElement(0, count: max(word + 1 - bits.count, bits.count)))
                }
                bits[word] |= 1 << UInt64(key & 63)
            } else if largeKeys.count < Self.maxLargeKeys {
                largeKeys.insert(key)
            } else {
                overflowed = true
                untrackedKeys = true
            }
            count += 1
        }
        if value.isInteresting {
            let isName: Bool
            switch value {
            case .string, .global: isName = true
            default: isName = false
            }
            if values.count < Self.maxValues || (isName && values.count < Self.maxNameValues) || values[key] != nil {
                values[key] = value
            } else {
                values[key] = nil
                overflowed = true
            }
        } else if existed {
            values[key] = nil
        }
        return existed
    }

    /// The value at `key`: nil when undefined, `.unknown` when defined but not kept.
    func get(_ key: Int64) -> PickleValue? {
        guard isDefined(key) else { return nil }
        return values[key] ?? .unknown
    }

    // MARK: Nesting depths

    /// How deep the object at each key nests (``PickleInterpreter/maxNesting``), kept for every key whatever its value
    /// (a value erased as `.unknown` nests as deep as it did): in an array for keys written about in order, as picklers
    /// write them (16 Mi keys, 32 MiB, at most), and in a bounded table otherwise.
    private var denseDepths: [UInt16] = []
    private var sparseDepths: [Int64: UInt16] = [:]
    static let maxDenseDepths = 1 << 24
    static let maxSparseDepths = 1_000_000
    /// Set once a depth could not be kept: from then on a memo read may nest deeper than the scanner knows.
    private(set) var depthsOverflowed = false

    /// Records that the object at `key` nests `depth` levels deep.
    mutating func setDepth(_ depth: Int, of key: Int64) {
        let value = UInt16(clamping: depth)
        if key >= 0, key < Int64(denseDepths.count) {
            denseDepths[Int(key)] = value
        } else if key >= 0, key < Int64(Self.maxDenseDepths), key <= Int64(denseDepths.count) + 64 {
            denseDepths.append(contentsOf: repeatElement(0, count: Int(key) - denseDepths.count))
            denseDepths.append(value)
        } else if sparseDepths[key] != nil || sparseDepths.count < Self.maxSparseDepths {
            sparseDepths[key] = value
        } else {
            depthsOverflowed = true
        }
    }

    /// How deep the object at `key` nests (0 when unrecorded).
    func depth(of key: Int64) -> Int {
        if key >= 0, key < Int64(denseDepths.count) { return Int(denseDepths[Int(key)]) }
        return Int(sparseDepths[key] ?? 0)
    }
}
