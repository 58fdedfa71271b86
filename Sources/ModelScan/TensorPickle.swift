/// A concrete evaluator for the small pickle language a PyTorch state dict is written in: containers, numbers,
/// strings, `collections.OrderedDict`, storages named by persistent id and the tensor and parameter rebuilders.
/// Every other global and opcode is refused. Nothing is imported or called: the rebuilders are recognised by
/// name and produce `TensorReference`s that point into storages.
final class TensorPickle {
    /// A list or dict, shared by reference as Python shares them through the memo.
    final class Container {
        var items: [TensorPickleValue] = []
        var pairs: [(TensorPickleValue, TensorPickleValue)] = []
    }

    static let maxStack = 1 << 20
    static let maxMemo = 1 << 22
    /// Elements held in all containers together; a state dict needs a few per tensor.
    static let maxElements = 1 << 24
    static let maxText = 1 << 20
    static let maxDimensions = 64

    private let stream: ByteStream
    private var stack: [TensorPickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int64: TensorPickleValue] = [:]
    private var elements = 0

    init(stream: ByteStream) {
        self.stream = stream
    }

    private func refuse(_ offset: UInt64, _ why: String) -> ConversionError {
        .unsupported(offset: offset, why)
    }

    private func push(_ value: TensorPickleValue, _ offset: UInt64) throws {
        guard stack.count < Self.maxStack else {
            throw refuse(offset, "the pickle stack exceeds the converter's bound")
        }
        stack.append(value)
    }

    private func pop(_ offset: UInt64) throws -> TensorPickleValue {
        guard stack.count > (marks.last ?? 0) else { throw refuse(offset, "an opcode pops an empty stack") }
        return stack.removeLast()
    }

    private func popMark(_ offset: UInt64) throws -> [TensorPickleValue] {
        guard let mark = marks.popLast(), mark <= stack.count else {
            throw refuse(offset, "an opcode needs a MARK that is not there")
        }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    private func count(_ added: Int, _ offset: UInt64) throws {
        elements += added
        guard elements <= Self.maxElements else { throw refuse(offset, "the pickle holds more values than the bound") }
    }

    private func truncated(_ offset: UInt64) -> ConversionError { .malformed("the pickle ends early at \(offset)") }

    private func le(_ width: Int, _ offset: UInt64) throws -> UInt64 {
        guard let value = try stream.readLE(width) else { throw truncated(offset) }
        return value
    }

    private func text(_ length: UInt64, latin1: Bool, _ offset: UInt64) throws -> TensorPickleValue {
        guard length <= UInt64(Self.maxText) else { throw refuse(offset, "a string longer than the bound") }
        guard let bytes = try stream.read(Int(length)) else { throw truncated(offset) }
        if latin1 { return .string(String(bytes.map { Character(Unicode.Scalar($0)) })) }
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw ConversionError.malformed("a string that is not UTF-8 at \(offset)")
        }
        return .string(string)
    }

    private func line(_ offset: UInt64) throws -> String {
        let line = try stream.readLine(cap: 1024)
        guard line.complete, !line.truncated else { throw truncated(offset) }
        return String(decoding: line.bytes, as: UTF8.self)
    }

