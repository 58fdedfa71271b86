import Testing

@testable import ModelScan

/// The interpreter's work per opcode stays bounded, and the bounds that keep it so do not refuse what Python loads.
@Suite struct PickleInterpreterBudgetTests {
    /// A memoised tuple of `width` × `depth` nodes (a tuple of `width` tuples nested `depth` deep, of None).
    static func memoisedTuple(_ p: inout PickleAssembler, width: Int, depth: Int) {
        p.mark()
        for _ in 0..<width {
            p.none()
            for _ in 0..<depth { p.tuple1() }
        }
        p.tuple()
        p.binPut(0)
    }

    static func interpret(
        _ bytes: [UInt8], measuredNodesLimit: Int = PickleInterpreter.maxMeasuredNodes
    ) throws
        -> (PickleInterpreter, FindingCollector)
    {
        let findings = FindingCollector(file: "budget")
        let interpreter = PickleInterpreter(
            stream: ByteStream(source: ByteSource(bytes: bytes)), findings: findings,
            measuredNodesLimit: measuredNodesLimit)
        _ = try interpreter.interpretOne()
        return (interpreter, findings)
    }

    /// Scanner review 9, finding 8: every GET of a memoised 240-node tuple measured it again (240 visits per 2-byte
    /// opcode), so a gzip pickle of 85 million GETs took 8 minutes. A value read back from the memo (or DUP'd) was
    /// measured when it was first pushed.
    @Test func readingAMemoisedTupleBackDoesNotMeasureItAgain() throws {
        var p = PickleAssembler(protocol: 2)
        Self.memoisedTuple(&p, width: 30, depth: 7)
        let gets = 20_000
        for _ in 0..<gets {
            p.binGet(0)
            p.op("0")
        }
        p.stop()
        let (interpreter, findings) = try Self.interpret(p.bytes)
        // The tuple's nodes are visited while it is built: a few thousand, not `gets` times its size.
        #expect(interpreter.measuredNodes < 10_000, "\(interpreter.measuredNodes)")
        #expect(!findings.findings.contains { $0.severity >= .high }, "\(findings.findings)")
    }

    /// Wrapping the memoised tuple anew on each step (GET, TUPLE1, POP) still costs a measure per step: the pickle's
    /// measuring stops at its budget, after which each new container is unknown. That is high (scanner review 10,
    /// finding A: an unknown NumpyArrayWrapper was not recognised, so joblib's array bytes hid `os.system`).
    @Test func measuringStopsAtTheBudgetWhichIsHighAndADangerousCallAfterItIsStillCaught() throws {
        var p = PickleAssembler(protocol: 2)
        Self.memoisedTuple(&p, width: 30, depth: 7)
        for _ in 0..<2_000 {
            p.binGet(0)
            p.tuple1()
            p.op("0")
        }
        p.call("os", "system", "id")
        p.stop()
        let limit = 50_000
        let (interpreter, findings) = try Self.interpret(p.bytes, measuredNodesLimit: limit)
        #expect(interpreter.measuredNodes <= limit + PickleValue.depthBudget + 1, "\(interpreter.measuredNodes)")
        #expect(findings.findings.contains { $0.rule == "pickle.bound-exceeded" && $0.severity >= .high })
        #expect(scan(p.bytes).has("pickle.global.dangerous", "os"))
    }

    /// Scanner review 11, F3: every REDUCE checked each argument of a memoised 189-global tuple (and joined each
    /// 4 KiB module and name), so a 14.5 KB gzip file of REDUCEs ran past 120 s. Calls are charged to the measuring
    /// budget now, and past it their checks stop (the file is high).
    @Test func callsAreChargedToTheMeasuringBudget() throws {
        var p = PickleAssembler(protocol: 2)
        p.global("collections", "OrderedDict")
        p.binPut(0)
        p.mark()
        for _ in 0..<50 { p.global("collections", "OrderedDict") }
        p.tuple()
        p.binPut(1)
        for _ in 0..<1_000 {
            p.binGet(0)
            p.binGet(1)
            p.reduce()
            p.op("0")
        }
        p.none()
        p.stop()
        let limit = 10_000
        let (interpreter, findings) = try Self.interpret(p.bytes, measuredNodesLimit: limit)
        #expect(findings.findings.contains { $0.rule == "pickle.bound-exceeded" && $0.severity >= .high })
        #expect(interpreter.measuredNodes < limit + 1_000, "\(interpreter.measuredNodes)")
    }

    /// 64 KiB of MARK bytes (a joblib array of 0x28 read as opcodes by `pickle.load`) were refused as past the
    /// scanner's bound of marks; Python keeps any number. Marks at one stack position are one run now.
    @Test func aLongRunOfMarksIsNotPastTheBound() {
        var p = PickleAssembler(protocol: 2)
        p.raw([UInt8](repeating: 0x28, count: 70_000))
        p.none()
        p.stop()
        let report = scan(p.bytes)
        #expect(!report.has("pickle.bound-exceeded"), "\(report.findings)")
        #expect(!report.isRefusedByDefault, "\(report.findings)")
    }

    /// Marks at distinct positions are still bounded: past the bound the stack is no longer modelled (high).
    @Test func marksAtDistinctPositionsPastTheBoundAreHigh() {
        var p = PickleAssembler(protocol: 2)
        for _ in 0..<(PickleInterpreter.maxMarks + 1) {
            p.none()
            p.mark()
        }
        p.none()
        p.stop()
        #expect(scan(p.bytes).has("pickle.bound-exceeded"))
    }
}

/// Scanner review 10, finding B: OBJ handed every argument to the call checks, so one memoised 64-pair dict given
/// 100,000 times per OBJ cost work per byte that nothing bounded. OBJ keeps `maxElements` arguments, as TUPLE does.
@Suite struct PickleInterpreterObjArgumentsTests {
    /// (A small tuple here, so that the object's 64 arguments still fit the measured size and read back.)
    @Test func objKeepsAtMostTheElementBoundOfArguments() throws {
        var p = PickleAssembler(protocol: 2)
        p.none()
        p.tuple1()
        p.binPut(0)
        p.mark()
        p.global("collections", "OrderedDict")
        for _ in 0..<1_000 { p.binGet(0) }
        p.op("o")
        p.stop()
        let findings = FindingCollector(file: "obj")
        let interpreter = PickleInterpreter(stream: ByteStream(source: ByteSource(bytes: p.bytes)), findings: findings)
        guard case .stopped(.object(_, let args)) = try interpreter.interpretOne() else {
            Issue.record("the pickle did not stop on an object: \(findings.findings)")
            return
        }
        #expect(args.count == PickleValue.maxElements)
    }
}
