/// Checks of a scipy sparse matrix's pickled state, as scipy's `check_format(full_check=True)` would make them.
///
/// scipy sets a pickled matrix's attributes without checking them, and its compiled sparsetools trust the index
/// arrays: a crafted `indices` or `indptr` wrote past a heap buffer the moment anything converted, printed or
/// iterated the matrix (scanner reviews 41 to 44). Every BUILD of a sparse instance must therefore give it a state
/// whose arrays the scanner read and found consistent: index arrays in range and `indptr` nondecreasing from 0.
/// Arrays the scanner reads are joblib's (any protocol) and protocol 5's `_frombuffer`; a state built any other way
/// (`_reconstruct` with protocols 2 to 4, out-of-band buffers, a big-endian dtype, an index array past
/// `ByteFacts.maxVisited`) cannot be checked, and is high.
enum SparseState {
    /// The format letters of one of scipy's sparse classes (`csr` of `scipy.sparse._csr.csr_array`).
    static func format(ofClass name: String) -> String? {
        guard GlobalPolicy.scipySparseClasses.contains(name), let last = name.split(separator: ".").last,
            let underscore = last.firstIndex(of: "_")
        else { return nil }
        return String(last[..<underscore])
    }

    /// Why a BUILD of a `format` instance with `state` may leave a matrix scipy's compiled code would read out of
    /// bounds, or nil when the state is consistent. `littleEndianOnly` is false when the pickle gave any dtype a
    /// byte order the scanner does not model (its integers would read differently).
    ///
    /// Each array must be the matrix's own: over a payload referenced once (`buffersTracked` false when the scanner
    /// could not follow every reference), which the check then marks as a checked matrix's.
    static func problem(
        format: String, state: PickleValue, littleEndianOnly: Bool, buffersTracked: Bool
    )
        -> String?
    {
        let problem = stateProblem(format: format, state: state, littleEndianOnly: littleEndianOnly)
        guard problem == nil, format != "dok" else { return problem }
        guard case .dict(let pairs) = state else { return problem }
        var buffers: [ByteFacts] = []
        for (_, value) in pairs {
            let arrays: [PickleValue]
            if case .tuple(let items) = value { arrays = items } else { arrays = [value] }
            for array in arrays {
                if let facts = ArrayDescription(array)?.facts { buffers.append(facts) }
            }
        }
        for (index, facts) in buffers.enumerated() {
            guard buffersTracked, !facts.referencedAgain, !facts.checkedInSparseState,
                !buffers[..<index].contains(where: { $0 === facts })
            else {
                return "an array whose bytes are referenced elsewhere in the pickle (scipy changes a matrix's "
                    + "arrays in place)"
            }
        }
        for facts in buffers { facts.checkedInSparseState = true }
        return nil
    }

    private static func stateProblem(format: String, state: PickleValue, littleEndianOnly: Bool) -> String? {
        guard case .dict(let pairs) = state else { return "a state that is not a dict" }
        var fields: [String: PickleValue] = [:]
        for (key, value) in pairs {
            if case .global(module: PickleValue.aliasModule, name: _) = key { continue }
            guard case .string(let name) = key, fields[name] == nil else {
                return "a key the scanner cannot read, or one given twice"
            }
            fields[name] = value
        }
        let allowed: Set<String>
        switch format {
        case "csr", "csc", "bsr": allowed = ["indptr", "indices", "data"]
        case "coo": allowed = ["coords", "row", "col", "data"]
        case "dia": allowed = ["offsets", "data"]
        case "dok": allowed = ["_dict", "dtype"]
        default: return "a lil matrix, whose rows scipy converts without checking them"
        }
        for (name, value) in fields where !allowed.contains(name) {
            switch name {
            case "_shape": continue
            case "maxprint":
                switch value {
                case .int, .none: continue
                default: return "a maxprint that is not an integer"
                }
            case "_has_sorted_indices", "_has_canonical_format", "has_canonical_format":
                guard case .bool = value else { return "a format flag that is not a bool" }
            default:
                return "an attribute scipy does not write (\(name.prefix(40)))"
            }
        }
        guard case .tuple(let dimensions) = fields["_shape"] ?? .none, (1...2).contains(dimensions.count) else {
            return "a shape that is not one or two integers"
        }
        var shape: [Int64] = []
        for dimension in dimensions {
            guard case .int(let n) = dimension, n >= 0, n < Int64(Int32.max) * Int64(Int32.max) else {
                return "a shape that is not one or two integers"
            }
            shape.append(n)
        }
        guard littleEndianOnly || format == "dok" else { return "a dtype with a byte order the scanner does not model" }
        switch format {
        case "dok":
            guard case .dict = fields["_dict"] ?? .none, case .object("numpy.dtype", _) = fields["dtype"] ?? .none
            else { return "a dok matrix without its dict and dtype" }
            return nil
        case "coo": return cooProblem(fields, shape)
        case "dia": return diaProblem(fields, shape)
        default: return compressedProblem(format, fields, shape)
        }
    }

