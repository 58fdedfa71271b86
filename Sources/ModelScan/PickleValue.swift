/// What the abstract pickle interpreter knows about one stack or memo value. Containers keep only a few
/// elements: enough to resolve `STACK_GLOBAL` operands, PyTorch persistent ids and joblib array wrappers.
enum PickleValue {
    case unknown
    case none
    case bool(Bool)
    case int(Int64)
    /// An integer too wide for 64 bits; the little-endian two's-complement bytes when at most 16.
    case bigInt([UInt8])
    case float
    /// A `str` of at most `PickleValue.maxText` UTF-8 bytes.
    case string(String)
    /// A `str` too long to keep.
    case opaqueText
    /// Bytes or a bytearray of any length, with what the scanner learned of them while reading (nil when made
    /// otherwise, by a call or an out-of-band buffer).
    case bytes(ByteFacts?)
    case global(module: String, name: String)
    /// The result of calling `callable` (nil when the callable was not a global).
    case object(callable: String?, args: [PickleValue])
    case tuple([PickleValue])
    case list
    case set
    case dict([(PickleValue, PickleValue)])

    /// Whether the value is certainly not a `str`: a literal the unpickler built as a number, bytes or a container. A
    /// global (`os.sep` is a `str`), a call's result, long text and unknown values may be text.
    var isLiteralNonText: Bool {
        switch self {
        case .none, .bool, .int, .bigInt, .float, .bytes, .tuple, .list, .set, .dict: return true
        case .unknown, .string, .opaqueText, .global, .object: return false
        }
    }

    /// Longest text kept verbatim.
    static let maxText = 4096
    /// Most container elements kept.
    static let maxElements = 64

    /// Deepest nesting kept. Deeper values become `.unknown`: releasing a value recurses once per level, so an
    /// unbounded depth (200,000 nested `TUPLE1`) crashed the scanner (review 4, finding 10).
    static let maxDepth = 32
    /// Most nodes visited when measuring a value's depth; a value too large to measure is also `.unknown`.
    static let depthBudget = 256

    /// This value, or, when it nests deeper than `maxDepth` or is too large to measure, its top levels with what lies
    /// below them `.unknown`; the nodes visited are added to `visited`.
    func bounded(visited: inout Int) -> PickleValue {
        switch self {
        case .tuple, .object, .dict:
            var budget = Self.depthBudget
            let fits = nests(within: Self.maxDepth, budget: &budget)
            visited += Self.depthBudget - max(budget, -1)
            if fits { return self }
            // Too deep or too large: the top levels are kept and only what lies below them is unknown. Erased whole,
            // a NumpyArrayWrapper given large arguments, or a slot state naming `__class__` beside a deep value, read
            // as unknown and passed the joblib and class checks (scanner review 11, F1 and F2). The deepest cut that
            // fits is found by bisection, a few measures at most.
            var kept = PickleValue.unknown
            var (low, high) = (0, Self.maxDepth)
            while low < high {
                let depth = (low + high + 1) / 2
                var budget = Self.depthBudget
                let candidate = pruned(depth: depth, budget: &budget)
                visited += Self.depthBudget - max(budget, -1)
                if let candidate {
                    kept = candidate
                    low = depth
                } else {
                    high = depth - 1
                }
            }
            return kept
        default:
            return self
        }
    }

    /// This value with everything `depth` levels down replaced by `.unknown`, or nil past `budget` nodes.
    private func pruned(depth: Int, budget: inout Int) -> PickleValue? {
        budget -= 1
        guard budget >= 0 else { return nil }
        guard depth > 0 else { return .unknown }
        switch self {
        case .tuple(let items):
            var kept: [PickleValue] = []
            kept.reserveCapacity(items.count)
            for item in items {
                guard let value = item.pruned(depth: depth - 1, budget: &budget) else { return nil }
                kept.append(value)
            }
            return .tuple(kept)
        case .object(let callable, let items):
            var kept: [PickleValue] = []
            kept.reserveCapacity(items.count)
            for item in items {
                guard let value = item.pruned(depth: depth - 1, budget: &budget) else { return nil }
                kept.append(value)
            }
            return .object(callable: callable, args: kept)
        case .dict(let pairs):
            var kept: [(PickleValue, PickleValue)] = []
            kept.reserveCapacity(pairs.count)
            for (key, value) in pairs {
                guard let k = key.pruned(depth: depth - 1, budget: &budget),
                    let v = value.pruned(depth: depth - 1, budget: &budget)
                else { return nil }
                kept.append((k, v))
            }
            return .dict(kept)
        default:
            return self
        }
    }

    private func nests(within limit: Int, budget: inout Int) -> Bool {
        budget -= 1
        guard budget >= 0, limit >= 0 else { return false }
        switch self {
        case .tuple(let items), .object(_, let items):
            return items.allSatisfy { $0.nests(within: limit - 1, budget: &budget) }
        case .dict(let pairs):
            return pairs.allSatisfy {
                $0.0.nests(within: limit - 1, budget: &budget) && $0.1.nests(within: limit - 1, budget: &budget)
            }
        default:
            return true
        }
    }

    /// Whether keeping this value in the memo is worth its memory (it can matter to a later check).
    var isInteresting: Bool {
        if case .unknown = self { return false }
        return true
    }

    /// A tuple of the first `maxElements` of `items`.
    static func boundedTuple(_ items: [PickleValue]) -> PickleValue {
        .tuple(items.count <= maxElements ? items : Array(items.prefix(maxElements)))
    }

    /// The dotted name of a global, or nil.
    var globalName: String? {
        if case .global(let module, let name) = self { return module + "." + name }
        return nil
    }

    /// The value of an entry of a dict with string keys.
    subscript(key: String) -> PickleValue? {
        guard case .dict(let pairs) = self else { return nil }
        // Python keeps the last value of a repeated key; an unknown key (or the mark of a dict cut at
        // `maxElements`) after the last match may be that key, so the value is unknown.
        // A key Python computed (a call's result, a value the scanner does not know) may equal `key` too (review 7,
        // F2b: `builtins.str('shape')`): only literal keys of other values are passed over.
        for (k, v) in pairs.reversed() {
            switch k {
            // Code point by code point, as Python compares keys: Swift's `==` is canonical equivalence, under which
            // `"K"` equals the Kelvin sign (scanner review 53's lead).
            case .string(let text) where text.unicodeScalars.elementsEqual(key.unicodeScalars): return v
            case .string, .opaqueText, .int, .bigInt, .bool, .none, .float, .bytes: continue
            case .global(module: Self.aliasModule, name: _): continue
            default: return .unknown
            }
        }
        return nil
    }

    /// The module of the marker key a memoised dict carries first: `(.global(aliasModule, "<id>"), .none)` names
    /// the one Python dict all its copies stand for (review 7, F2).
    static let aliasModule = "\u{0}memo"

    /// The identity of a memoised dict, or nil.
    var aliasID: Int? {
        guard case .dict(let pairs) = self, let first = pairs.first,
            case .global(module: Self.aliasModule, name: let name) = first.0
        else { return nil }
        return Int(name)
    }

    /// Whether this dict maps `key` to None.
    func hasNone(_ key: String) -> Bool {
        if case .none? = self[key] { return true }
        return false
    }
}
