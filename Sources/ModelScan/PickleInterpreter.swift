import Foundation

/// Abstract interpretation of one pickle stream: every opcode of protocols 0–5 is decoded and its effect on the
/// stack, marks, memo and frames is tracked, so that `STACK_GLOBAL` operands are resolved through the memo and
/// reductions, persistent ids and extension codes are judged where they happen. Nothing is ever executed.
///
/// Memory stays bounded: text and containers are truncated, the stack, marks and memo have limits, and payloads
/// (`BINBYTES` and kin) are skipped, never held. Past a bound of the stack or marks the interpreter can no longer
/// model the stack, which is itself a high finding; past the memo's value bound values read back as `.unknown`, so
/// a `STACK_GLOBAL` it cannot resolve is a high finding.
final class PickleInterpreter {
    /// How one pickle ended.
    enum Outcome {
        /// `STOP` was reached; the value it returned.
        case stopped(PickleValue)
        /// The stream had no bytes left before the first opcode.
        case empty
        /// The stream ended before `STOP`, or an opcode could not be decoded; a finding says which.
        case broken
    }

    static let maxStack = 1 << 20
    /// Most marks at distinct stack positions (runs of marks at one position count once: 64 KiB of MARK bytes in a
    /// joblib array read as opcodes were refused as past the bound).
    static let maxMarks = 1 << 16
    /// Opcodes interpreted between two readings of the clock against `deadline`.
    static let opcodesPerClockCheck = 65_536

    private let stream: ByteStream
    /// Whether a BUILD gave a dtype a byte order other than little-endian or native.
    private var foreignByteOrder = false
    /// Whether a sparse matrix's state was checked (in little-endian order).
    private var checkedSparseStates = false
    /// Whether a memo read handed back a value too large to search for the buffers it holds.
    private var buffersMayBeShared = false
    /// What was read of the last joblib array's bytes.
    private var joblibArrayFacts: ByteFacts?
    private let findings: FindingCollector
    private var stack: [PickleValue] = []
    /// How deep the object each stack value stands for nests (parallel to `stack`), whatever the scanner kept of it.
    private var depths: [Int] = []
    /// Per stack value (parallel to `stack`): whether it is a second reference to an object (pushed by a memo read or
    /// `DUP`), and whether a `BUILD` applied a state to it.
    private var slotFlags: [SlotFlags] = []
    /// Record dtypes made and not yet given their state (see `noteRecordDtypeReadAgain`).
    private var unbuiltRecordDtypes = 0
    /// The deepest nesting among the values the current opcode popped.
    private var poppedDepth = 0
    /// The deepest nesting any value reached.
    private var deepestNesting = 0
    /// What late fills (a fill or `BUILD` through a second reference) may have added to some chain's depth: their
    /// items' depths plus one each.
    private var lateFillDepth = 0
    private var reportedDeepNesting = false
    private var marks = PickleMarks()
    private var memo = PickleMemo()
    private var degraded = false
    /// The protocol in effect, as CPython's unpickler keeps it: the last PROTO's argument, 0 before any. Python 2
    /// names are translated only below 3 (`find_class`).
    private var protocolInEffect = 0
    /// Another protocol names are also judged under: a joblib object array's nested pickle, which joblib reads with
    /// the outer unpickler's `find_class` (so the outer protocol decides Python 2 translation) and `pickle.load`
    /// with its own (scanner review 33). A name must be allowed under both.
    private var alsoJudgedUnderProtocol: Int?
    /// Whether a `BUILD` may have set attributes on a class: its target was a global, an unknown value or the result
    /// of a callable not known to make a fresh instance (`numpy.max([C])` is `C`). Then calling a scikit-learn class
    /// may return anything its changed attributes say (an `Enum`'s `_value2member_map_`; scanner review 14).
    private var classStateMayHaveChanged = false
    /// Allowed callables that make an instance of a class they are handed (`newObj(cls)` is `cls.__new__(cls)`), with
    /// the positions of those classes among their arguments: each must be an imported global, which the wrapper check
    /// sees; a value read back past the memo bound, or a call's result (`numpy.object_(C)` is `C`), may be the wrapper.
    private static let instancesOfArguments: [String: [Int]] = [
        "sklearn.neighbors._kd_tree.newObj": [0], "sklearn.neighbors._ball_tree.newObj": [0],
        "sklearn.metrics._dist_metrics.newObj": [0], "copyreg._reconstructor": [0, 1],
        "numpy.ma.core._mareconstruct": [0, 1], "torch._tensor._rebuild_from_type_v2": [1],
        "torch._tensor._rebuild_from_type": [1], "numpy.random._pickle.__bit_generator_ctor": [0],
    ]
    /// Allowed callables that call one of their arguments, with its position (`func` of torch's rebuilds).
    private static let argumentCallers: [String: Int] = [
        "torch._tensor._rebuild_from_type": 0, "torch._tensor._rebuild_from_type_v2": 0,
    ]
    /// Callables whose result is a fresh instance of a fixed class (besides scikit-learn's own classes): a `BUILD`
    /// on it sets that instance's attributes, no class's.
    private static let instanceMakers: Set<String> = [
        "joblib.numpy_pickle.NumpyArrayWrapper", "numpy.dtype", "numpy._core.multiarray._reconstruct",
        "numpy.core.multiarray._reconstruct", "functools.partial",
    ]
    /// Memoised dicts (review 7, F2): Python's memo holds the same object as the stack, so a SETITEM(S) on one
    /// copy changes every copy. The scanner's values are copies: a memoised dict carries an identity; a change is
    /// written through to the memo keys holding it, and a dict changed after a GET or DUP may have other, stale
    /// copies, so it reads back `.unknown` wherever it is used.
    private var nextAliasID = 0
    private var aliasKeys: [Int: [Int64]] = [:]
    private var aliasRead = Set<Int>()
    private var aliasStale = Set<Int>()
    static let maxAliases = 200_000
    /// Memoised `OrderedDict()` objects carry an identity too (`.global(aliasModule, "OrderedDict<n>")` as their one
    /// argument), so a fill through any copy is known: the identities filled by `SETITEM(S)`, and those handed to
    /// torch as a parameter's backward hooks (see ``isParameterHooks(_:_:at:)``).
    private var nextOrderedDictID = 0
    private var filledOrderedDicts = Set<Int>()
    private var hooksOrderedDicts = Set<Int>()
    /// Memoised dicts a numpy dtype was given as its `fields` (by identity): numpy keeps that very dict, so a
    /// `SETITEM(S)` on it afterwards moves a field the dtype check placed inside the item (scanner review 52).
    private var dtypeFieldDicts = Set<Int>()
    /// Set once a dict was memoised past `maxAliases`: the memo holds it as `.unknown`, the stack as it was.
    private var aliasesOverflowed = false
    /// Whether a memo read may give back, as `.unknown`, a value the scanner still holds elsewhere as it was.
    private var memoReadsMayBeUntracked: Bool { memo.overflowed || aliasesOverflowed }
    /// Most container nodes visited in measuring values' nesting, for one stream: about 6 seconds of measuring. A
    /// real pickle visits a few per container it builds (a state dict of 10,000 tensors: about 200,000).
    static let maxMeasuredNodes = 1 << 28
    /// This interpreter's bound of measured nodes (`maxMeasuredNodes` but in tests).
    let measuredNodesLimit: Int
    /// Container nodes visited so far in measuring values' nesting.
    private(set) var measuredNodes = 0
    private var reportedMeasureBudget = false
    private var frameEnd: UInt64?
    private var reportedFrameMismatch = false
    private var reportedUnderflow = false
    /// Read a joblib NumpyArrayWrapper's array bytes after its BUILD as data, as joblib's unpickler does. Off, they
    /// are opcodes, as for `pickle.load`, `torch.load` and `numpy.load`.
    let joblibArrays: Bool
    /// This is the second reading of a joblib file, `pickle.load`'s, kept for what it finds in bytes joblib reads as
    /// array data: there an import of `dtype` from a module that no ordinary machine has is medium, not high (see
    /// `judgeGlobal`).
    var pickleLoadReading = false
    /// Whether array bytes were skipped (then the same bytes read as opcodes must be scanned too).
    private(set) var skippedJoblibArrays = false
    /// The keys of the PyTorch storages named by persistent id (bounded).
    private(set) var storageKeys = Set<String>()
    /// When the file's scan must stop (nil: never); checked every `opcodesPerClockCheck` opcodes.
    let deadline: ContinuousClock.Instant?
    private var opcodesUntilClockCheck = PickleInterpreter.opcodesPerClockCheck

    init(
        stream: ByteStream, findings: FindingCollector, joblibArrays: Bool = false,
        deadline: ContinuousClock.Instant? = nil, measuredNodesLimit: Int = PickleInterpreter.maxMeasuredNodes
    ) {
        self.measuredNodesLimit = measuredNodesLimit
        self.stream = stream
        self.findings = findings
        self.joblibArrays = joblibArrays
        self.deadline = deadline
    }

    /// Whether the scan's time is up, read every `opcodesPerClockCheck` opcodes; the first time, a high finding.
    private func pastDeadline(at offset: UInt64) -> Bool {
        opcodesUntilClockCheck -= 1
        guard opcodesUntilClockCheck <= 0 else { return false }
        opcodesUntilClockCheck = Self.opcodesPerClockCheck
        guard let deadline, ContinuousClock.now >= deadline else { return false }
        findings.add(
            "scan.time-budget", .high, at: offset, subject: "pickle",
            "the scan ran past its per-file time bound inside a pickle; the rest of the file was not analysed")
        return true
    }

    // MARK: - Stack

    @inline(__always)
    private func push(_ value: PickleValue) {
        pushMeasured(bounded(value))
    }

    /// Pushes a value already measured: one read back from the memo or copied from the stack. Measured again on
    /// every GET, a memoised tuple of 240 nodes cost 240 visits per 2-byte opcode: a compressed pickle of 85 million
    /// GETs took 8 minutes (scanner review 9, finding 8).
    private func pushMeasured(_ value: PickleValue) {
        if stack.count >= Self.maxStack {
            degrade(at: stream.position, "the pickle stack exceeds the scanner's bound")
            return
        }
        stack.append(value)
        depths.append(0)
        slotFlags.append([])
    }

    /// Whether the measuring budget is spent; the first time, a high finding. Past the budget the values that the
    /// joblib, dtype and `__class__` checks read are unknown, so those checks no longer see anything: high, like every
    /// structural bound (scanner review 10, finding A: a spent budget hid a NumpyArrayWrapper, whose array bytes then
    /// swallowed `os.system`).
    private func measuringBudgetSpent() -> Bool {
        guard measuredNodes >= measuredNodesLimit else { return false }
        if !reportedMeasureBudget {
            reportedMeasureBudget = true
            findings.add(
                "pickle.bound-exceeded", .high, at: stream.position, subject: "pickle",
                "the pickle builds more container values than the scanner measures; later values are unknown")
        }
        return true
    }

    /// `value.boundedNesting` within the pickle's budget of measured nodes; past it, every new container is
    /// `.unknown` (as one too large to measure is), so no run of opcodes costs more than a few visits each.
    private func bounded(_ value: PickleValue) -> PickleValue {
        switch value {
        case .tuple, .object, .dict:
            guard !measuringBudgetSpent() else { return .unknown }
            return value.bounded(visited: &measuredNodes)
        default:
            return value
        }
    }

    /// Past a structural bound the stack and marks are no longer modelled: whatever the interpreter reads after
    /// it (a STACK_GLOBAL's operands, a POP_MARK's extent) may differ from what Python reads, so the pickle is
    /// high from here on (review 6, finding 1: a MARK past the bound then hid a decoy from POP_MARK).
    private func degrade(at offset: UInt64, _ why: String) {
        if !degraded {
            degraded = true
            findings.add(
                "pickle.bound-exceeded", .high, at: offset, subject: "pickle",
                why + "; the stack is no longer modelled, so later imports and calls cannot be judged")
        }
        stack.removeAll()
        depths.removeAll()
        slotFlags.removeAll()
        marks.removeAll()
    }

    private func underflow(_ offset: UInt64) {
        if !reportedUnderflow && !degraded {
            reportedUnderflow = true
            findings.add(
                "pickle.stack-underflow", .medium, at: offset, subject: "stack",
                "an opcode pops more than the stack holds (Python would stop here)")
        }
    }

    /// Pops a value some opcode consumes. joblib's NumpyArrayWrapper class may only be called where it stands (as
    /// joblib writes it: `NEWOBJ`, `REDUCE`, `OBJ`) or discarded: put into a container, handed to a call or applied as
    /// a state, it can become an object's `__class__` through a path the scanner does not follow, and joblib then reads
    /// array bytes the scanner reads as opcodes (scanner reviews 8 to 27 found such paths one at a time).
    @inline(__always)
    private func pop(_ offset: UInt64, callable: Bool = false) -> PickleValue {
        let floor = marks.last ?? 0
        guard stack.count > floor else {
            underflow(offset)
            return .unknown
        }
        let value = stack.removeLast()
        poppedDepth = max(poppedDepth, depths.removeLast())
        slotFlags.removeLast()
        if !callable { checkWrapperClassUse(value, at: offset) }
        return value
    }

    /// A high finding when `value` is joblib's NumpyArrayWrapper class consumed other than by a call of it.
    @inline(__always)
    private func checkWrapperClassUse(_ value: PickleValue, at offset: UInt64) {
        guard case .global(let module, let name) = value, name.hasSuffix("NumpyArrayWrapper"),
            module + "." + name == "joblib.numpy_pickle.NumpyArrayWrapper"
        else { return }
        findings.add(
            "joblib.wrapper-indirect", .high, at: offset, subject: "joblib.numpy_pickle.NumpyArrayWrapper",
            "joblib's NumpyArrayWrapper class is used other than by calling it (as a value, an argument or a state, "
                + "it can become an object's class)")
    }

    private func top(_ offset: UInt64) -> PickleValue {
        let floor = marks.last ?? 0
        guard stack.count > floor else {
            underflow(offset)
            return .unknown
        }
        return stack[stack.count - 1]
    }

    private func popMark(_ offset: UInt64, discarding: Bool = false, firstIsCallable: Bool = false) -> [PickleValue] {
        let items = popMarkUnchecked(offset)
        if !discarding {
            for (index, item) in items.enumerated() where !(firstIsCallable && index == 0) {
                checkWrapperClassUse(item, at: offset)
            }
        }
        return items
    }

    private func popMarkUnchecked(_ offset: UInt64) -> [PickleValue] {
        guard let mark = marks.popLast() else {
            if !degraded {
                findings.add(
                    "pickle.mark-missing", .medium, at: offset, subject: "mark",
                    "an opcode needs a MARK that is not on the stack")
            }
            return []
        }
        let items = Array(stack[min(mark, stack.count)...])
        stack.removeSubrange(min(mark, stack.count)...)
        poppedDepth = max(poppedDepth, depths[min(mark, depths.count)...].max() ?? 0)
        depths.removeSubrange(min(mark, depths.count)...)
        slotFlags.removeSubrange(min(mark, slotFlags.count)...)
        return items
    }

    // MARK: - Arguments

    private func truncated(_ offset: UInt64) -> Outcome {
        findings.add("pickle.truncated", .medium, at: offset, subject: "pickle", "the pickle ends before STOP")
        return .broken
    }

    private func readSigned(_ width: Int) throws -> Int64? {
        guard let raw = try stream.readLE(width) else { return nil }
        let shift = UInt64(64 - 8 * width)
        return Int64(bitPattern: raw << shift) >> Int64(shift)
    }

    /// Reads `length` bytes as text when short enough, otherwise skips them.
    private func readText(length: UInt64, utf8: Bool) throws -> PickleValue? {
        if length > UInt64(PickleValue.maxText) {
            return try stream.skip(length) ? .opaqueText : nil
        }
        guard let bytes = try stream.read(Int(length)) else { return nil }
        return .string(
            utf8 ? String(decoding: bytes, as: UTF8.self) : String(bytes.map { Character(Unicode.Scalar($0)) }))
    }

    private func skipPayload(length: UInt64) throws -> Bool { try stream.skip(length) }

    /// A decimal argument line of GET, PUT (Python's `int(text, 10)`).
    ///
    /// CPython reads the line whole, and `int` takes any amount of whitespace, zeros and underscores: a line longer
    /// than the scanner reads that holds only such characters may be a valid key the scanner cannot read, so it is
    /// high (`pickle.argument-unbounded`) where another malformed line stops the pickle for CPython too (review 8 of
    /// the scanner, findings 4 and 5: 300 spaces hid what followed).
    private func readDecimalLine(at offset: UInt64, _ opcode: String) throws -> (value: Int64?, complete: Bool) {
        let cap = 256
        var bytes = [UInt8]()
        var plausible = true
        var complete = false
        // CPython hands the line to `PyLong_FromString` as a C string: what follows a NUL is not read, however long.
        var ended = false
        while let byte = try stream.readByte() {
            if byte == 0x0A {
                complete = true
                break
            }
            if ended { continue }
            if byte == 0 {
                ended = true
            } else if bytes.count < cap {
                bytes.append(byte)
            } else {
                plausible = plausible && Self.mayBeInDecimalText(byte)
            }
        }
        if bytes.count == cap, complete, plausible, bytes.allSatisfy(Self.mayBeInDecimalText) {
            findings.add(
                "pickle.argument-unbounded", .high, at: offset, subject: opcode,
                "a \(opcode) argument longer than the scanner reads, which CPython may still take as a number")
            return (nil, complete)
        }
        guard bytes.count < cap, case .small(let value) = PickleInteger.parseDecimal(bytes) else {
            // Numeric-looking yet unread: where the scanner and CPython could disagree, high and kept by every
            // reading (a trial of a file without PROTO dropped the plain malformed-argument finding; review 16).
            if complete, !bytes.isEmpty, bytes.allSatisfy(Self.mayBeInDecimalText) {
                findings.add(
                    "pickle.invalid-number", .high, at: offset, subject: opcode,
                    "a numeric \(opcode) argument the scanner cannot read as CPython would; not analysed further")
            }
            return (nil, complete)
        }
        return (value, complete)
    }