    /// csr, csc and bsr: `indptr` one longer than the major dimension (in blocks), from 0 and nondecreasing, at most
    /// the number of entries; `indices` in the minor dimension (in blocks); as many entries in `indices` as in `data`.
    private static func compressedProblem(
        _ format: String, _ fields: [String: PickleValue], _ shape: [Int64]
    )
        -> String?
    {
        guard shape.count == 2 else { return "a compressed matrix that is not two-dimensional" }
        guard let data = ArrayDescription(fields["data"] ?? .none), data.isNumeric else {
            return "data that is not a numeric array the scanner read"
        }
        var (rows, columns) = (shape[0], shape[1])
        let entries: Int64
        if format == "bsr" {
            guard data.shape.count == 3, data.shape[1] > 0, data.shape[2] > 0, rows % data.shape[1] == 0,
                columns % data.shape[2] == 0
            else { return "bsr data whose blocks do not tile the shape" }
            rows /= data.shape[1]
            columns /= data.shape[2]
            entries = data.shape[0]
        } else {
            guard data.shape.count == 1 else { return "data that is not one-dimensional" }
            entries = data.shape[0]
        }
        let (major, minor) = format == "csc" ? (columns, rows) : (rows, columns)
        guard let indptr = ArrayDescription(fields["indptr"] ?? .none)?.integers,
            let indices = ArrayDescription(fields["indices"] ?? .none)?.integers
        else { return "index arrays the scanner did not read" }
        // scipy's own matrices end `indptr` at the number of entries (`check_format` prunes longer arrays); scipy's
        // fancy indexing sizes its output by `indptr[-1]` and copies every entry (scanner review 45).
        guard indptr.count == UInt64(major) + 1, indptr.first == 0, indptr.nondecreasing,
            indptr.last == entries
        else { return "an indptr that does not run from 0 to the number of entries, one per row or column" }
        guard indices.count == UInt64(entries) else { return "indices and data of different lengths" }
        guard indices.count == 0 || (indices.minimum >= 0 && indices.maximum < minor) else {
            return "an index outside the matrix"
        }
        return nil
    }

    /// coo: one index array per dimension (`coords`, or `row` and `col` as scipy before 1.13 wrote), each as long
    /// as `data` and inside its dimension.
    private static func cooProblem(_ fields: [String: PickleValue], _ shape: [Int64]) -> String? {
        guard let data = ArrayDescription(fields["data"] ?? .none), data.isNumeric, data.shape.count == 1 else {
            return "data that is not a one-dimensional numeric array the scanner read"
        }
        let coordinates: [PickleValue]
        switch (fields["coords"], fields["row"], fields["col"]) {
        case (.tuple(let items)?, nil, nil): coordinates = items
        case (nil, let row?, let column?): coordinates = [row, column]
        default: return "coordinates that are neither coords nor row and col"
        }
        guard coordinates.count == shape.count else { return "coordinates unlike the shape" }
        for (axis, value) in coordinates.enumerated() {
            guard let run = ArrayDescription(value)?.integers else { return "coordinates the scanner did not read" }
            guard run.count == UInt64(data.shape[0]) else { return "coordinates and data of different lengths" }
            guard run.count == 0 || (run.minimum >= 0 && run.maximum < shape[axis]) else {
                return "a coordinate outside the matrix"
            }
        }
        return nil
    }