    /// Evaluates one pickle through `STOP` and returns its value.
    func evaluate() throws -> TensorPickleValue {
        stack.removeAll()
        marks.removeAll()
        memo.removeAll()
        while true {
            let offset = stream.position
            guard let op = try stream.readByte() else { throw truncated(offset) }
            switch op {
            case 0x80: _ = try le(1, offset)  // PROTO
            case 0x95: _ = try le(8, offset)  // FRAME: the length only groups opcodes
            case 0x2E:  // STOP
                let value = try pop(offset)
                guard stack.isEmpty, marks.isEmpty else { throw refuse(offset, "values left on the stack at STOP") }
                return value
            case 0x28:  // MARK
                guard marks.count < 1 << 16 else { throw refuse(offset, "MARKs nest deeper than the bound") }
                marks.append(stack.count)
            case 0x30: _ = try pop(offset)  // POP
            case 0x31: _ = try popMark(offset)  // POP_MARK
            case 0x32:  // DUP
                let value = try pop(offset)
                try push(value, offset)
                try push(value, offset)
            case 0x4E: try push(.none, offset)  // NONE
            case 0x88: try push(.bool(true), offset)  // NEWTRUE
            case 0x89: try push(.bool(false), offset)  // NEWFALSE
            case 0x4A:  // BININT
                try push(.int(Int64(Int32(bitPattern: UInt32(try le(4, offset))))), offset)
            case 0x4B: try push(.int(Int64(try le(1, offset))), offset)  // BININT1
            case 0x4D: try push(.int(Int64(try le(2, offset))), offset)  // BININT2
            case 0x49:  // INT
                let text = try line(offset)
                if text == "00" || text == "01" {
                    try push(.bool(text == "01"), offset)
                } else if let value = Int64(text) {
                    try push(.int(value), offset)
                } else {
                    throw refuse(offset, "an INT the converter cannot read")
                }
            case 0x8A:  // LONG1
                let length = Int(try le(1, offset))
                guard length <= 8, let bytes = try stream.read(length) else {
                    throw refuse(offset, "an integer wider than 64 bits")
                }
                var value: UInt64 = 0
                for (index, byte) in bytes.enumerated() { value |= UInt64(byte) << UInt64(8 * index) }
                if length > 0, length < 8, bytes[length - 1] & 0x80 != 0 { value |= ~0 << UInt64(8 * length) }
                try push(.int(Int64(bitPattern: value)), offset)
            case 0x47:  // BINFLOAT (big-endian)
                guard let bytes = try stream.read(8) else { throw truncated(offset) }
                try push(.float(Double(bitPattern: bytes.reduce(0) { $0 << 8 | UInt64($1) })), offset)
            case 0x58: try push(try text(le(4, offset), latin1: false, offset), offset)  // BINUNICODE
            case 0x8C: try push(try text(le(1, offset), latin1: false, offset), offset)  // SHORT_BINUNICODE
            case 0x8D: try push(try text(le(8, offset), latin1: false, offset), offset)  // BINUNICODE8
            case 0x55: try push(try text(le(1, offset), latin1: true, offset), offset)  // SHORT_BINSTRING
            case 0x54: try push(try text(le(4, offset), latin1: true, offset), offset)  // BINSTRING
            case 0x29: try push(.tuple([]), offset)  // EMPTY_TUPLE
            case 0x74:  // TUPLE
                let items = try popMark(offset)
                try count(items.count, offset)
                try push(.tuple(items), offset)
            case 0x85, 0x86, 0x87:  // TUPLE1..3
                var items = [TensorPickleValue]()
                for _ in 0..<Int(op - 0x84) { items.append(try pop(offset)) }
                try count(items.count, offset)
                try push(.tuple(items.reversed()), offset)
            case 0x5D: try push(.list(Container()), offset)  // EMPTY_LIST
            case 0x6C:  // LIST
                let container = Container()
                container.items = try popMark(offset)
                try count(container.items.count, offset)
                try push(.list(container), offset)
            case 0x61, 0x65:  // APPEND, APPENDS
                let items = op == 0x61 ? [try pop(offset)] : try popMark(offset)
                guard case .list(let container) = try pop(offset) else {
                    throw refuse(offset, "APPEND to something that is not a list")
                }
                try count(items.count, offset)
                container.items += items
                try push(.list(container), offset)
            case 0x7D: try push(.dict(Container()), offset)  // EMPTY_DICT
            case 0x64:  // DICT
                let container = Container()
                container.pairs = try Self.pairs(try popMark(offset), offset)
                try count(container.pairs.count * 2, offset)
                try push(.dict(container), offset)
            case 0x73, 0x75:  // SETITEM, SETITEMS
                let pairs: [(TensorPickleValue, TensorPickleValue)]
                if op == 0x73 {
                    let value = try pop(offset)
                    pairs = [(try pop(offset), value)]
                } else {
                    pairs = try Self.pairs(try popMark(offset), offset)
                }
                guard case .dict(let container) = try pop(offset) else {
                    throw refuse(offset, "SETITEM on something that is not a dict")
                }
                try count(pairs.count * 2, offset)
                container.pairs += pairs
                try push(.dict(container), offset)
            case 0x63:  // GLOBAL
                let module = try line(offset)
                let name = try line(offset)
                try push(try global(module, name, offset), offset)
            case 0x93:  // STACK_GLOBAL
                guard case .string(let name) = try pop(offset), case .string(let module) = try pop(offset) else {
                    throw refuse(offset, "STACK_GLOBAL operands that are not strings")
                }
                try push(try global(module, name, offset), offset)
            case 0x52:  // REDUCE
                let args = try pop(offset)
                let callable = try pop(offset)
                guard case .tuple(let items) = args else {
                    throw refuse(offset, "REDUCE arguments that are not a tuple")
                }
                try push(try call(callable, items, offset), offset)
            case 0x51:  // BINPERSID
                try push(try Self.storage(from: try pop(offset), offset), offset)
            case 0x62:  // BUILD
                let state = try pop(offset)
                let target = try pop(offset)
                // OrderedDict's instance dict (a state dict's `_metadata`) is the only state a plain checkpoint sets.
                guard case .dict = target, case .dict(let attributes) = state,
                    attributes.pairs.allSatisfy({ if case .string = $0.0 { true } else { false } })
                else { throw refuse(offset, "BUILD on something other than a dict") }
                try push(target, offset)
            case 0x71, 0x72, 0x94:  // BINPUT, LONG_BINPUT, MEMOIZE
                let key =
                    op == 0x71 ? Int64(try le(1, offset)) : op == 0x72 ? Int64(try le(4, offset)) : Int64(memo.count)
                guard let value = stack.last, stack.count > (marks.last ?? 0) else {
                    throw refuse(offset, "a memo write with an empty stack")
                }
                guard memo[key] == nil else { throw refuse(offset, "a memo key written twice") }
                guard memo.count < Self.maxMemo else { throw refuse(offset, "the memo exceeds the converter's bound") }
                memo[key] = value
            case 0x68, 0x6A:  // BINGET, LONG_BINGET
                let key = Int64(try le(op == 0x68 ? 1 : 4, offset))
                guard let value = memo[key] else { throw refuse(offset, "a memo read of a key never written") }
                try push(value, offset)
            default:
                throw refuse(offset, "opcode 0x\(String(op, radix: 16)) is not part of a plain tensor checkpoint")
            }
        }
    }