    /// A character CPython's `int(text, 10)` may accept: ASCII whitespace, a digit, a sign or an underscore.
    private static func mayBeInDecimalText(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x09...0x0D).contains(byte) || byte == 0x20 || byte == 0x5F || byte == 0x2B
            || byte == 0x2D
    }

    private func readNameLine() throws -> String? {
        let line = try stream.readLine(cap: PickleValue.maxText)
        guard line.complete else { return nil }
        if !Self.isUTF8(line.bytes, cut: line.truncated) { nameLineUndecodable = true }
        return String(decoding: line.bytes, as: UTF8.self) + (line.truncated ? "\u{2026}" : "")
    }

    /// Set when a GLOBAL or INST name line was not UTF-8: CPython's unpicklers fail to decode it and import nothing.
    private var nameLineUndecodable = false

    /// Whether `bytes` are UTF-8; for a line cut at the read cap, up to its last (maybe cut) character.
    private static func isUTF8(_ bytes: [UInt8], cut: Bool) -> Bool {
        if String(validating: bytes, as: UTF8.self) != nil { return true }
        guard cut else { return false }
        return (1...3).contains { drop in
            drop < bytes.count && String(validating: bytes.dropLast(drop), as: UTF8.self) != nil
        }
    }

    // MARK: - Checks

    private func judgeGlobal(module: String, name: String, at offset: UInt64, via opcode: String) {
        let subject = module + "." + name
        // Judged as any name (fail closed), under its own rule: the `pickle.load` reading of joblib array bytes keeps
        // every import but these, which CPython never makes (random array bytes; scanner review 32).
        if nameLineUndecodable {
            nameLineUndecodable = false
            findings.add(
                "pickle.global.undecodable", .high, at: offset, subject: String(subject.prefix(128)),
                "\(opcode) names a module or name that is not UTF-8 (CPython stops here; judged anyway)")
            return
        }
        // A name longer than the read cap was cut: its unread tail may name anything (review 4, finding 7).
        if module.hasSuffix("\u{2026}") || name.hasSuffix("\u{2026}") {
            findings.add(
                "pickle.global.unresolved", .high, at: offset, subject: String(subject.prefix(128)),
                "\(opcode) imports a name longer than the scanner reads")
            return
        }
        var verdict = GlobalPolicy.verdict(module: module, name: name, protocol: protocolInEffect)
        if let other = alsoJudgedUnderProtocol, verdict != .dangerous {
            let second = GlobalPolicy.verdict(module: module, name: name, protocol: other)
            if second != .allowed { verdict = second }
        }
        switch verdict {
        case .allowed:
            // scikit-learn's `PyFuncDistance` calls the Python callable in its state on every pair of points a
            // neighbours model compares: any allow-listed callable the pickle chooses, with arguments it does not
            // control (scanner reviews 64 and 65 handed it `_ValidationScoreCallback`). A model fitted with
            // `metric=callable` pickles a function of the user's, which is no library's ordinary file.
            if module.hasPrefix("sklearn."), name.hasPrefix("PyFuncDistance") {
                findings.add(
                    "sklearn.callable-metric", .high, at: offset, subject: subject,
                    "\(opcode) imports scikit-learn's PyFuncDistance, which calls a callable from the pickle as its "
                        + "distance on every prediction")
            }
        case .dangerous:
            findings.add(
                "pickle.global.dangerous", .critical, at: offset, subject: subject,
                "\(opcode) imports a callable that can run code, import modules or touch files and sockets")
        case .unknown where pickleLoadReading && name == "dtype" && GlobalPolicy.isUncommonTopLevelModule(module):
            // joblib.load never makes this import. pickle.load of a joblib file makes it when a nested object-array
            // pickle, whose `numpy.dtype` import reads its module from the memo, reads the outer pickle's memo
            // instead (`NumpyArrayWrapper.dtype`, `n_bins.dtype` in real dumps), and then fails with
            // ModuleNotFoundError, unless a module of that name was put on the loader's path or is installed: a
            // `dtype` attribute of a module outside the standard library and the common packages. Reported, and
            // refused by the strict policy. Only `dtype`: any other name (an installed package's `main`) is high,
            // and the reading goes on, so whatever follows is judged (scanner review 35: `functorch.vmap`, which
            // torch installs, ended the reading and hid `os.system`).
            findings.add(
                "pickle.global.uncommon-module", .medium, at: offset, subject: subject,
                "\(opcode) imports from a module that is neither in Python's standard library nor a common package "
                    + "(the import fails unless a module of that name is on the loader's path)")
        case .unknown:
            findings.add(
                "pickle.global.unknown", .high, at: offset, subject: subject,
                "\(opcode) imports a global outside the allow-list (any callable may run code)")
        }
    }

    private static let storageTypes: Set<String> = GlobalPolicy.allowed.filter { $0.hasSuffix("Storage") }

    /// `('storage', <torch storage type>, key, location, numel[, view])`: what `torch.save` writes.
    private func isTorchStorageID(_ pid: PickleValue) -> Bool {
        guard case .tuple(let items) = pid, items.count == 5 || items.count == 6,
            case .string("storage") = items[0], case .string = items[2], case .string = items[3]
        else { return false }
        switch items[1] {
        case .global(let module, let name): return Self.storageTypes.contains(module + "." + name)
        case .string(let dtype): return dtype.count < 32  // torch 2.x zip with string-typed storages
        default: return false
        }
    }

    // MARK: - The interpreter

    /// Interprets one pickle, from its first opcode through `STOP`.
    func interpretOne() throws -> Outcome {
        stack.removeAll(keepingCapacity: true)
        depths.removeAll(keepingCapacity: true)
        slotFlags.removeAll(keepingCapacity: true)
        marks.removeAll()
        memo = PickleMemo()
        aliasKeys.removeAll()
        aliasRead.removeAll()
        aliasStale.removeAll()
        aliasesOverflowed = false
        nextOrderedDictID = 0
        filledOrderedDicts.removeAll()
        hooksOrderedDicts.removeAll()
        degraded = false
        protocolInEffect = 0
        nameLineUndecodable = false
        frameEnd = nil
        reportedFrameMismatch = false
        reportedUnderflow = false
        var first = true
        let start = stream.position

        while true {
            let offset = stream.position
            if let end = frameEnd {
                if offset == end {
                    frameEnd = nil
                } else if offset > end {
                    frameMismatch(at: offset, "an opcode runs past the end of its FRAME")
                    frameEnd = nil
                }
            }
            if pastDeadline(at: offset) { return .broken }
            guard let op = try stream.readByte() else {
                return offset == start ? .empty : truncated(offset)
            }
            defer { first = false }
            poppedDepth = 0
            switch op {
            case 0x28:  // MARK
                if marks.runs >= Self.maxMarks && marks.last != stack.count {
                    degrade(at: offset, "the pickle nests more MARKs than the scanner's bound")
                } else if !degraded {
                    marks.append(stack.count)
                }
            case 0x2E:  // STOP
                let value = degraded ? .unknown : pop(offset)
                if unbuiltRecordDtypes > 0, !degraded {
                    findings.add(
                        "numpy.dtype-state", .high, at: offset, subject: "numpy.record",
                        "a record dtype never given its state (numpy writes one right after making it)")
                }
                if let end = frameEnd, stream.position != end {
                    // CPython's pickler ends every frame at STOP; a frame that runs past it is consumed whole by an
                    // unpickler that read it (torch's stacked legacy pickles), so the next pickle starts elsewhere
                    // for it than for the scanner (review 9 of the scanner, finding 10).
                    findings.add(
                        "pickle.frame-mismatch", .high, at: offset, subject: "FRAME",
                        "STOP does not end the current FRAME")
                }
                if memo.overflowed && !degraded {
                    findings.add(
                        "pickle.bound-exceeded", .medium, at: offset, subject: "memo",
                        "the memo exceeds the scanner's bound; values past it were treated as unknown")
                }
                return .stopped(value)
            case 0x30:  // POP
                let floor = marks.last ?? 0
                if stack.count > floor {
                    stack.removeLast()
                    depths.removeLast()
                    slotFlags.removeLast()
                } else if !marks.isEmpty {
                    _ = popMark(offset, discarding: true)
                } else {
                    underflow(offset)
                }
            case 0x31:  // POP_MARK
                _ = popMark(offset, discarding: true)
            case 0x32:  // DUP
                // Picklers never write DUP; two copies of one dict cannot be tracked apart.
                let value = top(offset)
                noteRecordDtypeReadAgain(value, at: offset, via: "DUP")
                if case .dict = value {
                    if let id = value.aliasID {
                        aliasStale.insert(id)
                        // Either copy could then be filled unseen (scanner review 53: `fields['a']` moved through
                        // a DUP after the dtype's check).
                        if dtypeFieldDicts.contains(id) {
                            findings.add(
                                "numpy.dtype-state", .high, at: offset, subject: "numpy.dtype",
                                "DUP copies a dict a numpy dtype was given as its fields: numpy keeps that dict, and a "
                                    + "copy the scanner cannot follow may change it after the dtype was checked")
                        }
                    }
                    replaceTop(.unknown)
                    push(.unknown)
                } else {
                    noteReferencedAgain(value, at: offset)
                    pushMeasured(value)
                }
            case 0x46:  // FLOAT
                let line = try stream.readLine(cap: 256)
                guard line.complete else { return truncated(offset) }
                push(.float)
            case 0x49, 0x4C:  // INT, LONG
                let line = try stream.readLine(cap: 4096)
                guard line.complete else { return truncated(offset) }
                if op == 0x49, line.bytes == [0x30, 0x30] || line.bytes == [0x30, 0x31] {
                    push(.bool(line.bytes[1] == 0x31))
                    break
                }
                let number: PickleInteger?
                if let nul = line.bytes.firstIndex(of: 0) {
                    // CPython reads the line as a C string, which ends at the first NUL whatever follows (a line past
                    // the read cap too). For INT, glibc's `strtol` converts nothing from a line that starts with NUL
                    // and leaves the end there, which CPython takes as a whole 0 (scanner review 15: `I\0\n` ended the
                    // `pickle.load` reading of joblib array bytes, and `os.system` after it went unseen).
                    let text = Array(line.bytes[..<nul])
                    number =
                        op == 0x49
                        ? (text.isEmpty ? .small(0) : PickleInteger.parseINT(text))
                        : PickleInteger.parse(text, base: 0)
                } else if line.truncated {
                    number = line.bytes.allSatisfy(PickleInteger.mayAppearInNumber) ? .big([]) : nil
                } else {
                    number = op == 0x49 ? PickleInteger.parseINT(line.bytes) : PickleInteger.parseLONG(line.bytes)
                }
                switch number {
                case .small(let value): push(.int(value))
                case .big(let bytes): push(.bigInt(bytes))
                case nil:
                    let name = op == 0x49 ? "INT" : "LONG"
                    guard line.bytes.allSatisfy(PickleInteger.mayAppearInNumber) else {
                        return invalidArgument(at: offset, name)
                    }
                    // Looks numeric yet does not parse: where the scanner and CPython could disagree, fail closed.
                    findings.add(
                        "pickle.invalid-number", .high, at: offset, subject: name,
                        "a numeric \(name) argument the scanner cannot read as CPython would; not analysed further")
                    return .broken
                }
            case 0x4A:  // BININT
                guard let value = try readSigned(4) else { return truncated(offset) }
                push(.int(value))
            case 0x4B:  // BININT1
                guard let value = try stream.readByte() else { return truncated(offset) }
                push(.int(Int64(value)))
            case 0x4D:  // BININT2
                guard let value = try stream.readLE(2) else { return truncated(offset) }
                push(.int(Int64(value)))
            case 0x4E: push(.none)  // NONE
            case 0x88: push(.bool(true))  // NEWTRUE
            case 0x89: push(.bool(false))  // NEWFALSE
            case 0x50:  // PERSID
                guard let line = try readNameLine() else { return truncated(offset) }
                findings.add(
                    "pickle.persistent-id", .medium, at: offset, subject: "PERSID " + String(line.prefix(64)),
                    "a text persistent id hands data to the loader's persistent_load (not PyTorch's convention)")
                push(.unknown)
            case 0x51:  // BINPERSID
                let pid = pop(offset)
                if isTorchStorageID(pid), case .tuple(let items) = pid, case .string(let key) = items[2],
                    storageKeys.count < 1 << 20
                {
                    storageKeys.insert(key)
                }
                if !isTorchStorageID(pid) && !degraded {
                    findings.add(
                        "pickle.persistent-id", .medium, at: offset, subject: "BINPERSID",
                        "a persistent id outside PyTorch's ('storage', type, key, location, numel) convention")
                }
                push(.unknown)
            case 0x52:  // REDUCE
                let args = pop(offset)
                let callable = pop(offset, callable: true)
                push(call(callable, args: args, at: offset, via: "REDUCE"))
            case 0x53:  // STRING
                let line = try stream.readLine(cap: PickleValue.maxText + 2)
                guard line.complete else { return truncated(offset) }
                guard let value = PickleText.decodeQuotedString(line.bytes, truncated: line.truncated) else {
                    return invalidArgument(at: offset, "STRING")
                }
                push(value)
            case 0x54:  // BINSTRING
                guard let length = try readSigned(4) else { return truncated(offset) }
                guard length >= 0 else { return invalidArgument(at: offset, "BINSTRING") }
                guard let value = try readText(length: UInt64(length), utf8: false) else { return truncated(offset) }
                push(value)
            case 0x55:  // SHORT_BINSTRING
                guard let length = try stream.readByte() else { return truncated(offset) }
                guard let value = try readText(length: UInt64(length), utf8: false) else { return truncated(offset) }
                push(value)
            case 0x56:  // UNICODE
                let line = try stream.readLine(cap: PickleValue.maxText)
                guard line.complete else { return truncated(offset) }
                push(line.truncated ? .opaqueText : .string(PickleText.decodeRawUnicodeEscape(line.bytes)))
            case 0x58, 0x8C, 0x8D:  // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
                guard let length = try stream.readLE(op == 0x58 ? 4 : op == 0x8C ? 1 : 8) else {
                    return truncated(offset)
                }
                guard let value = try readText(length: length, utf8: true) else { return truncated(offset) }
                push(value)
            case 0x42, 0x43, 0x8E, 0x96:  // BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8
                guard let length = try stream.readLE(op == 0x42 ? 4 : op == 0x43 ? 1 : 8) else {
                    return truncated(offset)
                }
                // Where the payload lies is kept: a sparse matrix's index arrays are read from there when checked.
                let start = stream.sourceOffset
                guard try skipPayload(length: length) else { return truncated(offset) }
                push(.bytes(ByteFacts(length: length, source: stream.source, offset: start)))
            case 0x8A, 0x8B:  // LONG1, LONG4
                let length: Int64
                if op == 0x8A {
                    guard let n = try stream.readByte() else { return truncated(offset) }
                    length = Int64(n)
                } else {
                    guard let n = try readSigned(4) else { return truncated(offset) }
                    guard n >= 0 else { return invalidArgument(at: offset, "LONG4") }
                    length = n
                }
                if length <= 16 {
                    guard let bytes = try stream.read(Int(length)) else { return truncated(offset) }
                    if bytes.count <= 8 {
                        var value: Int64 = 0
                        for (index, byte) in bytes.enumerated() { value |= Int64(byte) << Int64(8 * index) }
                        if !bytes.isEmpty, bytes.count < 8, bytes.last! & 0x80 != 0 {
                            value -= Int64(1) << Int64(8 * bytes.count)
                        }
                        push(.int(value))
                    } else {
                        push(.bigInt(bytes))
                    }
                } else {
                    guard try skipPayload(length: UInt64(length)) else { return truncated(offset) }
                    push(.bigInt([]))
                }
            case 0x47:  // BINFLOAT
                guard try stream.skip(8) else { return truncated(offset) }
                push(.float)
            case 0x61:  // APPEND
                _ = pop(offset)
                checkAppendTarget(top(offset), at: offset, "APPEND")
                checkFillTarget(top(offset), at: offset, "APPEND")
                checkArrayMutation(top(offset), at: offset, "APPEND")
            case 0x65:  // APPENDS
                _ = popMark(offset)
                checkAppendTarget(top(offset), at: offset, "APPENDS")
                checkFillTarget(top(offset), at: offset, "APPENDS")
                checkArrayMutation(top(offset), at: offset, "APPENDS")
            case 0x62:  // BUILD
                let state = resolvedAlias(pop(offset))
                let target = top(offset)
                if !Self.makesFreshInstance(target) { classStateMayHaveChanged = true }
                // A call that may return its argument (`numpy.object_(x)` is `x`) hands BUILD an object made earlier:
                // a dtype the scanner sized arrays by, or a class, whose attributes it then changes unseen (scanner
                // review 26).
                // Only an object known to be made by the call before it is modelled (scanner review 27:
                // `copyreg._reconstructor(numpy.object_, numpy.object_, D)` is `D`).
                if Self.mayBeAnEarlierObject(target), !degraded {
                    findings.add(
                        "pickle.build-on-passthrough", .high, at: offset, subject: Self.subject(of: target),
                        "BUILD on a value that may be an object made earlier (a dtype, a class), not a fresh instance")
                }
                if case .global(let module, let name) = target {
                    findings.add(
                        "pickle.build-on-global", .high, at: offset, subject: module + "." + name,
                        "BUILD sets attributes on an imported global (can overwrite module state)")
                }
                // By any name scikit-learn exports it under (`sklearn.tree._classes.Tree` is the same class; scanner
                // review 64); `sklearn.tree._export.Tree`, a plotting helper fitted models never hold, is checked alike.
                if case .object(let callable?, _) = target, callable.hasPrefix("sklearn."), callable.hasSuffix(".Tree"),
                    !degraded
                {
                    let flags = stack.count > (marks.last ?? 0) ? slotFlags[slotFlags.count - 1] : .secondReference
                    if let problem = Self.treeStateProblem(state, flags: flags) {
                        findings.add(
                            "sklearn.tree-state", .high, at: offset, subject: callable,
                            "BUILD gives a scikit-learn Tree \(problem): Tree.__setstate__ keeps node_count as given "
                                + "and bounds it by the node array only the first time, and reading a tree past its "
                                + "nodes crashes the process")
                    }
                }
                // Past the memo bound a GET can read back a value the scanner no longer holds (a dtype, a global): a
                // BUILD on it may change what the scanner skips or checks (review 8 of the scanner, finding 3).
                if case .unknown = target, memoReadsMayBeUntracked, !degraded {
                    findings.add(
                        "pickle.bound-exceeded", .high, at: offset, subject: "BUILD",
                        "BUILD on a value the scanner dropped past its memo bound")
                }
                // A slot state naming `__class__` turns the object into another class (joblib reads array bytes
                // after any BUILD that leaves a NumpyArrayWrapper; review 8 of the scanner, finding 1). One naming
                // `__new__` makes `newObj(obj)` (`obj.__new__(obj)`, allowed for k-d trees) call what it holds
                // (scanner review 13).
                if Self.stateNamesClass(state, opaqueMappings: true) {
                    findings.add(
                        "pickle.build-class", .high, at: offset, subject: "__class__, __new__ or __setstate__",
                        "BUILD sets __class__, __new__, __setstate__ or a method the unpickler calls (append, extend, add)"
                    )
                }
                // Without a `__setstate__`, the unpickler applies a `(state, slotstate)` pair itself and sets the slot
                // state's keys with `setattr`: a state the scanner cannot read as a literal (a call's result such as
                // `tuple(...)`, a namedtuple or a dict subclass filled by SETITEMS, a global, an unknown value) may
                // be that pair and set `__class__` unseen (scanner review 25).
                // An exception's `__setstate__` sets every key with `setattr` (scanner review 29: an unknown state on
                // `ConvergenceWarning()` gave the instance a `__setstate__` of the pickle's choosing).
                if Self.setsEveryKey(target),
                    Self.appliedStateIsOpaque(state)
                        || Self.stateNamesClass(state, opaqueMappings: true, everyKeyApplied: true)
                {
                    findings.add(
                        "pickle.build-class", .high, at: offset, subject: Self.subject(of: target),
                        "BUILD gives an exception a state whose keys it sets with setattr and the scanner cannot read")
                }
                if !Self.hasSetstate(target), Self.slotStateIsOpaque(state) {
                    findings.add(
                        "pickle.build-opaque-state", .high, at: offset, subject: "BUILD",
                        "BUILD gives an object without __setstate__ a state the scanner cannot read (its slot state "
                            + "may set __class__)")
                }
                // scikit-learn's `__setstate__` compares `_sklearn_version` with its own and formats it into a warning;
                // an exception's `__str__` formats its arguments and attributes. Formatting a crafted sparse matrix
                // converts it with scipy's unchecked sparsetools (scanner review 43: `ConvergenceWarning` with the
                // matrix in `args`, as `_sklearn_version`, wrote past a heap buffer under all four loaders). scikit-learn
                // writes the version as text, and real files carry no exception holding objects.
                if Self.versionStateIsNotText(state) || (Self.setsEveryKey(target) && !Self.isLiteral(state)) {
                    findings.add(
                        "pickle.formatted-state", .high, at: offset, subject: Self.subject(of: target),
                        "BUILD gives an exception a state holding objects, or an estimator a _sklearn_version that is "
                            + "not text: loading formats them")
                }
                // A crafted sparse matrix converts itself wherever numpy, scipy or torch format or coerce a state value
                // (scanner review 44: a MaskedArray's `fill_value`, which numpy prints when it cannot convert it). Real
                // files hold sparse matrices as attributes of scikit-learn estimators (a dict state), nowhere else.
                if !degraded, Self.containsSparseInstance(state), !Self.mayHoldSparseAttributes(target, state) {
                    findings.add(
                        "scipy.sparse-in-state", .high, at: offset, subject: Self.subject(of: target),
                        "BUILD hands a scipy sparse matrix to an object that is not a scikit-learn estimator (its "
                            + "__setstate__ may print or convert it, with index arrays scipy does not check)")
                }
                // A sparse matrix's state must be one the scanner read and found in bounds (see `SparseState`).
                if let format = Self.sparseClassName(of: target).flatMap(SparseState.format(ofClass:)) {
                    checkedSparseStates = true
                    if let problem = SparseState.problem(
                        format: format, state: state, littleEndianOnly: !foreignByteOrder,
                        buffersTracked: !buffersMayBeShared && !memoReadsMayBeUntracked)
                    {
                        findings.add(
                            "scipy.sparse-state", .high, at: offset, subject: Self.subject(of: target),
                            "BUILD gives a scipy sparse matrix a state its compiled code may read or write out of "
                                + "bounds, or one the scanner cannot check: " + problem)
                    }
                }
                if Self.isNumpyRandomObject(target), let problem = Self.randomStateProblem(state) {
                    findings.add(
                        "numpy.random-state", .high, at: offset, subject: Self.subject(of: target),
                        "BUILD gives a numpy random generator a state whose position numpy does not check: drawing "
                            + "would read past its buffer (" + problem + ")")
                }
                if Self.buildChangesArrayMemory(target) {
                    findings.add(
                        "numpy.array-mutated", .high, at: offset, subject: Self.subject(of: target),
                        "BUILD on bytes or an array made earlier: its contents may change after they were checked")
                }
                if case .object("functools.partial", _) = target, !Self.isPlainPartialState(state) {
                    findings.add(
                        "pickle.partial-state", .high, at: offset, subject: "functools.partial",
                        "BUILD gives a functools.partial a state other than (function, args, keywords, None): its "
                            + "__dict__ would be a mapping the pickle can still change, or its function not one "
                            + "allowed to be wrapped")
                }
                if case .object("numpy.dtype", _) = target, !Self.isLittleEndianDtypeState(state) {
                    // Arrays made with this dtype, earlier or later, read their integers the other way round: no
                    // sparse matrix's index arrays can be checked.
                    foreignByteOrder = true
                    if checkedSparseStates {
                        findings.add(
                            "scipy.sparse-state", .high, at: offset, subject: "numpy.dtype",
                            "BUILD gives a dtype a byte order the scanner does not model, after a scipy sparse "
                                + "matrix's index arrays were checked in little-endian order")
                    }
                }
                if case .object("numpy.dtype", let args) = target {
                    // A record dtype is sized by its state alone, and numpy changes the dtype in place: only the one
                    // BUILD numpy writes, on the dtype just made, is modelled (scanner review 67: a second BUILD, or
                    // one after an array took the dtype, grew the item size under the array's buffer; SIGSEGV under
                    // all four loaders).
                    if Self.isRecordDtype(target) {
                        let flags = stack.count > (marks.last ?? 0) ? slotFlags[slotFlags.count - 1] : .secondReference
                        if !flags.isDisjoint(with: [.built, .secondReference]) {
                            findings.add(
                                "numpy.dtype-state", .high, at: offset, subject: "numpy.record",
                                "BUILD gives a record dtype a second state, or one through another reference to it: "
                                    + "numpy changes its item size in place, under arrays made with it")
                        } else {
                            unbuiltRecordDtypes = max(0, unbuiltRecordDtypes - 1)
                        }
                    }
                    if let problem = Self.dtypeStateProblem(args, state) {
                        findings.add(
                            "numpy.dtype-state", .high, at: offset, subject: "numpy.dtype",
                            "BUILD gives a numpy dtype a state the scanner cannot model (\(problem))")
                    }
                    if case .tuple(let items) = state, items.count > 4, let id = items[4].aliasID {
                        dtypeFieldDicts.insert(id)
                    }
                }
                if joblibArrays, case .object(let callable, _) = target,
                    callable == "joblib.numpy_pickle.NumpyArrayWrapper"
                {
                    guard try skipJoblibArray(state: state, at: offset) else { return .broken }
                    // joblib replaces the wrapper on the stack with what it read: an array, or for an array of
                    // objects whatever its nested pickle returned. Left as a wrapper, a second BUILD on that slot was
                    // sized as another array that joblib never reads (scanner review 28). The memo keeps the wrapper,
                    // as joblib's does.
                    replaceTop(
                        Self.isObjectArrayState(state)
                            ? .unknown : SparseState.joblibArray(state: state, facts: joblibArrayFacts))
                    joblibArrayFacts = nil
                }
            case 0x63:  // GLOBAL
                nameLineUndecodable = false
                guard let module = try readNameLine(), let name = try readNameLine() else { return truncated(offset) }
                let (m, n) = GlobalPolicy.normalised(module: module, name: name, protocol: protocolInEffect)
                judgeGlobal(module: module, name: name, at: offset, via: "GLOBAL")
                push(.global(module: m, name: n))
            case 0x69:  // INST
                nameLineUndecodable = false
                guard let module = try readNameLine(), let name = try readNameLine() else { return truncated(offset) }
                let (m, n) = GlobalPolicy.normalised(module: module, name: name, protocol: protocolInEffect)
                judgeGlobal(module: module, name: name, at: offset, via: "INST")
                let args = popMark(offset)
                // `klass(*args)`, as REDUCE: it goes through every check a call does (it skipped them, so review 30's
                // chain written with INST passed).
                push(call(.global(module: m, name: n), args: PickleValue.boundedTuple(args), at: offset, via: "INST"))
            case 0x93:  // STACK_GLOBAL
                let name = pop(offset)
                let module = pop(offset)
                if case .string(let m) = module, case .string(let n) = name {
                    // Only GLOBAL and INST read name lines: an earlier line (PERSID's) says nothing here (review 33).
                    nameLineUndecodable = false
                    judgeGlobal(module: m, name: n, at: offset, via: "STACK_GLOBAL")
                    let (nm, nn) = GlobalPolicy.normalised(module: m, name: n, protocol: protocolInEffect)
                    push(.global(module: nm, name: nn))
                } else if isNeverText(module) || isNeverText(name) {
                    // CPython and joblib's unpickler raise "STACK_GLOBAL requires str" here: nothing after it
                    // runs. `pickle.load` meets this in a joblib object array's nested pickle, whose BINGETs name
                    // the outer memo's values (a default `joblib.dump` of KBinsDiscretizer).
                    findings.add(
                        "pickle.stack-global-not-text", .high, at: offset, subject: "STACK_GLOBAL",
                        "STACK_GLOBAL operands that are not strings: the unpickler fails here; the rest of this "
                            + "pickle cannot be analysed")
                    return .broken
                } else {
                    findings.add(
                        "pickle.global.unresolved", .high, at: offset, subject: "STACK_GLOBAL",
                        "STACK_GLOBAL operands could not be resolved to strings; the imported global is unknown")
                    push(.unknown)
                }
            case 0x64:  // DICT
                push(dict(from: popMark(offset)))
            case 0x7D: push(.dict([]))  // EMPTY_DICT
            case 0x6C:  // LIST
                _ = popMark(offset)
                push(.list)
            case 0x5D: push(.list)  // EMPTY_LIST
            case 0x29: push(.tuple([]))  // EMPTY_TUPLE
            case 0x74:  // TUPLE
                push(.boundedTuple(popMark(offset)))
            case 0x85, 0x86, 0x87:  // TUPLE1, TUPLE2, TUPLE3
                var items = [PickleValue]()
                for _ in 0..<Int(op - 0x84) { items.append(pop(offset)) }
                push(.tuple(items.reversed()))
            case 0x8F: push(.set)  // EMPTY_SET
            case 0x90:  // ADDITEMS
                _ = popMark(offset)
                checkAppendTarget(top(offset), at: offset, "ADDITEMS")
                checkFillTarget(top(offset), at: offset, "ADDITEMS")
                checkArrayMutation(top(offset), at: offset, "ADDITEMS")
            case 0x91:  // FROZENSET
                _ = popMark(offset)
                push(.set)
            case 0x73:  // SETITEM
                let value = pop(offset)
                let key = pop(offset)
                checkFillTarget(top(offset), at: offset, "SETITEM")
                checkArrayMutation(top(offset), at: offset, "SETITEM")
                checkFilledKeys([key], of: top(offset), at: offset, "SETITEM")
                noteOrderedDictFill(at: offset, "SETITEM")
                addToTopDict([(key, value)], offset)
            case 0x75:  // SETITEMS
                let items = popMark(offset)
                checkFillTarget(top(offset), at: offset, "SETITEMS")
                checkArrayMutation(top(offset), at: offset, "SETITEMS")
                checkFilledKeys(pairs(items).map(\.0), of: top(offset), at: offset, "SETITEMS")
                if !items.isEmpty { noteOrderedDictFill(at: offset, "SETITEMS") }
                addToTopDict(pairs(items), offset)
            case 0x6F:  // OBJ
                var args = popMark(offset, firstIsCallable: true)
                let cls = args.isEmpty ? PickleValue.unknown : args.removeFirst()
                // At most `maxElements` arguments, as TUPLE keeps: all of them, each checked by `call`, cost work per
                // byte that no bound limited (scanner review 10, finding B: 250 MB of one memoised dict, 6 minutes).
                push(call(cls, args: PickleValue.boundedTuple(args), at: offset, via: "OBJ"))
            case 0x81:  // NEWOBJ
                let args = pop(offset)
                let cls = pop(offset, callable: true)
                push(call(cls, args: args, at: offset, via: "NEWOBJ"))
            case 0x92:  // NEWOBJ_EX
                _ = pop(offset)
                let args = pop(offset)
                let cls = pop(offset, callable: true)
                push(call(cls, args: args, at: offset, via: "NEWOBJ_EX"))
            case 0x67, 0x68, 0x6A:  // GET, BINGET, LONG_BINGET
                let key: Int64
                if op == 0x67 {
                    let (value, complete) = try readDecimalLine(at: offset, "GET")
                    guard complete else { return truncated(offset) }
                    guard let value else { return invalidArgument(at: offset, "GET") }
                    key = value
                } else {
                    guard let value = try stream.readLE(op == 0x68 ? 1 : 4) else { return truncated(offset) }
                    key = Int64(value)
                }
                if let value = memo.get(key) {
                    if let id = value.aliasID { aliasRead.insert(id) }
                    noteReferencedAgain(value, at: offset)
                    noteRecordDtypeReadAgain(value, at: offset, via: "a memo read")
                    pushMeasured(value)
                    if !degraded, !depths.isEmpty {
                        depths[depths.count - 1] = memo.depth(of: key)
                        slotFlags[slotFlags.count - 1] = .secondReference
                    }
                } else {
                    findings.add(
                        "pickle.memo-undefined", .medium, at: offset, subject: "memo[\(key)]",
                        "a memo read of a key never written (Python would stop here)")
                    push(.unknown)
                }
            case 0x70, 0x71, 0x72, 0x94:  // PUT, BINPUT, LONG_BINPUT, MEMOIZE
                let key: Int64
                switch op {
                case 0x70:
                    let (value, complete) = try readDecimalLine(at: offset, "PUT")
                    guard complete else { return truncated(offset) }
                    guard let value, value >= 0 else { return invalidArgument(at: offset, "PUT") }
                    key = value
                case 0x71:
                    guard let value = try stream.readByte() else { return truncated(offset) }
                    key = Int64(value)
                case 0x72:
                    guard let value = try stream.readLE(4) else { return truncated(offset) }
                    key = Int64(value)
                default:
                    key = memo.count
                }
                let value = memoised(top(offset), key: key)
                let wasTracked = !memo.untrackedKeys
                let depthsWereKept = !memo.depthsOverflowed
                memo.setDepth(stack.count > (marks.last ?? 0) ? depths[depths.count - 1] : 0, of: key)
                if depthsWereKept && memo.depthsOverflowed {
                    findings.add(
                        "pickle.bound-exceeded", .high, at: offset, subject: "memo[\(key)]",
                        "more scattered memo keys than the scanner keeps nesting depths for: later reads may nest "
                            + "deeper than it knows")
                }
                if memo.put(key, value) {
                    findings.add(
                        "pickle.memo-overwrite", .medium, at: offset, subject: "memo[\(key)]",
                        "a memo key is written twice (memo indirection; picklers never do this)")
                }
                // Review 6, finding 7: past the large-key bound a key PUT twice counted twice.
                if wasTracked && memo.untrackedKeys {
                    findings.add(
                        "pickle.bound-exceeded", .high, at: offset, subject: "memo[\(key)]",
                        "more large memo keys than the scanner tracks: the memo's length (MEMOIZE's key) and "
                            + "later reads are no longer known")
                }
            case 0x80:  // PROTO
                guard let version = try stream.readByte() else { return truncated(offset) }
                protocolInEffect = Int(version)
                if !first {
                    findings.add(
                        "pickle.proto-misplaced", .medium, at: offset, subject: "PROTO \(version)",
                        "PROTO appears after the first opcode")
                }
                if version > 5 {
                    findings.add(
                        "pickle.proto-unsupported", .medium, at: offset, subject: "PROTO \(version)",
                        "the pickle claims a protocol above 5")
                }
            case 0x82, 0x83, 0x84:  // EXT1, EXT2, EXT4
                guard let code = try stream.readLE(op == 0x82 ? 1 : op == 0x83 ? 2 : 4) else {
                    return truncated(offset)
                }
                findings.add(
                    "pickle.extension-code", .high, at: offset, subject: "EXT code \(code)",
                    "an extension-registry opcode imports whatever global the loader registered under this code")
                push(.unknown)
            case 0x95:  // FRAME
                guard let length = try stream.readLE(8) else { return truncated(offset) }
                if let end = frameEnd, end != offset {
                    frameMismatch(at: offset, "a FRAME starts before the previous one ends")
                }
                if length > stream.remaining {
                    frameMismatch(at: offset, "a FRAME is longer than the rest of the data")
                    frameEnd = nil
                } else {
                    frameEnd = length == 0 ? nil : stream.position + length
                }
            case 0x97: push(.bytes(nil))  // NEXT_BUFFER
            case 0x98: break  // READONLY_BUFFER
            default:
                findings.add(
                    "pickle.invalid-opcode", .high, at: offset, subject: "opcode 0x" + String(op, radix: 16),
                    "a byte that is not a pickle opcode; the rest of this pickle cannot be analysed")
                return .broken
            }
            // Most opcodes leave nesting as it is: skipped before `trackNesting` reads any of the interpreter's state.
            if let effect = Self.nestingEffect(of: op) { trackNesting(effect, op, at: offset) }
        }
    }

    // MARK: - Nesting depth

    /// What is wrong with a `BUILD` of `state` on a scikit-learn `Tree` whose stack value has `flags`, or nil. The
    /// pickler writes one literal state dict whose `node_count` is a non-negative integer; `__setstate__` clamps it to
    /// the node array only while the tree has no nodes yet, so a negative count, or any count in a second state,
    /// makes `feature_importances_` walk off the heap (scanner review 63: SIGSEGV under all four loaders).
    static func treeStateProblem(_ state: PickleValue, flags: SlotFlags) -> String? {
        if !flags.isDisjoint(with: [.built, .secondReference]) {
            return "a second state, or one applied through another reference to it"
        }
        guard case .dict = state, case .int(let count)? = state["node_count"] else {
            return "a state whose node_count is not an integer the scanner can read"
        }
        return count < 0 ? "a negative node_count" : nil
    }

    /// Facts about one stack value's reference (see `slotFlags`).
    struct SlotFlags: OptionSet {
        let rawValue: UInt8
        /// Pushed by a memo read or `DUP`: another reference to the same object may be held elsewhere.
        static let secondReference = SlotFlags(rawValue: 1)
        /// A `BUILD` applied a state to it.
        static let built = SlotFlags(rawValue: 2)
    }

    /// The deepest nesting allowed. CPython recurses in C, with no recursion check, once per level when it hashes a
    /// tuple (as a dict key or set member) and when it frees a `slice`, a `deque` or a numpy object array, so a
    /// pickle of a few bytes per level nested 150,000 deep kills every loader with SIGSEGV, while loading or when the
    /// object is freed (scanner review 62). CPython's own pickler stops near its recursion limit of 1,000, so no
    /// pickle it writes nests deeper.
    static let maxNesting = 1_000

    /// How an opcode changes the nesting of the value it leaves on top of the stack (see `trackNesting`).
    enum NestingEffect {
        /// A container or tuple made from what it popped.
        case container
        /// A call's result.
        case call
        /// A container filled, or an object given a state.
        case fill
        /// A second reference to the value below.
        case duplicate
    }

    /// The nesting effect of `op`, or nil for the opcodes that leave nesting as it is.
    static func nestingEffect(of op: UInt8) -> NestingEffect? {
        switch op {
        case 0x29, 0x5D, 0x7D, 0x8F, 0x74, 0x85, 0x86, 0x87, 0x91, 0x64, 0x6C, 0x6F, 0x69:
            // EMPTY_TUPLE, EMPTY_LIST, EMPTY_DICT, EMPTY_SET, TUPLE, TUPLE1-3, FROZENSET, DICT, LIST, OBJ, INST
            .container
        case 0x52, 0x81, 0x92, 0x51, 0x50: .call  // REDUCE, NEWOBJ, NEWOBJ_EX, BINPERSID, PERSID
        case 0x62, 0x61, 0x65, 0x73, 0x75, 0x90: .fill  // BUILD, APPEND, APPENDS, SETITEM, SETITEMS, ADDITEMS
        case 0x32: .duplicate  // DUP
        default: nil
        }
    }

    /// Updates the depth of the value `op` left on top of the stack from the values it popped: a container or tuple is
    /// one level above its deepest item, a call's result as deep as its arguments (their tuple is a level already),
    /// and a container filled or an object given a state rises above what it was given. A memo read takes the depth
    /// recorded with the key. A fill through a second reference (a memo read, `DUP`) deepens every container that
    /// already holds the object, which the scanner does not follow: what it adds is summed instead (scanner review 63:
    /// deques and numpy object arrays memoised empty and filled later, 60,000 levels counted as 5). Past
    /// ``maxNesting``, high.
    private func trackNesting(_ effect: NestingEffect, _ op: UInt8, at offset: UInt64) {
        guard !degraded, let last = depths.indices.last, stack.count > (marks.last ?? 0) else { return }
        switch effect {
        case .container:
            depths[last] = poppedDepth + 1
        case .call:
            depths[last] = max(poppedDepth, 1)
        case .fill:
            depths[last] = max(depths[last], poppedDepth + 1)
            if op == 0x62 { slotFlags[last].insert(.built) }
            if slotFlags[last].contains(.secondReference) { lateFillDepth += poppedDepth + 1 }
        case .duplicate:
            if last > 0 {
                depths[last] = depths[last - 1]
                slotFlags[last - 1].insert(.secondReference)
                slotFlags[last] = slotFlags[last - 1]
            }
        }
        deepestNesting = max(deepestNesting, depths[last])
        guard deepestNesting + lateFillDepth > Self.maxNesting, !reportedDeepNesting else { return }
        reportedDeepNesting = true
        findings.add(
            "pickle.deep-nesting", .high, at: offset, subject: "pickle",
            "the pickle nests values more than \(Self.maxNesting) levels deep, or may through objects filled after "
                + "they were stored: CPython hashes or frees a value that deep by recursing in C without a bound and "
                + "crashes (picklers never nest this deep)")
    }

    private func frameMismatch(at offset: UInt64, _ message: String) {
        guard !reportedFrameMismatch else { return }
        reportedFrameMismatch = true
        findings.add("pickle.frame-mismatch", .medium, at: offset, subject: "FRAME", message)
    }

    private func invalidArgument(at offset: UInt64, _ opcode: String) -> Outcome {
        findings.add(
            "pickle.invalid-argument", .high, at: offset, subject: opcode,
            "a malformed \(opcode) argument; the rest of this pickle cannot be analysed")
        return .broken
    }

    /// The result of calling `callable`; a callable that is not an imported global is itself a finding.
    private func call(_ callable: PickleValue, args: PickleValue, at offset: UInt64, via opcode: String) -> PickleValue
    {
        // Past the budget the file is high already; the checks below are skipped (imports are still judged).
        if case .global = callable, measuringBudgetSpent() { return .unknown }
        let items: [PickleValue]
        if case .tuple(let tuple) = args {
            // A memoised dict changed after it was placed in the arguments is what Python passes: unknown here.
            items = aliasStale.isEmpty ? tuple : tuple.map(resolvedAlias)
        } else {
            items = []
            // Picklers always write a tuple. The pure-Python unpickler joblib uses calls `func(*args)` with any
            // iterable, so a list or a call's result hides the arguments from every check below (scanner review 18:
            // `newObj(*[NumpyArrayWrapper])`).
            if case .unknown = args, degraded {
                // Past a structural bound the pickle is high already.
            } else {
                findings.add(
                    "pickle.call-arguments", .high, at: offset, subject: opcode,
                    "\(opcode) with arguments that are not a tuple; what the call receives is not analysed")
            }
        }
        // The checks below visit each argument and its elements: charged to the measuring budget, so a run of calls
        // on one memoised tuple is bounded like a run of new containers (scanner review 11, F3).
        measuredNodes +=
            1
            + items.reduce(0) { total, item in
                switch item {
                case .tuple(let elements): total + 1 + elements.count
                case .dict(let pairs): total + 1 + 2 * pairs.count
                default: total + 1
                }
            }
        switch callable {
        case .global(let module, let name):
            let qualified = module + "." + name
            if qualified == "numpy.dtype", case .global(module: "numpy", name: "record")? = items.first {
                unbuiltRecordDtypes += 1
            }
            // numpy's reductions and `asarray` are allowed as values (FeatureAgglomeration's `pooling_func`), never
            // called by the files real libraries write; called, they coerce their argument to an array, reading any
            // `__array_interface__` it carries: a pointer of the pickle's choosing (scanner reviews 37 and 38).
            if Self.arrayCoercingCallables.contains(qualified)
                || (GlobalPolicy.scipySparseClasses.contains(qualified) && !items.isEmpty
                    && opcode != "NEWOBJ" && opcode != "NEWOBJ_EX")
            {
                findings.add(
                    "pickle.call-array-coercion", .high, at: offset, subject: qualified,
                    "\(opcode) calls a function that turns its argument into an array (it reads the argument's "
                        + "__array_interface__, which a pickle can point anywhere)")
            }
            // `numpy.ndarray(shape, dtype, buffer)` with an object dtype makes an array whose items are pointers read
            // from the buffer: reading one dereferences an address of the file's choosing (scanner review 46). numpy
            // pickles arrays through `_reconstruct`, `_frombuffer` and joblib's wrapper, never by calling the class.
            if qualified == "numpy.ndarray" {
                findings.add(
                    "numpy.ndarray-call", .high, at: offset, subject: qualified,
                    "\(opcode) calls numpy.ndarray: with an object dtype over a buffer, its items are pointers the "
                        + "file wrote")
            }
            // `copyreg._reconstructor(C, base, state)` runs `base.__init__(obj, state)`: with a base other than a
            // builtin type, that is a class's own initialiser on arguments of the pickle's choosing (review 46 built a
            // csr_matrix through `csr_matrix.__init__`, which checks no index, and no BUILD followed). Pickle writes
            // the first non-heap type of the class's MRO there: a builtin, or one of collections' C types.
            if qualified == "copyreg._reconstructor", items.count > 1 {
                let base = items[1].globalName ?? ""
                if !(base.hasPrefix("builtins.") || Self.reconstructorCollectionBases.contains(base)) {
                    findings.add(
                        "pickle.reconstructor-base", .high, at: offset, subject: base.isEmpty ? qualified : base,
                        "copyreg._reconstructor with a base that is not a builtin type: it calls that class's "
                            + "__init__ with the pickle's arguments")
                }
            }
            // `MaskedArray(data, mask, dtype, …)` coerces its data to an array and casts its fill value: numpy
            // pickles masked arrays through `_mareconstruct` and a BUILD, never by calling the class (reviews 52, 57).
            if Self.maskedArrayClasses.contains(qualified), !items.isEmpty {
                findings.add(
                    "pickle.call-array-coercion", .high, at: offset, subject: qualified,
                    "\(opcode) calls numpy's MaskedArray with arguments: it coerces them to arrays and casts its fill "
                        + "value, which numpy's own pickles never do")
            }
            // scikit-learn's tree-building machinery copies its arguments into C buffers unchecked (`Gini(n_outputs,
            // n_classes)` read 64 MB past a one-entry array while loading, SIGSEGV under all four loaders: scanner
            // review 59). Fitted models never hold it: a tree keeps its `Tree`, not the criterion or splitter.
            if Self.isTreeBuildingClass(qualified) {
                findings.add(
                    "sklearn.tree-builder-call", .high, at: offset, subject: qualified,
                    "\(opcode) makes a scikit-learn criterion, splitter, partitioner or tree builder, whose constructor "
                        + "copies its arguments into C buffers unchecked; fitted models never hold one")
            }
            // Likewise `IntFloatDict(keys, values)`, which loops over `values` and reads `keys[i]` unchecked (scanner
            // review 60: 32 MB past a one-entry buffer while loading); agglomerative clustering makes one while it
            // fits and keeps none.
            if qualified.hasPrefix("sklearn."), qualified.hasSuffix(".IntFloatDict") {
                findings.add(
                    "sklearn.fit-time-class", .high, at: offset, subject: qualified,
                    "\(opcode) makes a scikit-learn IntFloatDict, whose constructor reads its keys unchecked; fitted "
                        + "models never hold one")
            }
            // And t-SNE's `_QuadTree`, whose `__setstate__` keeps `cell_count` unchecked against its cells (scanner
            // review 63's lead); t-SNE builds one while it fits and keeps none.
            if qualified.hasPrefix("sklearn."), qualified.hasSuffix("._QuadTree") {
                findings.add(
                    "sklearn.fit-time-class", .high, at: offset, subject: qualified,
                    "\(opcode) makes a scikit-learn _QuadTree, whose state is not checked against its cells; fitted "
                        + "models never hold one")
            }
            if qualified.hasPrefix("numpy."), let problem = Self.datetimeUnitProblem(qualified, items) {
                findings.add(
                    "numpy.dtype-state", .high, at: offset, subject: qualified,
                    "\(qualified) called with \(problem): numpy divides by a datetime unit's multiplier when it "
                        + "casts, and a multiplier of 0 kills the process (SIGFPE)")
            }
            if let problem = Self.datetimeStateProblem(qualified, items) {
                findings.add(
                    "pickle.datetime-state", .high, at: offset, subject: qualified,
                    "a \(qualified) made from a state \(problem): CPython checks only the month of a pickled state, "
                        + "and a field out of range indexes its tables out of bounds")
            }
            // torch rebuilds a sparse tensor without checking its indices (`check_invariants` is off unless the
            // loader turns it on), and `to_dense()` writes where they point (scanner review 46: column 2^32).
            if qualified == "torch._utils._rebuild_sparse_tensor" {
                findings.add(
                    "torch.sparse-tensor", .high, at: offset, subject: qualified,
                    "a sparse tensor, whose indices torch.load does not check: to_dense() and its kin write where "
                        + "they point")
            }
            // Likewise a nested tensor's sizes, strides and offsets: an empty size table was a NULL read when the
            // loaded checkpoint was printed (scanner review 52).
            if qualified == "torch._utils._rebuild_nested_tensor" {
                findings.add(
                    "torch.nested-tensor", .high, at: offset, subject: qualified,
                    "a nested tensor, whose size, stride and offset tables torch.load does not check: printing or "
                        + "unbinding it reads where they point")
            }
            // `__randomstate_ctor(name, ctor)` and `__generator_ctor(name, ctor)` call `ctor(name)`: numpy writes its
            // own bit-generator maker there, or nothing; any other callable would be called with a value of the
            // pickle's choosing (`numpy.log1p`, `check_array` and the reductions coerce it to an array).
            if qualified == "numpy.random._pickle.__randomstate_ctor"
                || qualified == "numpy.random._pickle.__generator_ctor", items.count > 1
            {
                var numpysOwn = false
                if case .global("numpy.random._pickle", "__bit_generator_ctor") = items[1] { numpysOwn = true }
                if !numpysOwn {
                    findings.add(
                        "numpy.random-ctor", .high, at: offset, subject: qualified,
                        "\(opcode) hands numpy's random-state maker a callable other than its bit-generator maker, "
                            + "which it calls")
                }
            }
            // Makers of an instance of the class they are handed build any class: `__bit_generator_ctor(cls)` is
            // `cls()`, scikit-learn's `newObj(cls)` is `cls.__new__(cls)`. A `Bunch` made so took a computed
            // `__array_interface__` key unseen (scanner review 49: a read of any address while loading). numpy hands
            // the first one of its bit generators (or a name), scikit-learn the second its trees and metrics.
            if let allowed = Self.instanceMakerClasses[qualified], let made = items.first {
                let isAllowed: Bool
                switch made {
                case .string(let name):
                    isAllowed = qualified.hasPrefix("numpy.") && Self.bitGeneratorNames.contains(name)
                case .global(let module, _): isAllowed = allowed.contains(module)
                default: isAllowed = false
                }
                if !isAllowed {
                    findings.add(
                        "pickle.instance-maker-class", .high, at: offset, subject: qualified,
                        "\(opcode) hands an instance maker a class it does not make in files its library writes")
                }
            }
            // A sparse matrix handed to a call: `tuple(m)` iterates it and `str(m)` prints it, and both convert it with
            // scipy's sparsetools, which trust the index arrays the pickle wrote (scanner review 42: a heap write under
            // all four loaders). scipy pickles them by NEWOBJ or `copyreg._reconstructor` and a state; no real file
            // hands one to a call.
            if !degraded,
                items.contains(where: { item in
                    switch item {
                    case .tuple(let elements): elements.contains(where: Self.isSparseInstance)
                    case .dict(let pairs): pairs.contains { Self.isSparseInstance($0.0) || Self.isSparseInstance($0.1) }
                    default: Self.isSparseInstance(item)
                    }
                })
            {
                findings.add(
                    "scipy.sparse-argument", .high, at: offset, subject: qualified,
                    "\(opcode) hands a scipy sparse matrix to a call (iterating or printing it converts it with "
                        + "index arrays scipy does not check)")
            }
            // An exception formats its arguments when printed (a warning scikit-learn emits while loading prints it):
            // made from anything but literals, it may format a crafted sparse matrix (scanner review 43).
            if GlobalPolicy.sklearnExceptionClasses.contains(qualified), !items.allSatisfy({ Self.isLiteral($0) }),
                !degraded
            {
                findings.add(
                    "pickle.formatted-state", .high, at: offset, subject: qualified,
                    "\(opcode) makes an exception from values other than literals, which printing it formats")
            }
            // `dict(x)`, `OrderedDict(x)`, `Counter(x)`, `defaultdict(f, x)` and `copyreg._reconstructor(C, dict, x)`
            // (`dict.__init__(obj, x)`) call `x.keys()` on anything but a dict: an attribute a BUILD state may have set
            // (scanner review 41 put a `partial` there). Picklers hand them literal containers.
            if let position = Self.mappingSourcePosition(qualified, items), position < items.count, !degraded {
                switch items[position] {
                case .object, .global, .unknown:
                    findings.add(
                        "pickle.mapping-from-object", .high, at: offset, subject: qualified,
                        "\(opcode) makes a mapping from an object, whose keys() the call runs")
                default: break
                }
            }
            // `Parameter(data)` calls `data.detach()` and `_rebuild_device_tensor_from_cpu_tensor(data, …)` calls
            // `data.to(…)`: on anything but a tensor those are attributes a BUILD state may have set (scanner review 31's
            // lead). torch hands them a tensor it rebuilt.
            if Self.tensorTakers.contains(qualified), let data = items.first, !degraded, !Self.isRebuiltTensor(data) {
                findings.add(
                    "torch.rebuild-argument", .high, at: offset, subject: qualified,
                    "\(opcode) hands torch a value other than a tensor its rebuilds made, whose methods torch calls")
            }
            // `partial(f, *args, **keywords)` is a call of `f` with those arguments waiting for anyone to make it: a
            // library that calls an attribute of an object (torch's `Parameter(data)` calls `data.detach()`) would
            // make a call the checks here never see. So only a function that is harmless with any arguments may be
            // wrapped: `check_array`, which HistGradientBoosting's categorical preprocessor holds.
            if qualified == "functools.partial", items.count != 1 || !Self.isPartialTarget(items[0]) {
                findings.add(
                    "pickle.partial-state", .high, at: offset, subject: qualified,
                    "\(opcode) makes a functools.partial of something other than a function allowed to be wrapped")
            }
            // A mapping whose keys are its attributes (a `Bunch`, or `copyreg._reconstructor(Bunch, dict, state)`)
            // made from a mapping: a dunder key, or keys the scanner cannot read, are attributes numpy may look up
            // (`__array_interface__`: scanner review 37), as for SETITEM(S).
            if Self.makesAMapping(qualified, items), !Self.mappingMakers.contains(qualified) {
                for item in items.dropFirst(qualified == "copyreg._reconstructor" ? 2 : 0) {
                    switch item {
                    case .dict(let pairs): checkFilledKeys(pairs.map(\.0), of: .unknown, at: offset, opcode)
                    case .none, .string, .int, .bool, .global: break
                    default: checkFilledKeys([.unknown], of: .unknown, at: offset, opcode)
                    }
                }
            }
            // joblib reads array bytes after a BUILD on any NumpyArrayWrapper, however it was made: only the wrapper
            // called directly is recognised, so one handed to another callable (`_rebuild_from_type_v2` makes one
            // and sets its class) is refused (review 8 of the scanner, finding 1).
            if items.contains(where: Self.isJoblibWrapper) {
                findings.add(
                    "joblib.wrapper-indirect", .high, at: offset, subject: qualified,
                    "\(opcode) hands joblib's NumpyArrayWrapper to another callable")
            }
            // A callable that makes an instance of a class given as an argument, handed a class that is not an imported
            // global (one read back past the memo bound, a call's result): the instance may be a NumpyArrayWrapper,
            // whose BUILD makes joblib read array bytes the scanner would read as opcodes (scanner review 17).
            if let positions = Self.instancesOfArguments[qualified],
                positions.contains(where: { position in
                    guard position < items.count else { return false }
                    switch items[position] {
                    // A name (`__bit_generator_ctor('MT19937')`) is no class.
                    case .global, .string: return false
                    default: return true
                    }
                })
            {
                findings.add(
                    "joblib.wrapper-indirect", .high, at: offset, subject: qualified,
                    "\(opcode) makes an instance of a class the scanner cannot see (it may be joblib's "
                        + "NumpyArrayWrapper)")
            }
            // A callable that calls one of its arguments (`_rebuild_from_type(func, type, args, …)` is `func(*args)`)
            // handed another such callable, an instance maker or a value that is no imported global there: nested,
            // they carry joblib's NumpyArrayWrapper deeper than the argument check looks, and its BUILD then makes
            // joblib read array bytes the scanner reads as opcodes (scanner review 23). torch writes a plain global.
            if let position = Self.argumentCallers[qualified], position < items.count {
                var plain = false
                if case .global(let calleeModule, let calleeName) = items[position] {
                    // Only torch's own tensor rebuilds, which torch writes there: `func(*args)` is then a tensor, whose
                    // `as_subclass(type)` is torch's. `numpy.object_(x)` is `x`, whose `as_subclass` the pickle set, and
                    // it returned an imported class that `_set_obj_state` then changed (scanner review 30).
                    plain =
                        calleeModule == "torch._utils" && calleeName.hasPrefix("_rebuild_")
                        && GlobalPolicy.allowed.contains(calleeModule + "." + calleeName)
                }
                if !plain {
                    findings.add(
                        "joblib.wrapper-indirect", .high, at: offset, subject: qualified,
                        "\(opcode) hands a callable it calls something other than one of torch's tensor rebuilds (it "
                            + "may return an earlier object or make joblib's NumpyArrayWrapper)")
                }
            }
            // A state handed to a callable that applies it with `setattr` (`torch._utils._set_obj_state` under
            // `_rebuild_from_type_v2`) changes the class as a BUILD slot state does (review 9 of the scanner, finding 2).
            // A mapping built by a call counts only for those appliers (review 18); for others a list argument is data.
            let applier = Self.stateAppliers.contains(qualified)
            // A memoised dict changed through another copy was read back unknown above (`resolvedAlias`), as a BUILD
            // state is: its identity is no key (``stateNamesClass(_:opaqueMappings:everyKeyApplied:)``), so a stale
            // copy must not be read by its old keys.
            let states = items
            // `copyreg._reconstructor(cls, dict, state)` fills the new dict's items from `state` (`dict.__init__`),
            // and with `object` as base ignores it: no attribute is set, whatever the keys (a `dok_matrix`'s are
            // coordinate tuples, past the scanner's bounds in any real matrix). A class whose keys are its attributes
            // (`Bunch`) is checked as a mapping above.
            let itemsOnly =
                qualified == "copyreg._reconstructor" && items.count == 3 && !Self.makesAMapping(qualified, items)
                && [PickleValue.global(module: "builtins", name: "dict"), .global(module: "builtins", name: "object")]
                    .contains { $0.globalName == items[1].globalName }
            if states.indices.contains(where: { index in
                !(itemsOnly && index == 2)
                    && Self.stateNamesClass(
                        states[index], opaqueMappings: applier && !isParameterHooks(qualified, states, at: index))
            }) {
                findings.add(
                    "pickle.build-class", .high, at: offset, subject: qualified,
                    "\(opcode) hands a state that sets __class__ to another callable")
            }
            // `torch._utils._set_obj_state` sets both halves of a `(dict, slots)` pair with `setattr`: a state the
            // scanner cannot read (a `tuple(...)`, a namedtuple, a dict subclass) may set `__class__` unseen (scanner
            // review 25).
            if applier, states.count > 3,
                Self.appliedStateIsOpaque(states[3])
                    || Self.stateNamesClass(states[3], opaqueMappings: true, everyKeyApplied: true)
            {
                findings.add(
                    "pickle.build-opaque-state", .high, at: offset, subject: qualified,
                    "\(opcode) hands a state the scanner cannot read to a callable that sets it with setattr")
            }
            // `copyreg._reconstructor(numpy.dtype, numpy.dtype, d)` returns the dtype `d` itself, which a BUILD then
            // changes unseen by the dtype-state check (review 9 of the scanner, finding 4).
            if qualified == "copyreg._reconstructor",
                items.prefix(2).contains(where: {
                    if case .global(let m, let n) = $0 { m + "." + n == "numpy.dtype" } else { false }
                })
            {
                findings.add(
                    "numpy.dtype-state", .high, at: offset, subject: "copyreg._reconstructor",
                    "copyreg._reconstructor of numpy.dtype: a dtype numpy does not pickle this way")
            }
            return .object(callable: qualified, args: items)
        case .unknown where degraded:
            return .unknown
        default:
            findings.add(
                "pickle.call-computed", .high, at: offset, subject: opcode,
                "\(opcode) calls a value that is not an imported global")
            return .object(callable: nil, args: items)
        }
    }

    /// Whether argument `index` of a call of `callable` is the backward hooks torch writes for a parameter that
    /// carries Python attributes: `_rebuild_parameter_with_state(data, requires_grad, OrderedDict(), state)`.
    /// torch assigns that argument whole (`param._backward_hooks = backward_hooks`) and sets only `state` key by
    /// key with `setattr`, so `OrderedDict()` there names no class. Any other value there (a `dict(...)`, a list, an
    /// unknown value) is still read as a state may be.
    /// A memoised `OrderedDict()` counts while no `SETITEM(S)` filled it through any copy; one filled afterwards is
    /// high where it is filled (``noteOrderedDictFill(at:_:)``).
    private func isParameterHooks(_ callable: String, _ items: [PickleValue], at index: Int) -> Bool {
        guard callable == "torch._utils._rebuild_parameter_with_state", index == 2,
            case .object("collections.OrderedDict", let arguments) = items[index]
        else { return false }
        if arguments.isEmpty { return true }
        guard let id = Self.orderedDictID(arguments), !filledOrderedDicts.contains(id) else { return false }
        hooksOrderedDicts.insert(id)
        return true
    }

    /// Whether a `BUILD` state (or the first half of a `(state, slotstate)` pair) sets `_sklearn_version` to anything
    /// but text.
    private static func versionStateIsNotText(_ state: PickleValue) -> Bool {
        var mapping = state
        if case .tuple(let halves) = state, halves.count == 2 { mapping = halves[0] }
        guard case .dict(let pairs) = mapping else { return false }
        return pairs.contains { key, value in
            guard case .string("_sklearn_version") = key else { return false }
            if case .string = value { return false }
            return true
        }
    }

    /// Whether `value` is made of literals only (text, numbers, None, bytes, and tuples and dicts of them, a few levels
    /// deep): nothing whose formatting or comparison runs code of a class.
    private static func isLiteral(_ value: PickleValue, depth: Int = 0) -> Bool {
        switch value {
        case .string, .opaqueText, .int, .bigInt, .float, .bool, .none, .bytes: return true
        case .global(module: PickleValue.aliasModule, name: _): return true
        case .tuple(let items): return depth < 4 && items.allSatisfy { isLiteral($0, depth: depth + 1) }
        case .dict(let pairs):
            return depth < 4
                && pairs.allSatisfy { isLiteral($0.0, depth: depth + 1) && isLiteral($0.1, depth: depth + 1) }
        default: return false
        }
    }

    /// Whether `value` holds a sparse matrix (itself, or in tuples and dicts a few levels deep).
    private static func containsSparseInstance(_ value: PickleValue, depth: Int = 0) -> Bool {
        if isSparseInstance(value) { return true }
        guard depth < 6 else { return false }
        switch value {
        case .tuple(let items): return items.contains { containsSparseInstance($0, depth: depth + 1) }
        case .dict(let pairs):
            return pairs.contains {
                containsSparseInstance($0.0, depth: depth + 1) || containsSparseInstance($0.1, depth: depth + 1)
            }
        default: return false
        }
    }

    /// Whether a BUILD on `target` with `state` sets a scikit-learn estimator's attributes from a dict, where real
    /// files keep sparse matrices (`KNeighborsClassifier` fitted on one).
    private static func mayHoldSparseAttributes(_ target: PickleValue, _ state: PickleValue) -> Bool {
        guard case .dict = state, case .object(let callable?, let arguments) = target else { return false }
        if GlobalPolicy.sklearnDefinedClasses.contains(callable) { return true }
        guard let name = handedClassName(callable, arguments) else { return false }
        return GlobalPolicy.sklearnDefinedClasses.contains(name)
    }

    /// Whether `value` is an instance of one of scipy's sparse classes: made by calling the class (NEWOBJ), or by a
    /// maker of instances of a class it is handed (`copyreg._reconstructor`, `newObj`).
    private static func isSparseInstance(_ value: PickleValue) -> Bool { sparseClassName(of: value) != nil }

    /// The sparse class `value` is an instance of, or nil.
    private static func sparseClassName(of value: PickleValue) -> String? {
        guard case .object(let callable?, let arguments) = value else { return nil }
        if GlobalPolicy.scipySparseClasses.contains(callable) { return callable }
        guard let name = handedClassName(callable, arguments), GlobalPolicy.scipySparseClasses.contains(name) else {
            return nil
        }
        return name
    }

    /// The class a maker of instances of a class it is handed (`copyreg._reconstructor`, `newObj`, …) was handed,
    /// or nil for another callable or a class the scanner cannot name.
    private static func handedClassName(_ callable: String, _ arguments: [PickleValue]) -> String? {
        guard let position = instanceClassPositions[callable], position < arguments.count else { return nil }
        return arguments[position].globalName
    }

    /// Whether `value` is a dtype made from `numpy.record`.
    static func isRecordDtype(_ value: PickleValue) -> Bool {
        if case .object("numpy.dtype", let args) = value, case .global(module: "numpy", name: "record")? = args.first {
            return true
        }
        return false
    }

    /// A record dtype read again (a memo read, `DUP`) while one is still waiting for its state may be that one: an
    /// array or scalar made with it keeps it, and its `BUILD` then changes the item size under their buffers (scanner
    /// review 67). numpy writes a record dtype's state right after making it, reading no record dtype meanwhile.
    private func noteRecordDtypeReadAgain(_ value: PickleValue, at offset: UInt64, via what: String) {
        guard unbuiltRecordDtypes > 0, !degraded else { return }
        var budget = 4096
        func holdsRecordDtype(_ value: PickleValue) -> Bool {
            budget -= 1
            // Past the budget the value may hold one: judged as if it did.
            guard budget >= 0 else { return true }
            if Self.isRecordDtype(value) { return true }
            // Lists and sets keep no elements, and longer containers only their first ones.
            switch value {
            case .tuple(let items), .object(_, let items):
                return items.count >= PickleValue.maxElements || items.contains(where: holdsRecordDtype)
            case .dict(let pairs):
                return pairs.count >= PickleValue.maxElements
                    || pairs.contains { holdsRecordDtype($0.0) || holdsRecordDtype($0.1) }
            case .unknown, .list, .set: return true
            default: return false
            }
        }
        if holdsRecordDtype(value) {
            findings.add(
                "numpy.dtype-state", .high, at: offset, subject: "numpy.record",
                "\(what) of a value that may hold a record dtype still waiting for its state: numpy changes its item "
                    + "size in place when the state comes")
        }
    }

    /// Notes that `value`, read back from the memo or duplicated, is a second reference to every bytes payload it
    /// holds: an array over a payload referenced twice may share memory with another, and scipy changes a sparse
    /// matrix's arrays in place (`sum_duplicates` writes `data` and `indices`), so a matrix's checked index arrays
    /// must be its own (scanner review 45: `indices` and `data` over one bytearray, rewritten by `abs(m)`). A second
    /// reference made after a matrix was checked is high; a matrix whose arrays were referenced twice fails its check.
    private func noteReferencedAgain(_ value: PickleValue, at offset: UInt64) {
        var budget = 4096
        var checkedBufferShared = false
        func mark(_ value: PickleValue) {
            budget -= 1
            guard budget >= 0 else { return }
            switch value {
            case .bytes(let facts?):
                facts.referencedAgain = true
                if facts.checkedInSparseState { checkedBufferShared = true }
            case .tuple(let items), .object(_, let items): items.forEach(mark)
            case .dict(let pairs):
                for (key, item) in pairs {
                    mark(key)
                    mark(item)
                }
            default: break
            }
        }
        mark(value)
        if budget < 0 {
            buffersMayBeShared = true
            if checkedSparseStates { checkedBufferShared = true }
        }
        if checkedBufferShared {
            findings.add(
                "scipy.sparse-state", .high, at: offset, subject: "memo",
                "a memo read or DUP references again an array a checked scipy sparse matrix holds: scipy changes "
                    + "its arrays in place, and another holder would see, or make, the change")
        }
    }

    /// Whether `value` is a numpy random generator, bit generator or `RandomState`: made by numpy's pickle helpers,
    /// by calling one of its classes, or by a maker of instances of a class it is handed.
    /// A `SeedSequence` keeps no position (its Cython state is entropy, pool and counts).
    private static func isNumpyRandomObject(_ value: PickleValue) -> Bool {
        guard case .object(let callable?, let arguments) = value else { return false }
        let name = handedClassName(callable, arguments) ?? callable
        return name.hasPrefix("numpy.random.") && !name.hasSuffix("SeedSequence")
    }

    /// The positions numpy's bit generators take from a state without checking them, with their bounds: MT19937's
    /// `pos` indexes its 624-word key, Philox's `buffer_pos` its 4-word buffer. numpy accepts any integer there,
    /// and the next draw reads past the buffer (scanner review 45's observation; `MT19937.state = {..., pos: 10**6}`
    /// passes in numpy 2.4).
    private static let randomStatePositions: [String: Int64] = ["pos": 624, "buffer_pos": 4]

    /// Why a numpy random object's state may hold a position out of its bounds, or nil: every `pos`/`buffer_pos` in
    /// it (and a legacy `('MT19937', key, pos, ...)` tuple's third item) is an integer within bounds, and the state
    /// holds nothing that could hide one (a value made by a call other than an array maker, an unknown value).
    private static func randomStateProblem(_ state: PickleValue) -> String? {
        var problem: String?
        // Where a value lies: numpy reads a state by `[...]` and `!=`, which a structured or string array answers as
        // a dict or a name would (scanner review 47: a 0-d array with a `pos` field as MT19937's `state`, and a string
        // array as a legacy tuple's name). So arrays are allowed only where numpy writes them (a `key`, `buffer` or
        // `counter`, SFC64's inner `state`, a legacy tuple's key), and another random object only beside a bit
        // generator's state (its SeedSequence); anything else must be a literal.
        enum Slot { case top, inState, arrayOnly, seedSequence, other }
        func visit(_ value: PickleValue, depth: Int, slot: Slot) {
            guard problem == nil else { return }
            guard depth < 6 else {
                problem = "a state nested too deep to read"
                return
            }
            switch value {
            case .dict(let pairs):
                for (key, item) in pairs {
                    if case .global(module: PickleValue.aliasModule, name: _) = key { continue }
                    guard case .string(let name) = key else {
                        problem = "a key the scanner cannot read"
                        return
                    }
                    if let bound = randomStatePositions[name] {
                        guard case .int(let position) = item, (0...bound).contains(position) else {
                            problem = "a \(name) that is not an integer from 0 to \(bound)"
                            return
                        }
                    } else if ["key", "buffer", "counter"].contains(name) || (name == "state" && slot == .inState) {
                        visit(item, depth: depth + 1, slot: .arrayOnly)
                    } else {
                        visit(item, depth: depth + 1, slot: name == "state" ? .inState : .other)
                    }
                }
            case .tuple(let items):
                let legacy = items.count > 2
                if legacy, case .string("MT19937") = items[0] {
                    guard case .int(let position) = items[2], (0...624).contains(position) else {
                        problem = "a legacy position that is not an integer from 0 to 624"
                        return
                    }
                }
                for (index, item) in items.enumerated() {
                    let itemSlot: Slot =
                        if legacy, index == 1, case .string("MT19937") = items[0] {
                            .arrayOnly
                        } else if slot == .top, items.count == 2, index == 1 {
                            .seedSequence
                        } else {
                            .other
                        }
                    visit(item, depth: depth + 1, slot: itemSlot)
                }
            case .object(let callable?, _) where arrayMakers.contains(callable) && slot == .arrayOnly:
                break
            case .object(let callable?, _) where callable.hasSuffix("SeedSequence") && slot == .seedSequence:
                // Its own state is checked at its own BUILD; it holds no position of this generator.
                break
            case .unknown, .object, .global, .list, .set, .bytes:
                problem = "a value the scanner cannot read, or an array where numpy writes none"
            default:
                break
            }
        }
        visit(state, depth: 0, slot: .top)
        return problem
    }

    /// Bases besides builtins that `copyreg._reduce_ex` writes for `copyreg._reconstructor` (C types of collections).
    private static let reconstructorCollectionBases: Set<String> = [
        "collections.OrderedDict", "collections.defaultdict", "collections.deque",
    ]

    /// Callables whose result shares memory with an array or a buffer: `SETITEM` on one writes that memory.
    private static let arrayMakers: Set<String> = [
        "numpy.ndarray", "numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer",
        "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
    ]

    /// A high finding when `SETITEM(S)`, `APPEND(S)` or `ADDITEMS` changes bytes (a bytearray), an array, a tensor or
    /// a sparse matrix in place: a sparse matrix's index arrays are checked when it is built, and writing them, or the
    /// bytearray an array views, afterwards would undo the check. Picklers never fill any of them.
    private func checkArrayMutation(_ target: PickleValue, at offset: UInt64, _ opcode: String) {
        let holdsArrayMemory: Bool
        switch target {
        case .bytes: holdsArrayMemory = true
        case .object(let callable?, _):
            // A tensor may share an array's memory (`_rebuild_device_tensor_from_numpy` is `torch.from_numpy`).
            holdsArrayMemory =
                Self.arrayMakers.contains(callable) || Self.isSparseInstance(target) || Self.isRebuiltTensor(target)
                || Self.tensorTakers.contains(callable)
        default: holdsArrayMemory = false
        }
        guard holdsArrayMemory else { return }
        findings.add(
            "numpy.array-mutated", .high, at: offset, subject: opcode,
            "\(opcode) changes bytes, an array or a sparse matrix in place: its contents may change after they were "
                + "checked")
    }

    /// Whether a BUILD on `target` would replace the contents of bytes or of an array the scanner read (joblib's,
    /// `_frombuffer`'s): arrays made by `_reconstruct` are filled by their one BUILD and never checked.
    private static func buildChangesArrayMemory(_ target: PickleValue) -> Bool {
        switch target {
        case .bytes: true
        case .object(let callable?, _):
            callable == "numpy.ndarray" || callable == "numpy.core.numeric._frombuffer"
                || callable == "numpy._core.numeric._frombuffer"
        default: false
        }
    }

    /// Whether a dtype state gives a little-endian, native or byte-order-free dtype (`<`, `=`, `|`).
    private static func isLittleEndianDtypeState(_ state: PickleValue) -> Bool {
        guard case .tuple(let items) = state, items.count > 1, case .string(let order) = items[1] else { return false }
        return order == "<" || order == "=" || order == "|"
    }

    /// Where a mapping maker takes the mapping it copies (by calling its `keys()` unless it is a dict).
    private static func mappingSourcePosition(_ callable: String, _ arguments: [PickleValue]) -> Int? {
        switch callable {
        case "builtins.dict", "collections.OrderedDict", "collections.Counter", "collections.UserDict": return 0
        case "collections.defaultdict": return 1
        case "copyreg._reconstructor":
            guard arguments.count > 1, arguments[1].globalName == "builtins.dict" else { return nil }
            return 2
        default: return nil
        }
    }

    /// Callables that call methods of their first argument, expecting a tensor.
    private static let tensorTakers: Set<String> = [
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
        "torch._utils._rebuild_device_tensor_from_cpu_tensor", "torch.nn.parameter.Parameter",
        "torch.nn.parameter.Buffer",
    ]

    /// Whether `value` is what one of torch's tensor rebuilds returned.
    private static func isRebuiltTensor(_ value: PickleValue) -> Bool {
        guard case .object(let callable?, _) = value else { return false }
        return callable.hasPrefix("torch._utils._rebuild_") || callable.hasPrefix("torch._tensor._rebuild_from_type")
    }

    /// Whether `value` is a function that a `functools.partial` may wrap (see `call`).
    private static func isPartialTarget(_ value: PickleValue) -> Bool {
        if case .global(let module, let name) = value { partialTargets.contains(module + "." + name) } else { false }
    }

    /// The functions a `functools.partial` may wrap: each does nothing with any arguments but compute on arrays.
    private static let partialTargets: Set<String> = ["sklearn.utils.validation.check_array"]

    /// The keywords a `functools.partial` of `check_array` may bind: those HistGradientBoosting binds.
    private static let partialKeywords: Set<String> = ["dtype", "ensure_all_finite", "force_all_finite"]

    /// Whether a `functools.partial` state is what HistGradientBoosting writes: `(check_array, (), keywords, None)`,
    /// `keywords` None or a dict whose keys are among ``partialKeywords``: no positional argument and no keyword that
    /// takes the array or lets sparse input through, so a call of the partial that a library makes unseen (review 41:
    /// `dict(x)` calls `x.keys()`) does no more than `check_array` itself held as a value would. `args` a tuple, `keywords` None or a dict with text keys. `partial.__setstate__`
    /// keeps the fourth item itself as the instance's `__dict__`, so any mapping there (one the pickle can still fill
    /// through the memo with `__setstate__`, `append` or `__array_interface__`) is refused.
    private static func isPlainPartialState(_ state: PickleValue) -> Bool {
        guard case .tuple(let items) = state, items.count == 4, isPartialTarget(items[0]),
            case .tuple(let arguments) = items[1], arguments.isEmpty,
            case .none = items[3]
        else { return false }
        switch items[2] {
        case .none: return true
        case .dict(let pairs):
            // A memoised dict carries its identity as a key of its own; keywords only reach a later call.
            return pairs.allSatisfy { key, _ in
                switch key {
                case .string(let name): partialKeywords.contains(name)
                case .global(module: PickleValue.aliasModule, name: _): true
                default: false
                }
            }
        default: return false
        }
    }

    /// Whether `value` is joblib's NumpyArrayWrapper class (however the import was split into module and name:
    /// `STACK_GLOBAL('joblib', 'numpy_pickle.NumpyArrayWrapper')` resolves to it too), or a tuple or dict holding it.
    private static func isJoblibWrapper(_ value: PickleValue) -> Bool {
        func isWrapper(_ value: PickleValue) -> Bool {
            // The suffix first: joining a 4 KiB module and name for every argument of every call cost 100 µs per
            // 6-byte REDUCE (scanner review 11, F3).
            if case .global(let module, let name) = value, name.hasSuffix("NumpyArrayWrapper") {
                return module + "." + name == "joblib.numpy_pickle.NumpyArrayWrapper"
            }
            return false
        }
        switch value {
        case .tuple(let items): return items.contains(where: isWrapper)
        case .dict(let pairs): return pairs.contains { isWrapper($0.0) || isWrapper($0.1) }
        default: return isWrapper(value)
        }
    }

    /// Whether a BUILD state sets one of `classChangingNames` (`__class__`, `__new__`, `__setstate__`, …): a dict
    /// state with that key (a `__setstate__` may `setattr` each), or a `(state, slotstate)` pair whose slot state,
    /// which `pickle` applies with `setattr`, has that key, a key the scanner could not read, or could not be read.
    /// `opaqueMappings`: a mapping built by a call or a list also counts, as a `BUILD` applies it (a call's argument
    /// list such as `set([1, 2])` is not a state).
    /// `everyKeyApplied`: every key of the state (or of both halves of a pair) is set with `setattr`, as torch's
    /// `_set_obj_state` does, so a key the scanner cannot read counts in the first half too (scanner review 27).
    private static func stateNamesClass(
        _ state: PickleValue, opaqueMappings: Bool = false, everyKeyApplied: Bool = false
    ) -> Bool {
        func names(_ value: PickleValue, unreadable: Bool) -> Bool {
            switch value {
            case .dict(let pairs):
                // A key made by a call counts in any state: a `__dict__.update` sets it as an attribute too (scanner
                // review 38 set `__array_interface__` on a StandardScaler that way).
                return pairs.contains { key, _ in Self.keyMayNameAttribute(key, unreadable: true) }
            case .unknown: return unreadable
            // A mapping built by a call or a list: its keys are not seen (scanner review 18: a slot state made by
            // `builtins.dict([['__class__', W]])` turned an object into a NumpyArrayWrapper).
            case .object(let callable?, let arguments) where Self.makesAMapping(callable, arguments):
                return opaqueMappings
            // A call that may return its argument (`numpy.object_(d)` is `d`) may hand back such a mapping (scanner
            // review 38).
            case .object(let callable?, _) where Self.passThroughCallables.contains(callable):
                return opaqueMappings
            case .object(nil, _), .list: return opaqueMappings
            default: return false
            }
        }
        if case .tuple(let halves) = state, halves.count == 2 {
            return names(halves[0], unreadable: everyKeyApplied) || names(halves[1], unreadable: true)
        }
        return names(state, unreadable: everyKeyApplied)
    }

    /// Whether a BUILD on `target` hands its state to a `__setstate__` its class defines or inherits: an instance
    /// of a class that has one, made by calling the class, a maker of instances of a class it is handed, or a maker of
    /// instances of a fixed class that has one. Anything else (a call that may return its argument, such as
    /// `numpy.object_(x)` or `numpy.mean`, a global, an unknown value) is taken to have none.
    static func hasSetstate(_ target: PickleValue) -> Bool {
        guard case .object(let callable?, let arguments) = target else { return false }
        // `__bit_generator_ctor(cls)` is `cls()`; given a name, one of numpy's bit generators (scanner review 26).
        if callable == "numpy.random._pickle.__bit_generator_ctor" {
            switch arguments.first {
            case nil: return true
            case .string(let name)?: return bitGeneratorNames.contains(name)
            case .global(let module, let name)?: return classHasSetstate(module + "." + name)
            default: return false
            }
        }
        if let position = instanceClassPositions[callable] {
            guard position < arguments.count, case .global(let module, let name) = arguments[position] else {
                return false
            }
            return classHasSetstate(module + "." + name)
        }
        return makersOfInstancesWithSetstate.contains(callable) || classHasSetstate(callable)
    }

    /// Whether a BUILD on `target` sets every key of its state with `setattr`: an instance of an allowed exception.
    static func setsEveryKey(_ target: PickleValue) -> Bool {
        guard case .object(let callable?, let arguments) = target else { return false }
        if let position = instanceClassPositions[callable] {
            guard position < arguments.count, case .global(let module, let name) = arguments[position] else {
                return false
            }
            return GlobalPolicy.sklearnExceptionClasses.contains(module + "." + name)
        }
        return GlobalPolicy.sklearnExceptionClasses.contains(callable)
    }

    /// Whether calling `name` makes an instance with a `__setstate__` (own or inherited).
    private static func classHasSetstate(_ name: String) -> Bool {
        GlobalPolicy.sklearnClassesWithSetstate.contains(name) || classesWithSetstate.contains(name)
    }

    /// Whether a state applied without `__setstate__` may set attributes the scanner cannot see: the state itself,
    /// or the slot half of a `(state, slotstate)` pair, is a call's result, a global or unknown. A literal dict's
    /// keys are checked by ``stateNamesClass(_:opaqueMappings:)``; a plain dict state only fills `__dict__`.
    static func slotStateIsOpaque(_ state: PickleValue) -> Bool {
        func opaque(_ value: PickleValue) -> Bool {
            switch value {
            case .object, .global, .unknown: true
            default: false
            }
        }
        if case .tuple(let halves) = state {
            return halves.count == 2 && opaque(halves[1])
        }
        return opaque(state)
    }

    /// Whether a state that torch's `_set_obj_state` applies (every key of the state, or of both halves of a pair,
    /// with `setattr`) holds a part the scanner cannot read.
    static func appliedStateIsOpaque(_ state: PickleValue) -> Bool {
        if case .tuple(let halves) = state, halves.count == 2 {
            return slotStateIsOpaque(.tuple(halves)) || slotStateIsOpaque(halves[0])
        }
        return slotStateIsOpaque(state)
    }

    /// Instance makers with the modules of the classes their libraries hand them.
    private static let instanceMakerClasses: [String: Set<String>] = [
        "numpy.random._pickle.__bit_generator_ctor": [
            "numpy.random._mt19937", "numpy.random._pcg64", "numpy.random._philox", "numpy.random._sfc64",
        ],
        "sklearn.neighbors._kd_tree.newObj": treeMakerModules, "sklearn.neighbors._ball_tree.newObj": treeMakerModules,
        "sklearn.metrics._dist_metrics.newObj": treeMakerModules,
    ]
    private static let treeMakerModules: Set<String> = [
        "sklearn.neighbors._kd_tree", "sklearn.neighbors._ball_tree", "sklearn.metrics._dist_metrics",
    ]

    /// The bit generators `__bit_generator_ctor` makes from a name.
    private static let bitGeneratorNames: Set<String> = ["MT19937", "PCG64", "PCG64DXSM", "Philox", "SFC64"]

    /// Allowed callables whose result may be an object made earlier: `numpy.object_(x)` is `x`, numpy's reductions call
    /// a method of their argument (`numpy.mean(obj)` is `obj.mean()`), `asarray` returns an array as is, and torch's
    /// `_rebuild_from_type` returns `func(*args)` as is when it already has the type asked for, `_get_layout`
    /// returns one of torch's layout objects, and `numpy.matrix(m)` is `m` when `m` is a matrix (scanner review 37).
    private static let passThroughCallables = Set<String>([
        "numpy.object_", "numpy.mean", "numpy.median", "numpy.average", "numpy.std", "numpy.var", "numpy.nanmean",
        "numpy.nanmedian", "scipy._lib.array_api_compat.numpy._aliases.asarray", "torch._tensor._rebuild_from_type",
        "torch._tensor._rebuild_from_type_v2", "torch.serialization._get_layout", "numpy.matrix",
        "numpy.matrixlib.defmatrix.matrix",
        // `check_array(a)` returns an array as is; a ufunc handed an `out` argument returns it.
        "sklearn.utils.validation.check_array",
    ]).union(GlobalPolicy.numpyUfuncs)

    /// Allowed values that coerce what they are called with to an array (see `call`).
    private static let arrayCoercingCallables = Set<String>([
        "numpy.mean", "numpy.median", "numpy.average", "numpy.std", "numpy.var", "numpy.nanmean", "numpy.nanmedian",
        "scipy._lib.array_api_compat.numpy._aliases.asarray",
        // `matrix(x)` coerces `x` with `numpy.array` (scanner review 40's lead); numpy pickles a matrix through
        // `_reconstruct(numpy.matrix, …)`, which hands the class over without calling it.
        "numpy.matrix", "numpy.matrixlib.defmatrix.matrix",
        // `recarray(shape, formats, buf=…)` makes an array over a buffer of the caller's (numpy.ndarray's call, review
        // 46), and `record(x)` a void scalar; numpy pickles record arrays through `_reconstruct` and names `record`
        // only as a dtype's type (scanner review 66).
        "numpy.rec.recarray", "numpy.recarray", "numpy.record",
        // Held as values by fitted models (`FunctionTransformer`, scorers), never called by the files they write.
        "sklearn.utils.validation.check_array",
    ]).union(GlobalPolicy.numpyUfuncs).union(GlobalPolicy.sklearnScoreFunctions)

    /// Classes whose instances `APPEND(S)` and `ADDITEMS` fill as the unpicklers expect: any other object's `append`,
    /// `extend` or `add` is looked up on it, and a dict subclass such as `Bunch` answers with a value the pickle set
    /// (scanner review 26).
    private static let appendTargets: Set<String> = [
        "builtins.list", "builtins.set", "collections.deque", "builtins.bytearray",
    ]

    /// A high finding when `APPEND(S)` or `ADDITEMS` fills something other than a list or set: a global, or an
    /// instance of another class, whose `append`/`extend`/`add` may be a callable the pickle put there.
    private func checkAppendTarget(_ target: PickleValue, at offset: UInt64, _ opcode: String) {
        switch target {
        case .list, .set, .unknown, .tuple, .dict, .none, .bool, .int, .bigInt, .float, .string, .opaqueText, .bytes:
            // Lists and sets fill as expected; an unknown value was already judged; on anything else Python fails.
            return
        case .object(let callable?, _) where Self.appendTargets.contains(callable):
            return
        case .object, .global:
            findings.add(
                "pickle.append-to-object", .high, at: offset, subject: opcode,
                "\(opcode) on an object that is not a list or set: its append, extend or add may be a value the "
                    + "pickle set")
        }
    }

    /// A high finding when `SETITEM(S)`, `APPEND(S)` or `ADDITEMS` fills a call's result that may be an object made
    /// earlier: a memoised dict read back through `numpy.object_(d)` and changed there changes what the scanner holds
    /// as `d`, unseen (scanner review 27).
    ///
    /// Past the memo's value bound (or the bound of memoised dicts), a memo read gives `.unknown` for a value the
    /// scanner may still hold under another key or on the stack: a dict memoised earlier and PUT again past the bound.
    /// Filling that `.unknown` changed the dict where the scanner held it unchanged (scanner review 32: a joblib
    /// wrapper state's `shape` went from 55 to 1, and joblib ran what the scanner skipped as array bytes). So a
    /// fill of an `.unknown` value past a bound is high. This is sound: a value the scanner holds can only be changed
    /// unseen by an opcode whose target is a copy it does not connect with it, and a memo read gives such a copy only
    /// as `.unknown` (copies it does connect, memoised dicts, are written through or marked stale; calls that may
    /// return an earlier object are high below; `BUILD` on `.unknown` past the bound is high where BUILD is read).
    /// Marking every tracked value stale instead would make ordinary large pickles high: picklers fill only the
    /// fresh container on the stack, never a memo read, so this rule costs them nothing (a list of a million
    /// memoised tuples passes).
    private func checkFillTarget(_ target: PickleValue, at offset: UInt64, _ opcode: String) {
        if case .unknown = target, memoReadsMayBeUntracked, !degraded {
            findings.add(
                "pickle.bound-exceeded", .high, at: offset, subject: opcode,
                "\(opcode) fills a value the scanner dropped past its memo bound (it may be a dict or object the "
                    + "scanner still holds as it was)")
            return
        }
        guard case .object = target, !degraded, Self.mayBeAnEarlierObject(target) else { return }
        findings.add(
            "pickle.fill-earlier-object", .high, at: offset, subject: opcode,
            "\(opcode) fills a value that may be an object made earlier (a memoised dict the scanner holds as it was)")
    }

    /// Whether a mapping key may set an attribute the unpickler or numpy looks up: a class-changing or dunder name,
    /// or (when `unreadable`) a key the scanner cannot read, since one made by a call (`builtins.str('__class__')`) or
    /// a global may be any name (review 27). The identity the scanner gives a memoised dict is no key of the Python
    /// dict (a stale copy reads back `.unknown` through ``resolvedAlias(_:)``).
    private static func keyMayNameAttribute(_ key: PickleValue, unreadable: Bool) -> Bool {
        switch key {
        case .string(let text): isClassChangingName(text)
        case .global(module: PickleValue.aliasModule, name: _): false
        case .unknown, .opaqueText, .object, .global: unreadable
        default: false
        }
    }

    /// A `SETITEM(S)` on anything but a literal dict: a dunder key is high, and on a mapping whose keys are its
    /// attributes (scikit-learn's `Bunch`) or an unknown value, so is a key the scanner cannot read. A `Bunch` answers
    /// attribute lookups from its keys, so `__array_interface__` set there gave numpy a raw pointer (scanner review
    /// 37); a literal dict's keys are never attributes.
    private func checkFilledKeys(_ keys: [PickleValue], of target: PickleValue, at offset: UInt64, _ opcode: String) {
        let attributeKeys: Bool
        switch target {
        case .dict: return
        case .object(let callable?, let arguments):
            attributeKeys = Self.makesAMapping(callable, arguments) && !Self.mappingMakers.contains(callable)
        default: attributeKeys = true
        }
        for key in keys where Self.keyMayNameAttribute(key, unreadable: attributeKeys) {
            findings.add(
                "pickle.fill-attribute-key", .high, at: offset, subject: opcode,
                "\(opcode) sets a key that names an attribute numpy or the unpickler looks up (a dunder name), or a "
                    + "key the scanner cannot read on a mapping whose keys are attributes")
            return
        }
    }

    /// Whether `value` may be an object the pickle made before, rather than a fresh instance the scanner models: an
    /// unknown value, a global, or a call that may return an earlier object (`numpy.object_(x)` is `x`,
    /// `copyreg._reconstructor(numpy.object_, numpy.object_, x)` is `x`, a reduction calls a method of its argument).
    /// Literal containers are fresh; a BUILD on one fails in Python.
    static func mayBeAnEarlierObject(_ value: PickleValue) -> Bool {
        switch value {
        case .object(let callable?, let arguments): return !isFreshInstance(callable, arguments)
        case .object(nil, _), .unknown, .global: return true
        default: return false
        }
    }

    /// Whether calling `callable` with `arguments` certainly makes a new object (or fails).
    private static func isFreshInstance(_ callable: String, _ arguments: [PickleValue]) -> Bool {
        if passThroughCallables.contains(callable) { return false }
        func freshClass(at position: Int) -> Bool {
            guard position < arguments.count, case .global(let module, let name) = arguments[position] else {
                return false
            }
            return module + "." + name != "numpy.object_"
        }
        if callable == "copyreg._reconstructor" {
            // `base.__new__(cls, state)`: fresh for Python's own types and `object`.
            guard freshClass(at: 0), arguments.count > 1, case .global(let module, let name) = arguments[1] else {
                return false
            }
            return module == "builtins"
        }
        if callable == "numpy.random._pickle.__bit_generator_ctor" {
            switch arguments.first {
            case nil, .string?: return true
            default: return freshClass(at: 0)
            }
        }
        if let position = instanceClassPositions[callable] { return freshClass(at: position) }
        return GlobalPolicy.allowed.contains(callable) || GlobalPolicy.sklearnDefinedClasses.contains(callable)
    }

    /// A short name for a value in a finding.
    private static func subject(of value: PickleValue) -> String {
        switch value {
        case .object(let callable?, _): callable
        case .global(let module, let name): module + "." + name
        default: "BUILD"
        }
    }

    /// Allowed callables that return an instance of a class they are handed, with its position among their arguments.
    private static let instanceClassPositions: [String: Int] = [
        "sklearn.neighbors._kd_tree.newObj": 0, "sklearn.neighbors._ball_tree.newObj": 0,
        "sklearn.metrics._dist_metrics.newObj": 0, "copyreg._reconstructor": 0,
        "numpy.core.multiarray._reconstruct": 0, "numpy._core.multiarray._reconstruct": 0,
        "numpy.ma.core._mareconstruct": 0, "torch._tensor._rebuild_from_type_v2": 1,
        "torch._tensor._rebuild_from_type": 1, "torch._utils._rebuild_wrapper_subclass": 0,
    ]

    /// Allowed callables that return an instance of a fixed class with a `__setstate__`: torch's tensor rebuilds (a
    /// `Tensor`), numpy's random-state, scalar and buffer makers.
    private static let makersOfInstancesWithSetstate: Set<String> = [
        "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
        "torch._utils._rebuild_qtensor", "torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_nested_tensor",
        "torch._utils._rebuild_meta_tensor_no_storage", "torch._utils._rebuild_device_tensor_from_numpy",
        "torch._utils._rebuild_device_tensor_from_cpu_tensor",
        "numpy.random._pickle.__randomstate_ctor", "numpy.random._pickle.__generator_ctor",
        "numpy.random.bit_generator.__pyx_unpickle_SeedSequence",
        "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar", "numpy.core.numeric._frombuffer",
        "numpy._core.numeric._frombuffer",
    ]

    /// Allowed classes besides scikit-learn's whose instances have a `__setstate__` (`numpy.object_(x)` returns `x`,
    /// so it is left out).
    private static let classesWithSetstate: Set<String> = {
        var names: Set<String> = [
            "torch.nn.parameter.Parameter", "torch.nn.parameter.Buffer", "torch.Tensor", "numpy.ndarray",
            "numpy.dtype", "numpy.random.mtrand.RandomState", "numpy.random._generator.Generator",
            "numpy.random._mt19937.MT19937", "numpy.random._pcg64.PCG64", "numpy.random._pcg64.PCG64DXSM",
            "numpy.random._philox.Philox", "numpy.random._sfc64.SFC64", "numpy.random.bit_generator.SeedSequence",
            "numpy.ma.core.MaskedArray", "numpy.ma.MaskedArray", "scipy.sparse._coo.coo_matrix", "numpy.matrix",
            "numpy.matrixlib.defmatrix.matrix", "functools.partial", "numpy.rec.recarray", "numpy.recarray",
        ]
        for scalar in [
            "float16", "float32", "float64", "longdouble", "int8", "int16", "int32", "int64", "uint8", "uint16",
            "uint32", "uint64", "bool_", "bool", "complex64", "complex128", "str_", "bytes_", "datetime64",
            "timedelta64",
        ] {
            names.insert("numpy.\(scalar)")
        }
        return names
    }()

    /// Attribute names a state must not set: `__class__` changes the class, `newObj` calls `__new__`, and the
    /// unpicklers look `__setstate__` (every later `BUILD`), `append`/`extend` (`APPEND(S)`) and `add` (`ADDITEMS`) up
    /// on the instance, so a value set there is called unseen (scanner review 19: a `__setstate__` set by one
    /// `BUILD` on a NumpyArrayWrapper made joblib ignore the next state the scanner sized the array from).
    private static let classChangingNames: Set<String> = [
        "__class__", "__new__", "__setstate__", "append", "extend", "add",
        // `dict(x)`, `OrderedDict(x)` and `dict.__init__(obj, x)` call `x.keys()` (scanner review 41).
        "keys",
    ]

    /// One of ``classChangingNames``, or any other dunder name: numpy looks `__array_interface__`,
    /// `__array_struct__` and their kin up on the instance, so a state or a `Bunch` (whose keys are its attributes)
    /// that sets one hands numpy a pointer of the pickle's choosing, a read and write of any memory (scanner review
    /// 37 forged objects that way and reached `eval` with allowed globals only).
    static func isClassChangingName(_ name: String) -> Bool {
        classChangingNames.contains(name) || (name.count > 4 && name.hasPrefix("__") && name.hasSuffix("__"))
    }

    /// Allowed callables that apply a state argument with `setattr` (`torch._utils._set_obj_state`).
    private static let stateAppliers: Set<String> = [
        "torch._tensor._rebuild_from_type_v2", "torch._utils._rebuild_parameter_with_state",
    ]

    /// Allowed callables that build a mapping from their arguments, whose keys the scanner does not read.
    private static let mappingMakers: Set<String> = [
        "builtins.dict", "collections.OrderedDict", "collections.defaultdict", "collections.Counter",
        "collections.UserDict",
    ]

    /// Whether a call makes a mapping whose keys the scanner does not keep: one of ``mappingMakers``, scikit-learn's
    /// `Bunch` (a dict subclass, re-exported under many modules; filled by SETITEMS, it set `__class__` when applied
    /// as a state: scanner review 24), or `copyreg._reconstructor` of one of them.
    private static func makesAMapping(_ callable: String, _ arguments: [PickleValue]) -> Bool {
        if mappingMakers.contains(callable) || (callable.hasPrefix("sklearn.") && callable.hasSuffix(".Bunch")) {
            return true
        }
        // Any maker of an instance of a class it is handed (`copyreg._reconstructor`, `newObj`, …) makes a mapping
        // when that class is one.
        guard let name = handedClassName(callable, arguments) else { return false }
        return makesAMapping(name, [])
    }

    private func pairs(_ items: [PickleValue]) -> [(PickleValue, PickleValue)] {
        stride(from: 0, to: items.count - 1, by: 2).map { (items[$0], items[$0 + 1]) }
    }

    private func dict(from items: [PickleValue]) -> PickleValue {
        var kept: [(PickleValue, PickleValue)] = []
        Self.append(pairs(items), to: &kept)
        return .dict(kept)
    }

    /// Appends `newPairs` to a dict's kept pairs up to `maxElements`; past it, one `(.unknown, .unknown)` pair
    /// marks the dict as cut, so every later lookup reads `.unknown` (a dropped pair may repeat any key: Python
    /// keeps the last; review 6, finding 3).
    private static func append(_ newPairs: [(PickleValue, PickleValue)], to kept: inout [(PickleValue, PickleValue)]) {
        guard kept.count < PickleValue.maxElements else {
            if kept.count == PickleValue.maxElements, !newPairs.isEmpty { kept.append((.unknown, .unknown)) }
            return
        }
        let room = PickleValue.maxElements - kept.count
        kept.append(contentsOf: newPairs.prefix(room))
        if newPairs.count > room { kept.append((.unknown, .unknown)) }
    }

    private func addToTopDict(_ newPairs: [(PickleValue, PickleValue)], _ offset: UInt64) {
        let floor = marks.last ?? 0
        guard stack.count > floor else {
            underflow(offset)
            return
        }
        if case .dict(var existing) = stack[stack.count - 1] {
            Self.append(newPairs, to: &existing)
            let id = PickleValue.dict(existing).aliasID
            let changed = bounded(PickleValue.dict(existing))
            stack[stack.count - 1] = changed
            if let id, dtypeFieldDicts.contains(id) {
                findings.add(
                    "numpy.dtype-state", .high, at: offset, subject: "numpy.dtype",
                    "SETITEM(S) changes a dict a numpy dtype was given as its fields: numpy keeps that dict, so a "
                        + "field may move outside the item after the dtype was checked")
            }
            if let id {
                // Another copy (read back by GET, or too deep to keep) keeps the old pairs: no longer known.
                if aliasRead.contains(id) || changed.aliasID != id { aliasStale.insert(id) }
                for key in aliasKeys[id] ?? [] where memo.get(key)?.aliasID == id {
                    memo.put(key, changed)
                }
            }
        }
    }

    /// `OrderedDict()` filled by `SETITEM(S)`: a memoised one's identity is recorded as filled (high if torch was
    /// already handed it as backward hooks, which it calls on backward), an unmemoised one gets an unknown argument.
    /// Either way it is no longer the empty `OrderedDict()` that ``isParameterHooks(_:_:at:)`` passes over (scanner
    /// review 32: hooks filled with an allowed callable).
    private func noteOrderedDictFill(at offset: UInt64, _ opcode: String) {
        guard stack.count > (marks.last ?? 0), case .object("collections.OrderedDict", let arguments) = stack.last!
        else { return }
        if let id = Self.orderedDictID(arguments) {
            filledOrderedDicts.insert(id)
            if hooksOrderedDicts.contains(id) {
                findings.add(
                    "pickle.build-class", .high, at: offset, subject: "collections.OrderedDict",
                    "\(opcode) fills an OrderedDict torch was handed as a parameter's backward hooks")
            }
        } else if arguments.isEmpty {
            replaceTop(.object(callable: "collections.OrderedDict", args: [.unknown]))
        }
    }

    /// The identity of a memoised `OrderedDict()` from its arguments.
    private static func orderedDictID(_ arguments: [PickleValue]) -> Int? {
        guard arguments.count == 1, case .global(module: PickleValue.aliasModule, let name) = arguments[0],
            name.hasPrefix("OrderedDict")
        else { return nil }
        return Int(name.dropFirst("OrderedDict".count))
    }

    private func replaceTop(_ value: PickleValue) {
        if stack.count > (marks.last ?? 0) { stack[stack.count - 1] = value }
    }

    /// The value PUT stores for `key`: a dict gets (or keeps) an identity, also on the stack; past the bound of
    /// identities a dict is stored as `.unknown`.
    private func memoised(_ value: PickleValue, key: Int64) -> PickleValue {
        if case .object("collections.OrderedDict", let arguments) = value, arguments.isEmpty {
            // Past the bound an `OrderedDict()` is memoised as one that may have been filled.
            guard nextOrderedDictID < Self.maxAliases else {
                let filled = PickleValue.object(callable: "collections.OrderedDict", args: [.unknown])
                replaceTop(filled)
                return filled
            }
            let tagged = PickleValue.object(
                callable: "collections.OrderedDict",
                args: [.global(module: PickleValue.aliasModule, name: "OrderedDict\(nextOrderedDictID)")])
            nextOrderedDictID += 1
            replaceTop(tagged)
            return tagged
        }
        guard case .dict(var pairs) = value else { return value }
        if let id = value.aliasID {
            if aliasKeys[id, default: []].count < 16 {
                aliasKeys[id, default: []].append(key)
            } else {
                aliasStale.insert(id)
            }
            return value
        }
        guard aliasKeys.count < Self.maxAliases else {
            aliasesOverflowed = true
            return .unknown
        }
        let id = nextAliasID
        nextAliasID += 1
        pairs.insert((.global(module: PickleValue.aliasModule, name: String(id)), .none), at: 0)
        let marked = bounded(PickleValue.dict(pairs))
        aliasKeys[id] = [key]
        replaceTop(marked)
        return marked
    }

    /// Whether `value` is certainly not a `str`: a literal, or (while no `BUILD` may have changed a class) what
    /// calling a class scikit-learn defines returns, an instance of it, or joblib's NumpyArrayWrapper class or an
    /// instance of it. `pickle.load` of a default `joblib.dump` of an object array, alone or in a list, meets the
    /// wrapper there: the nested pickle's `BINGET 3` reads the outer memo, where the wrapper instance or its class
    /// sits, and CPython raises "STACK_GLOBAL requires str" (the check is `PyUnicode_CheckExact`).
    private func isNeverText(_ value: PickleValue) -> Bool {
        if value.isLiteralNonText { return true }
        // A class scikit-learn defines, imported from where it is defined, is a class object, and a `BUILD` on
        // anything changes attributes, never what an object already imported is: `pickle.load` of a protocol 2
        // joblib dump of MultiLabelBinarizer reaches `STACK_GLOBAL` with the memoised class as the module (after
        // the nested array pickle's BUILDs), where CPython raises. (A module attribute changed to text would need a
        // module object on the stack, which only an import or call the scanner refuses gives.)
        if case .global(let module, let name) = value, GlobalPolicy.sklearnDefinedClasses.contains(module + "." + name)
        {
            return true
        }
        guard !classStateMayHaveChanged else { return false }
        switch value {
        case .object(let callable?, _):
            // scipy's sparse classes too: made by `cls.__new__(cls)`, an instance (a bare `lil_matrix` dump's object
            // arrays read it back there).
            return GlobalPolicy.sklearnDefinedClasses.contains(callable) || callable == Self.joblibWrapperName
                || GlobalPolicy.scipySparseClasses.contains(callable)
        case .global(let module, let name):
            return module + "." + name == Self.joblibWrapperName
        default:
            return false
        }
    }

    /// joblib's array wrapper class, as the scanner names it.
    private static let joblibWrapperName = "joblib.numpy_pickle.NumpyArrayWrapper"

    /// Whether `value` is the result of calling a scikit-learn class or another maker of fresh instances.
    private static func makesFreshInstance(_ value: PickleValue) -> Bool {
        guard case .object(let callable?, _) = value else { return false }
        return instanceMakers.contains(callable) || GlobalPolicy.sklearnDefinedClasses.contains(callable)
            || GlobalPolicy.scipySparseClasses.contains(callable)
    }

    /// `value` with every memoised dict whose copies may differ replaced by `.unknown`, at any depth: in tuples, dict
    /// keys and values, and a call's arguments. A copy nested deeper kept its old pairs while Python saw the change
    /// (scanner review 48: a bit generator's inner state dict given `pos` 2^30 through a memo read after it was placed
    /// in the outer state, and a `Bunch` given `__array_interface__` after it was placed in a call's arguments). A
    /// value too large to walk is `.unknown` whole.
    private func resolvedAlias(_ value: PickleValue) -> PickleValue {
        guard !aliasStale.isEmpty else { return value }
        var budget = 4096
        func resolve(_ value: PickleValue) -> PickleValue? {
            budget -= 1
            guard budget >= 0 else { return nil }
            if let id = value.aliasID, aliasStale.contains(id) { return .unknown }
            switch value {
            case .tuple(let items):
                var kept: [PickleValue] = []
                kept.reserveCapacity(items.count)
                for item in items {
                    guard let resolved = resolve(item) else { return nil }
                    kept.append(resolved)
                }
                return .tuple(kept)
            case .object(let callable, let items):
                var kept: [PickleValue] = []
                kept.reserveCapacity(items.count)
                for item in items {
                    guard let resolved = resolve(item) else { return nil }
                    kept.append(resolved)
                }
                return .object(callable: callable, args: kept)
            case .dict(let pairs):
                var kept: [(PickleValue, PickleValue)] = []
                kept.reserveCapacity(pairs.count)
                for (key, item) in pairs {
                    guard let k = resolve(key), let v = resolve(item) else { return nil }
                    kept.append((k, v))
                }
                return .dict(kept)
            default:
                return value
            }
        }
        return resolve(value) ?? .unknown
    }

    /// joblib writes each array's bytes right after its wrapper's BUILD: skip them, after the alignment padding that
    /// joblib reads whenever `numpy_array_alignment_bytes` is not None (numpy_pickle.py `read_array`), and go on.
    /// The state must spell out every field joblib reads (a wrapper built by calling its class, or built twice, has
    /// values the scanner cannot see): otherwise the reading is unknown, which is high.
    private func skipJoblibArray(state: PickleValue, at offset: UInt64) throws -> Bool {
        // joblib calls `read`, `read_array` and `read_mmap` on the wrapper, found on the instance first: a state
        // that sets any other attribute than those joblib writes may replace them (scanner review 19).
        guard case .dict(let pairs) = state,
            pairs.allSatisfy({ key, _ in
                if case .global(module: PickleValue.aliasModule, name: _) = key { return true }
                if case .string(let name) = key { return Self.joblibWrapperFields.contains(name) }
                return false
            })
        else {
            findings.add(
                "joblib.array-unknown", .high, at: offset, subject: "NumpyArrayWrapper",
                "a joblib array whose state sets attributes joblib does not write; the rest of the pickle cannot be "
                    + "analysed")
            return false
        }
        if Self.isObjectArrayState(state) { return try readJoblibObjectArray(at: offset) }
        var padded = false
        if case .int? = state["numpy_array_alignment_bytes"] { padded = true }
        guard let size = Self.joblibArrayBytes(state: state), padded || state.hasNone("numpy_array_alignment_bytes")
        else {
            findings.add(
                "joblib.array-unknown", .high, at: offset, subject: "NumpyArrayWrapper",
                "a joblib array whose size or padding cannot be determined; the rest of the pickle cannot be analysed")
            return false
        }
        guard leaveFrameForJoblibArray(at: offset) else { return false }
        skippedJoblibArrays = true
        if padded {
            guard let padding = try stream.readByte(), try stream.skip(UInt64(padding)) else {
                _ = truncated(offset)
                return false
            }
        }
        // Where the bytes lie is kept: a sparse matrix's index arrays are read from there when checked.
        let start = stream.sourceOffset
        guard try stream.skip(size) else {
            _ = truncated(offset)
            return false
        }
        joblibArrayFacts = ByteFacts(length: size, source: stream.source, offset: start)
        return true
    }

    /// Whether a wrapper state describes an array of Python objects (dtype `O`), which joblib reads as a nested pickle.
    private static func isObjectArrayState(_ state: PickleValue) -> Bool {
        guard case .object("numpy.dtype", let dtypeArgs) = state["dtype"] ?? .none,
            case .string(let code) = dtypeArgs.first ?? .none
        else { return false }
        return dtypeKind(code) == "O"
    }

    /// joblib closes the frame before an array's bytes (protocol 4+): they belong to no frame. joblib's unpickler
    /// reads a frame whole, so bytes left in the frame after the BUILD are read as opcodes before the array, which
    /// comes after the frame: an array inside a frame that goes on is not modelled (review 6, finding 4).
    private func leaveFrameForJoblibArray(at offset: UInt64) -> Bool {
        guard let end = frameEnd else { return true }
        guard stream.position == end else {
            findings.add(
                "joblib.array-in-frame", .high, at: offset, subject: "NumpyArrayWrapper",
                "a joblib array whose BUILD does not end its FRAME: joblib reads the array after the frame, "
                    + "not after the BUILD; the rest of the pickle cannot be analysed")
            return false
        }
        frameEnd = nil
        return true
    }

    /// joblib writes an array of Python objects (gradient boosting's `estimators_`) as a whole pickle of its own
    /// right after the wrapper's BUILD and reads it with a fresh plain unpickler (`read_array`): interpreted so here,
    /// with its own stack and memo and without joblib's array reading, then the outer pickle goes on after its STOP
    /// (scanner review 12: every such dump was refused as an unknown array).
    private func readJoblibObjectArray(at offset: UInt64) throws -> Bool {
        guard leaveFrameForJoblibArray(at: offset) else { return false }
        skippedJoblibArrays = true
        let nested = PickleInterpreter(stream: stream, findings: findings, deadline: deadline)
        nested.alsoJudgedUnderProtocol = protocolInEffect
        guard case .stopped = try nested.interpretOne() else {
            findings.add(
                "joblib.array-unknown", .high, at: offset, subject: "NumpyArrayWrapper",
                "a joblib object array whose nested pickle does not end; the rest of the pickle cannot be analysed")
            return false
        }
        return true
    }

    /// The attributes `joblib.dump` gives a NumpyArrayWrapper.
    private static let joblibWrapperFields: Set<String> = [
        "subclass", "shape", "order", "dtype", "allow_mmap", "numpy_array_alignment_bytes",
    ]

    /// Bytes of a joblib array from its wrapper state (shape and dtype), with checked arithmetic.
    static func joblibArrayBytes(state: PickleValue) -> UInt64? {
        guard case .tuple(let shape) = state["shape"] ?? .none, shape.count < PickleValue.maxElements,
            case .object("numpy.dtype", let dtypeArgs) = state["dtype"] ?? .none,
            case .string(let code) = dtypeArgs.first ?? .none,
            var total = itemSize(code)
        else { return nil }
        for dimension in shape {
            guard case .int(let n) = dimension, n >= 0 else { return nil }
            let (product, overflow) = total.multipliedReportingOverflow(by: UInt64(n))
            if overflow { return nil }
            total = product
        }
        return total
    }

    /// The class names of scikit-learn's tree-building machinery, under any `sklearn.tree` module that exports them.
    static let treeBuildingClassNames: Set<String> = [
        "Criterion", "ClassificationCriterion", "RegressionCriterion", "Gini", "Entropy", "MAE", "MSE", "FriedmanMSE",
        "Poisson", "HalfPoisson", "Splitter", "BestSplitter", "RandomSplitter", "BestSparseSplitter",
        "RandomSparseSplitter", "DensePartitioner", "SparsePartitioner", "TreeBuilder", "DepthFirstTreeBuilder",
        "BestFirstTreeBuilder",
    ]

    /// Whether `qualified` names one of scikit-learn's criterion, splitter, partitioner or tree-builder classes.
    static func isTreeBuildingClass(_ qualified: String) -> Bool {
        guard qualified.hasPrefix("sklearn.tree."), let dot = qualified.lastIndex(of: ".") else { return false }
        return treeBuildingClassNames.contains(String(qualified[qualified.index(after: dot)...]))
    }

    /// numpy's masked array class under the names a pickle can import it by.
    static let maskedArrayClasses: Set<String> = ["numpy.ma.core.MaskedArray", "numpy.ma.MaskedArray"]

    /// The datetime units numpy writes, in a bracket (`M8[5s]`) or alone (`datetime64(5, 's')`).
    static let datetimeUnits: Set<String> = [
        "Y", "M", "W", "D", "h", "m", "s", "ms", "us", "\u{3BC}s", "ns", "ps", "fs", "as", "generic",
    ]

    /// Whether `unit` is a datetime unit as numpy writes it: an optional multiplier from 1 without sign, space or
    /// leading zero, then a unit name. numpy's own parser also takes a sign, spaces and a divisor (`ns/ 0`), and a
    /// multiplier or divisor of 0 kills the process when numpy divides by it (scanner reviews 56 and 57).
    static func isCanonicalDatetimeUnit(_ unit: Substring) -> Bool {
        let digits = unit.prefix { $0.isASCII && $0.isNumber }
        guard digits.first != "0", digits.count <= 9 else { return false }
        return datetimeUnits.contains(String(unit.dropFirst(digits.count)))
    }

    /// Whether a dtype code's bracket, if it has one (`M8[5s]`), holds a datetime unit as numpy writes it; shared by
    /// call arguments and `.npy` descrs.
    static func hasCanonicalDatetimeBracket(_ code: String) -> Bool {
        guard let open = code.firstIndex(of: "[") else { return true }
        let bracket = code[code.index(after: open)...]
        return bracket.last == "]" && isCanonicalDatetimeUnit(bracket.dropLast())
    }

    /// Why a call of a numpy callable could give numpy a datetime unit with a multiplier or divisor of 0, or nil.
    /// numpy accepts `M8[0ns]` from text (not from a pickled state) and divides by it when it casts:
    /// `MaskedArray.__setstate__` casting its fill value killed all four loaders with SIGFPE (scanner review 56), and
    /// the text may be any argument that numpy parses as a dtype (`_reconstruct(ndarray, shape, 'M8[ns/0]')`, bytes
    /// too; review 57). So every text argument with a bracket must hold a unit as numpy writes it; a
    /// `datetime64`/`timedelta64` unit argument must be one; `dtype` takes only readable arguments.
    static func datetimeUnitProblem(_ qualified: String, _ items: [PickleValue]) -> String? {
        let takesUnit = qualified == "numpy.datetime64" || qualified == "numpy.timedelta64"
        let everyArgumentIsADtype = qualified == "numpy.dtype" || takesUnit
        let unusual = "a datetime unit numpy does not write (its multiplier may be 0)"
        let unreadable = "an argument the scanner cannot read"
        func problem(_ item: PickleValue, strict: Bool, unitAlone: Bool, depth: Int) -> String? {
            let text: String
            switch item {
            case .string(let value):
                text = value
            case .object("_codecs.encode", let arguments):
                // Bytes in a protocol 0-2 pickle: read where a dtype goes; elsewhere they are data.
                guard strict else { return nil }
                guard case .string(let value) = arguments.first ?? .none else { return unreadable }
                text = value
            case .bytes(let facts):
                // A dtype given as bytes (`_reconstruct`'s `b'b'`); elsewhere (a scalar's data) bytes are data.
                guard strict else { return nil }
                guard let contents = facts?.contents(upTo: 64) else { return unreadable }
                text = String(decoding: contents, as: UTF8.self)
            case .tuple(let elements):
                // numpy parses a unit tuple `(unit, num, den, event)` as it parses a state's metadata, divisor and
                // all (scanner review 58); it never writes one as an argument.
                if unitAlone { return unusual }
                // `dtype(('M8[ns]', (2,)))` and other tuple forms.
                guard depth < 4 else { return strict ? unreadable : nil }
                for element in elements {
                    if let found = problem(element, strict: strict, unitAlone: false, depth: depth + 1) {
                        return found
                    }
                }
                return nil
            case .int, .bigInt, .bool, .none, .float, .global:
                return nil
            case .object("numpy.dtype", _):
                return nil  // a dtype made by a call, whose own arguments were checked there
            default:
                return strict ? unreadable : nil
            }
            if text.contains("[") {
                guard hasCanonicalDatetimeBracket(text) else { return unusual }
            } else if unitAlone, !isCanonicalDatetimeUnit(Substring(text)) {
                return unusual
            }
            return nil
        }
        let dtypePosition = Self.dtypeArgumentPositions[qualified]
        for (position, item) in items.enumerated() {
            let strict = everyArgumentIsADtype || position == dtypePosition
            if let found = problem(item, strict: strict, unitAlone: takesUnit && position == 1, depth: 0) {
                return found
            }
        }
        return nil
    }

    /// Why a dtype state's metadata item (the ninth) is not one numpy writes, or nil. For a datetime kind numpy writes
    /// `(None or a dict, (unit, num, 1, 1))`; it checks only that `num` and `den` are positive and then folds the
    /// divisor into the multiplier in 32-bit arithmetic, so `(b's', 2**29, 125, 1)` became `datetime64[0ms]` and a
    /// masked array's fill value cast killed all four loaders with SIGFPE (scanner review 58). Other kinds carry a
    /// metadata dict, or nothing.
    static func datetimeMetadataProblem(kind: Character, _ metadata: PickleValue?) -> String? {
        guard kind == "M" || kind == "m" else {
            switch metadata {
            case nil, .none?, .dict?: return nil
            default: return "dtype metadata numpy does not write"
            }
        }
        guard let metadata else { return nil }
        guard case .tuple(let outer) = metadata, outer.count == 2 else { return "datetime metadata not modelled" }
        switch outer[0] {
        case .none, .dict: break
        default: return "datetime metadata not modelled"
        }
        guard case .tuple(let unit) = outer[1], unit.count == 4, case .int(let multiplier) = unit[1],
            (1...Int64(Int32.max)).contains(multiplier), case .int(1) = unit[2], case .int(1) = unit[3]
        else { return "a datetime multiplier or divisor numpy does not write" }
        let name: String
        switch unit[0] {
        case .bytes(let facts):
            guard let contents = facts?.contents(upTo: 16) else { return "a datetime unit the scanner cannot read" }
            name = String(decoding: contents, as: UTF8.self)
        case .object("_codecs.encode", let arguments):
            guard case .string(let text) = arguments.first ?? .none else {
                return "a datetime unit the scanner cannot read"
            }
            name = text
        case .string(let text):
            name = text
        default:
            return "a datetime unit the scanner cannot read"
        }
        guard datetimeUnits.contains(name) else { return "a datetime unit numpy does not write" }
        return nil
    }

    /// Where numpy's array rebuilders take the dtype (numpy writes `b'b'` there, and parses any text as a dtype).
    static let dtypeArgumentPositions: [String: Int] = [
        "numpy.core.multiarray._reconstruct": 2, "numpy._core.multiarray._reconstruct": 2,
        "numpy.ma.core._mareconstruct": 3, "numpy.core.numeric._frombuffer": 1, "numpy._core.numeric._frombuffer": 1,
        "numpy.core.multiarray.scalar": 0, "numpy._core.multiarray.scalar": 0,
    ]

    /// Why a `datetime.date`, `datetime.datetime` or `datetime.time` made from `items` could hold a field out of
    /// range, or nil. Made from integers, the constructor checks every field; made from its pickled state (4, 10 or
    /// 6 bytes), CPython checks only the month, and `ctime()` of year 0 read `DayNames[-1]` (scanner review 55,
    /// SIGSEGV under all four loaders). So a state is read and checked as the constructor would check the fields.
    static func datetimeStateProblem(_ qualified: String, _ items: [PickleValue]) -> String? {
        let size: Int
        switch qualified {
        case "datetime.date": size = 4
        case "datetime.datetime": size = 10
        case "datetime.time": size = 6
        default: return nil
        }
        let state: [UInt8]
        switch items.first ?? .none {
        case .int, .bigInt, .bool, .float, .none:
            return nil  // the field-wise form, range-checked (or refused) by the constructor
        case .bytes(let facts):
            guard let facts else { return "the scanner cannot read" }
            guard facts.length == UInt64(size) else { return nil }  // not a state: taken as the year, refused
            guard let bytes = facts.contents(upTo: size) else { return "the scanner cannot read" }
            state = bytes
        case .string(let text):
            // A Python 2 state, decoded one way by pickle.load and another by torch.load unless it is ASCII.
            guard text.unicodeScalars.allSatisfy(\.isASCII) else { return "in text the loaders decode differently" }
            guard text.unicodeScalars.count == size else { return nil }
            state = text.unicodeScalars.map { UInt8($0.value) }
        case .object("_codecs.encode", let arguments):
            // Bytes in a protocol 0-2 pickle: `_codecs.encode(text, 'latin1')`.
            guard arguments.count == 2, case .string(let text) = arguments[0], case .string(let codec) = arguments[1],
                ["latin1", "latin-1", "iso-8859-1", "iso8859-1"].contains(codec.lowercased()),
                text.unicodeScalars.allSatisfy({ $0.value <= 0xFF })
            else { return "the scanner cannot read" }
            guard text.unicodeScalars.count == size else { return nil }
            state = text.unicodeScalars.map { UInt8($0.value) }
        default:
            return "the scanner cannot read"
        }
        func inRange(_ value: Int, _ range: ClosedRange<Int>) -> Bool { range.contains(value) }
        func microseconds(_ at: Int) -> Int { Int(state[at]) << 16 | Int(state[at + 1]) << 8 | Int(state[at + 2]) }
        if size == 6 {
            // time: hour (its top bit is `fold`), minute, second, microsecond.
            guard Int(state[0] & 0x7F) < 24, state[1] < 60, state[2] < 60, microseconds(3) < 1_000_000 else {
                return "with a field out of range"
            }
            return nil
        }
        let year = Int(state[0]) << 8 | Int(state[1])
        // A datetime's month carries `fold` in its top bit.
        let month = Int(size == 10 ? state[2] & 0x7F : state[2])
        guard inRange(year, 1...9999), inRange(month, 1...12) else { return "with a field out of range" }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard inRange(Int(state[3]), 1...days) else { return "with a field out of range" }
        if size == 10 {
            guard state[4] < 24, state[5] < 60, state[6] < 60, microseconds(7) < 1_000_000 else {
                return "with a field out of range"
            }
        }
        return nil
    }

    /// Why numpy's `dtype.__setstate__` would leave the dtype built from `args` unlike its code says, or nil when
    /// the state is one numpy writes for that code: then `itemSize(code)` is the item size numpy uses.
    /// The state is `(version, endian, subarray, names, fields, elsize, alignment, flags[, metadata])`; numpy
    /// takes `elsize` as the item size of flexible dtypes (`S`, `U`, `V`), so a state may shrink or grow the
    /// array bytes joblib reads. Structured dtypes are modelled when every field is a fixed scalar inside the
    /// item; subarrays, nested or object fields and any other version fail closed.
    static func dtypeStateProblem(_ args: [PickleValue], _ state: PickleValue) -> String? {
        // A record array's dtype is `dtype(numpy.record, False, True)` with a structured state: sized by its state's
        // item size, modelled as the structured void dtype it is (scanner review 66).
        if case .global(module: "numpy", name: "record") = args.first ?? .none {
            guard case .tuple(let items) = state, items.count == 8, case .int(let elsize) = items[5], elsize >= 0,
                elsize < Int64(Int32.max), case .tuple = items[3]
            else { return "a record dtype without a structured state numpy writes" }
            return dtypeStateProblem([.string("V\(elsize)")] + args.dropFirst(), state)
        }
        guard case .string(let code) = args.first ?? .none, let kind = dtypeKind(code) else {
            return "a dtype built from arguments the scanner cannot read"
        }
        // numpy pickles a dtype by its kind letter and size (`O8`, `f8`, `U3`, `M8`); it also takes names (`object`,
        // `bytes`, `str`), whose first letter is no kind: `object` read as kind `o` let flags 0 through, and numpy
        // took raw bytes as object pointers (scanner review 51). Only the codes numpy writes are modelled.
        guard isCanonicalDtypeCode(code) else { return "a dtype code numpy does not write" }
        guard case .tuple(let items) = state, items.count == 8 || items.count == 9,
            case .int(let version) = items[0], version == Int64(items.count) - 5
        else { return "a state version or shape numpy does not write" }
        guard case .string = items[1], case .none = items[2] else { return "a byte order or subarray not modelled" }
        if let problem = datetimeMetadataProblem(kind: kind, items.count == 9 ? items[8] : nil) { return problem }
        guard case .int(let elsize) = items[5], case .int(let alignment) = items[6], case .int(let flags) = items[7]
        else {
            return "an item size, alignment or flags that are not integers"
        }
        // numpy keeps the alignment of a flexible dtype's state, and its copy loops divide by it: 0 was SIGFPE under
        // all four loaders (scanner review 68). Only what numpy writes passes: 1 for bytes, 4 for text, a power of two
        // up to 16 for void and structured dtypes (an aligned struct's largest field), -1 (unchanged) for the rest.
        let alignments: Set<Int64> =
            switch kind {
            case "S": [1]
            case "U": [4]
            case "V": [1, 2, 4, 8, 16]
            default: [-1]
            }
        guard alignments.contains(alignment) else { return "an alignment numpy does not write for this kind" }
        // numpy keeps the state's flags byte: an object dtype without `NPY_LIST_PICKLE` (0x02) takes raw bytes as
        // object pointers in `ndarray.__setstate__` and `scalar` (scanner review 50: flags 1 dereferenced
        // 0x4141414141414140 under all four loaders), and `NPY_ITEM_IS_POINTER` (0x04) or `NPY_USE_GETITEM` (0x20)
        // on another kind change how its items are read. Only the flags numpy writes pass: 63 for objects; for
        // others at most `NPY_NEEDS_INIT` (0x08), and for structured dtypes `NPY_NEEDS_PYAPI` (0x10) and
        // `NPY_ALIGNED_STRUCT` (0x80) too.
        let allowedFlags: Int64 = kind == "V" ? 0x98 : 0x08
        if kind == "O" ? flags != 63 : (flags & ~allowedFlags) != 0 {
            return "flags numpy does not write for this kind"
        }
        let size = itemSize(code)
        if "SUVa".contains(kind) || elsize != -1 {
            guard let size, elsize >= 0, UInt64(elsize) == size else { return "an item size unlike the dtype's" }
        }
        switch (items[3], items[4]) {
        case (.none, .none):
            return nil
        case (.tuple(let names), .dict(let allFields)):
            // numpy sets `NPY_NEEDS_PYAPI` (0x10) on every structured dtype and trusts it: without it, sorting releases
            // the GIL and then compares the items through the Python API (scanner review 69: SIGSEGV in `np.sort`,
            // reached by `SelectFdr.transform`, under all four loaders).
            guard flags & 0x10 != 0 else { return "a structured dtype without the flag numpy always sets on one" }
            let fields = allFields.filter {
                if case .global(module: PickleValue.aliasModule, name: _) = $0.0 { return false }
                return true
            }
            guard kind == "V", let size, names.count <= fields.count, fields.count < PickleValue.maxElements,
                names.allSatisfy({ if case .string = $0 { return true } else { return false } })
            else { return "a structured dtype the scanner cannot model" }
            // numpy looks every name up in `fields` and dereferences what it finds: a name that is no key was a
            // NULL pointer under all four loaders (scanner review 52).
            // Compared code point by code point, as Python compares them: Swift's `String` equality is canonical
            // equivalence (`é` equals `e` + U+0301), and text that is not UTF-8 (a lone surrogate) reads as U+FFFD,
            // so two names Python tells apart looked alike (scanner review 53).
            // Only plain ASCII without a backslash: every way a pickle spells text (UTF-8, Latin-1 `BINSTRING`, which
            // torch.load reads as UTF-8, `raw-unicode-escape`) gives those the same characters, and numpy writes
            // nothing else there in practice (scanner review 54 reached the NULL read through each decoding).
            func codePoints(_ value: PickleValue) -> [UInt32]? {
                guard case .string(let text) = value,
                    text.unicodeScalars.allSatisfy({ $0.isASCII && $0 != "\\" })
                else { return nil }
                return text.unicodeScalars.map(\.value)
            }
            let nameList = names.map(codePoints)
            let keyList = fields.map { codePoints($0.0) }
            guard !nameList.contains(nil), !keyList.contains(nil) else {
                return "structured dtype names or fields that are not plain ASCII"
            }
            let nameSet = Set(nameList.compactMap { $0 })
            guard nameSet.count == names.count else { return "structured dtype names that are not exactly its fields" }
            // numpy also lists each field's title as a key of its own, whose entry repeats the field's dtype, offset
            // and title (scanner review 66: `np.dtype([(("Temperature in C", "temp"), "<f8")])`, dumped by joblib,
            // was refused). Every key but the names must be such a title, once, naming no field.
            var titles: [[UInt32]: (code: String, offset: Int64)] = [:]
            for (key, value) in fields where nameSet.contains(codePoints(key)!) {
                guard case .tuple(let entry) = value, entry.count == 3, case .string = entry[2] else { continue }
                guard let title = codePoints(entry[2]), !nameSet.contains(title), titles[title] == nil,
                    case .object("numpy.dtype", let fieldArgs) = entry[0],
                    case .string(let fieldCode) = fieldArgs.first ?? .none, case .int(let offset) = entry[1]
                else { return "structured dtype titles that are not plain ASCII, distinct and apart from its names" }
                titles[title] = (fieldCode, offset)
            }
            let named = keyList.filter { nameSet.contains($0!) }
            let titleKeys = keyList.compactMap { $0 }.filter { !nameSet.contains($0) }
            guard Set(named.compactMap { $0 }) == nameSet, named.count == names.count,
                titleKeys.count == titles.count, Set(titleKeys) == Set(titles.keys)
            else { return "structured dtype names that are not exactly its fields" }
            for (key, value) in fields where !nameSet.contains(codePoints(key)!) {
                guard let field = titles[codePoints(key)!], case .tuple(let entry) = value, entry.count == 3,
                    codePoints(entry[2]) == codePoints(key),
                    case .object("numpy.dtype", let fieldArgs) = entry[0],
                    case .string(let fieldCode) = fieldArgs.first ?? .none, fieldCode == field.code,
                    case .int(let offset) = entry[1], offset == field.offset
                else { return "a structured dtype title whose entry is not its field's" }
            }
            for (key, value) in fields {
                guard case .string = key, case .tuple(let entry) = value, entry.count == 2 || entry.count == 3,
                    case .object("numpy.dtype", let fieldArgs) = entry[0],
                    case .string(let fieldCode) = fieldArgs.first ?? .none,
                    let fieldKind = dtypeKind(fieldCode), fieldKind != "V", fieldKind != "O",
                    let fieldSize = itemSize(fieldCode), case .int(let fieldOffset) = entry[1], fieldOffset >= 0
                else { return "a structured dtype field the scanner cannot model" }
                // A title is printed with the dtype: only text or None, never an object whose repr runs.
                if entry.count == 3 {
                    switch entry[2] {
                    case .none, .string: break
                    default: return "a structured dtype field title that is not text"
                    }
                }
                let (end, overflow) = UInt64(fieldOffset).addingReportingOverflow(fieldSize)
                guard !overflow, end <= size else { return "a structured dtype field outside its item" }
            }
            return nil
        default:
            return "names and fields not modelled"
        }
    }

    /// Whether `code` is one numpy writes when it pickles a dtype: an optional byte order, a kind letter and the
    /// item size in digits (`<f8`, `O8`, `U3`, `M8`, `b1`).
    static func isCanonicalDtypeCode(_ code: String) -> Bool {
        var rest = Substring(code)
        if let first = rest.first, "<>|=".contains(first) { rest = rest.dropFirst() }
        guard let kind = rest.first, "biufcSUVOMm".contains(kind) else { return false }
        let digits = rest.dropFirst()
        return !digits.isEmpty && digits.count <= 12 && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// The kind letter of a numpy dtype code (`f` of `<f8`), or nil when the code is empty.
    static func dtypeKind(_ code: String) -> Character? {
        code.drop { "<>|=".contains($0) }.first
    }

    /// Item size of a numpy dtype code such as `f8`, `<i4`, `U5`, `b1`, `M8[ns]`; nil for objects or unknown codes.
    /// The whole code must be one scalar: anything after its digits but a datetime unit (a second field as in
    /// `'f8,i4'`, a space) makes it a dtype the scanner does not size, nil (review 6, finding 2: `'f8,i4'` was
    /// sized 8 by its first field; numpy makes it 12).
    static func itemSize(_ code: String) -> UInt64? {
        var scalars = Substring(code)
        if let first = scalars.first, "<>|=".contains(first) { scalars = scalars.dropFirst() }
        guard let kind = scalars.first else { return nil }
        let digits = scalars.dropFirst().prefix { $0.isASCII && $0.isNumber }
        let tail = scalars.dropFirst(1 + digits.count)
        if !tail.isEmpty {
            let unit = tail.dropFirst().dropLast()
            guard "Mm".contains(kind), tail.first == "[", tail.last == "]", !unit.isEmpty,
                unit.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
            else { return nil }
        }
        switch kind {
        case "f", "i", "u", "c", "b", "V", "S", "M", "m", "a":
            if kind == "b", digits.isEmpty { return 1 }
            return UInt64(digits)
        case "U":
            return UInt64(digits).flatMap { $0 <= UInt64.max / 4 ? $0 * 4 : nil }
        case "?", "B", "h", "H", "l", "L", "q", "Q", "e", "d", "g", "F", "D":
            return nil
        default:
            return nil
        }
    }
}