    /// dia: two-dimensional data with one row per offset, each offset inside the matrix.
    private static func diaProblem(_ fields: [String: PickleValue], _ shape: [Int64]) -> String? {
        guard shape.count == 2, let data = ArrayDescription(fields["data"] ?? .none), data.isNumeric,
            data.shape.count == 2
        else { return "data that is not a two-dimensional numeric array the scanner read" }
        guard let offsets = ArrayDescription(fields["offsets"] ?? .none)?.integers,
            offsets.count == UInt64(data.shape[0])
        else { return "offsets the scanner did not read, or not one per row of data" }
        guard offsets.count == 0 || (offsets.minimum > -shape[0] && offsets.maximum < shape[1]) else {
            return "an offset outside the matrix"
        }
        return nil
    }

    /// The marker a joblib array's value carries, which no pickle can write: a global's module is never NUL-led
    /// text the scanner gives itself without a high finding.
    static var joblibArrayMarker: PickleValue { .global(module: PickleValue.aliasModule, name: "joblib-array") }

    /// What joblib leaves where a wrapper was: an array with its dtype, shape and what was read of its bytes (when
    /// the wrapper makes a plain `ndarray`).
    static func joblibArray(state: PickleValue, facts: ByteFacts?) -> PickleValue {
        guard case .global("numpy", "ndarray") = state["subclass"] ?? .none, let dtype = state["dtype"],
            let shape = state["shape"]
        else { return .object(callable: "numpy.ndarray", args: []) }
        return .object(callable: "numpy.ndarray", args: [.bytes(facts), dtype, shape, joblibArrayMarker])
    }
}

/// An array in a pickle whose dtype, shape and bytes the scanner knows: joblib's, or protocol 5's `_frombuffer`.
struct ArrayDescription {
    let kind: Character
    let itemSize: UInt64
    let shape: [Int64]
    let facts: ByteFacts?

    init?(_ value: PickleValue) {
        guard case .object(let callable?, let arguments) = value, arguments.count == 4,
            case .bytes(let facts) = arguments[0], let (kind, size) = Self.scalar(arguments[1]),
            case .tuple(let dimensions) = arguments[2], dimensions.count < PickleValue.maxElements
        else { return nil }
        switch callable {
        case "numpy.ndarray":
            guard case .global(module: PickleValue.aliasModule, name: "joblib-array") = arguments[3] else {
                return nil
            }
        case "numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer":
            // The buffer must be bytes the scanner read, exactly as long as the shape says.
            guard facts != nil else { return nil }
        default:
            return nil
        }
        var shape: [Int64] = []
        var total = size
        for dimension in dimensions {
            guard case .int(let n) = dimension, n >= 0 else { return nil }
            let (product, overflow) = total.multipliedReportingOverflow(by: UInt64(n))
            guard !overflow else { return nil }
            total = product
            shape.append(n)
        }
        if let facts, facts.length != total { return nil }
        self.kind = kind
        itemSize = size
        self.shape = shape
        self.facts = facts
    }

    /// Whether the array holds numbers sparsetools computes with (bool, integers, floats, complex).
    var isNumeric: Bool { "biufc".contains(kind) }

    /// The integers of a one-dimensional index array, when the scanner read them.
    var integers: IntegerRun? {
        guard kind == "i", itemSize == 4 || itemSize == 8, shape.count == 1,
            let run = facts?.run(width: itemSize), run.count == UInt64(shape[0])
        else { return nil }
        return run
    }

    /// The kind and item size of a numpy dtype made from a little-endian or native scalar code.
    static func scalar(_ dtype: PickleValue) -> (Character, UInt64)? {
        guard case .object("numpy.dtype", let arguments) = dtype, case .string(let code) = arguments.first ?? .none,
            let first = code.first, first != ">", first != "!", let kind = PickleInterpreter.dtypeKind(code),
            let size = PickleInterpreter.itemSize(code)
        else { return nil }
        return (kind, size)
    }
}