    private static func pairs(
        _ items: [TensorPickleValue], _ offset: UInt64
    ) throws -> [(
        TensorPickleValue, TensorPickleValue
    )] {
        guard items.count % 2 == 0 else { throw ConversionError.unsupported(offset: offset, "an odd number of items") }
        return stride(from: 0, to: items.count, by: 2).map { (items[$0], items[$0 + 1]) }
    }

    private static let rebuilders: Set<String> = [
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
        "torch._utils._rebuild_parameter",
    ]

    private func global(_ module: String, _ name: String, _ offset: UInt64) throws -> TensorPickleValue {
        let dotted = module + "." + name
        if Self.rebuilders.contains(dotted) { return .global(dotted) }
        if let dtype = TensorDType(storageType: dotted) { return .storageType(dtype) }
        if dotted == "torch.storage.UntypedStorage" || dotted == "torch.UntypedStorage" { return .storageType(nil) }
        if module == "torch", let dtype = TensorDType(torchName: name) { return .dtype(dtype) }
        throw ConversionError.unsupported(offset: offset, "the global \(dotted) is not a tensor reconstructor")
    }

    /// `('storage', type, key, location, numel[, None])`: what `torch.save` writes for a storage.
    private static func storage(from pid: TensorPickleValue, _ offset: UInt64) throws -> TensorPickleValue {
        guard case .tuple(let items) = pid, items.count == 5 || items.count == 6, case .string("storage") = items[0],
            case .storageType(let dtype) = items[1], case .string(let key) = items[2], case .string = items[3],
            case .int(let numel) = items[4], numel >= 0
        else { throw ConversionError.unsupported(offset: offset, "a persistent id that is not a PyTorch storage") }
        if items.count == 6, case .none = items[5] {
        } else if items.count == 6 {
            throw ConversionError.unsupported(offset: offset, "a legacy storage view")
        }
        return .storage(StorageReference(key: key, dtype: dtype, count: UInt64(numel)))
    }

    private func call(
        _ callable: TensorPickleValue, _ args: [TensorPickleValue], _ offset: UInt64
    ) throws
        -> TensorPickleValue
    {
        guard case .global(let name) = callable else { throw refuse(offset, "REDUCE on a value that is not a global") }
        switch name {
        case "collections.OrderedDict":
            guard args.isEmpty else { throw refuse(offset, "OrderedDict called with arguments") }
            return .dict(Container())
        case "torch._utils._rebuild_parameter":
            guard args.count == 3, case .tensor = args[0] else { throw refuse(offset, "a parameter without a tensor") }
            return args[0]
        default:
            // _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]);
            // v3 adds the dtype after hooks (for dtypes without a typed storage class).
            let v3 = name.hasSuffix("v3")
            guard args.count >= (v3 ? 7 : 6), args.count <= (v3 ? 8 : 7), case .storage(let storage) = args[0],
                case .int(let storageOffset) = args[1], storageOffset >= 0, case .tuple(let size) = args[2],
                case .tuple(let stride) = args[3], size.count == stride.count, size.count <= Self.maxDimensions
            else { throw refuse(offset, "tensor arguments that are not (storage, offset, size, stride, ...)") }
            let dtype: TensorDType
            if v3 {
                guard case .dtype(let given) = args[6] else { throw refuse(offset, "a tensor without a dtype") }
                guard storage.dtype == nil || storage.dtype == given else {
                    throw refuse(offset, "a tensor dtype unlike its storage's")
                }
                dtype = given
            } else {
                guard let typed = storage.dtype else { throw refuse(offset, "an untyped storage without a dtype") }
                dtype = typed
            }
            if case .dict(let hooks) = args[5], hooks.pairs.isEmpty {
            } else if case .none = args[5] {
            } else {
                throw refuse(offset, "a tensor with backward hooks")
            }
            func integers(_ values: [TensorPickleValue]) throws -> [UInt64] {
                try values.map {
                    guard case .int(let n) = $0, n >= 0 else { throw refuse(offset, "a negative or non-integer size") }
                    return UInt64(n)
                }
            }
            return .tensor(
                TensorReference(
                    storage: storage, dtype: dtype, offset: UInt64(storageOffset), shape: try integers(size),
                    stride: try integers(stride)))
        }
    }
}

/// A value of the restricted language `TensorPickle` evaluates.
enum TensorPickleValue {
    case none
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    case tuple([TensorPickleValue])
    case list(TensorPickle.Container)
    case dict(TensorPickle.Container)
    /// An allow-listed callable, by dotted name.
    case global(String)
    /// A storage class (`torch.FloatStorage`: a dtype; `torch.UntypedStorage`: nil).
    case storageType(TensorDType?)
    /// A dtype object (`torch.uint16`), as `_rebuild_tensor_v3` takes.
    case dtype(TensorDType)
    case storage(StorageReference)
    case tensor(TensorReference)
}

/// A storage named by a checkpoint: its key (the zip member `data/KEY`, or a legacy record) and size.
struct StorageReference {
    var key: String
    /// The element type of a typed storage; nil for an untyped one (then `count` is in bytes).
    var dtype: TensorDType?
    /// Elements of `dtype`, or bytes when untyped.
    var count: UInt64

    /// The storage's length in bytes, nil on overflow.
    var byteCount: UInt64? {
        guard let dtype else { return count }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: UInt64(dtype.size))
        return overflow ? nil : bytes
    }
}

/// A tensor as a view of a storage: offset, shape and strides in elements.
struct TensorReference {
    var storage: StorageReference
    var dtype: TensorDType
    var offset: UInt64
    var shape: [UInt64]
    var stride: [UInt64]

    /// Elements in the tensor, nil on overflow.
    var elementCount: UInt64? {
        var total: UInt64 = 1
        for n in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: n)
            if overflow { return nil }
            total = product
        }
        return total
    }

    /// One past the last storage element the view reaches (0 for an empty tensor), nil on overflow.
    var extent: UInt64? {
        if shape.contains(0) { return 0 }
        var last = offset
        for (n, s) in zip(shape, stride) {
            let (step, o1) = (n - 1).multipliedReportingOverflow(by: s)
            let (sum, o2) = last.addingReportingOverflow(step)
            if o1 || o2 { return nil }
            last = sum
        }
        let (end, overflow) = last.addingReportingOverflow(1)
        return overflow ? nil : end
    }

    /// Whether the view is the row-major layout of its shape (size-1 dimensions' strides do not matter).
    var isContiguous: Bool {
        var expected: UInt64 = 1
        for (n, s) in zip(shape, stride).reversed() {
            if n != 1 && s != expected { return false }
            expected &*= n
        }
        return true
    }
}
