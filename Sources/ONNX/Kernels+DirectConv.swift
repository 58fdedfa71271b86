extension Kernels {
    /// The geometry of one 2-D (or 1-D as 2-D) convolution run, as `conv` resolved it.
    struct ConvGeometry {
        var n: Int, c: Int, h: Int, w: Int, m: Int
        var kh: Int, kw: Int, sh: Int, sw: Int, dh: Int, dw: Int
        var ph: Int, pw: Int, eh: Int, ew: Int
        var oh: Int, ow: Int
    }

    /// A float Conv with horizontal stride 1 on weights packed at load: each image's group is copied once into a
    /// zero-padded scratch, then blocks of four output channels × eight output pixels (two runs of four along a
    /// row) accumulate over every tap in registers, reading input vectors straight from the padded planes (no
    /// im2col columns) and writing NCHW output with the bias (and a folded Relu) once per block.
    ///
    /// Taps are summed in the same order as the im2col path (input channel, kernel row, kernel column, from
    /// zero, bias last), so both give the same floats. Returns `nil` when the geometry does not suit it (stride
    /// along the row, or padding far larger than the planes): the caller takes the general path.
    static func directConv(
        _ input: [Float], _ geometry: ConvGeometry, _ packed: PackedConv, bias: [Float]?,
        context: inout ExecutionContext
    ) throws -> [Float]? {
        let g = geometry
        let (hp, wp) = (g.ph + g.h + g.eh, g.pw + g.w + g.ew)
        let plane = g.oh * g.ow
        let perGroupIn = g.c / packed.groups
        guard g.sw == 1, plane > 0, g.n > 0, packed.depth == perGroupIn * g.kh * g.kw,
            packed.groups * packed.perGroupOut == g.m, input.count == g.n * g.c * g.h * g.w,
            bias == nil || bias?.count == g.m,
            // Every tap of every output pixel lands inside the padded plane.
            (g.oh - 1) * g.sh + (g.kh - 1) * g.dh < hp, g.ow - 1 + (g.kw - 1) * g.dw < wp
        else { return nil }
        // Padding at most a few times the planes: hostile pads on a tiny input keep the general path rather
        // than a padded scratch far larger than anything the im2col path allocates.
        let (padded, overflow) = hp.multipliedReportingOverflow(by: wp)
        guard !overflow, padded <= 4 * (g.h * g.w + plane) + 64 else { return nil }
        // The scratch holds one image's group; a run of four may read three floats past a plane's end.
        let scratchCount = perGroupIn * padded + SIMD4<Float>.scalarCount
        try context.reserve(2 * scratchCount + g.m + packed.depth, width: 8)
        var out = context.floats(count: g.n * g.m * plane)
        // Small scratch (every batch-1 run of a small CNN) lives on the stack: no allocation per run.
        if scratchCount <= 4096 {
            try withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchCount) { scratch in
                try directConv(input, g, packed, bias: bias, scratch: scratch.baseAddress!, into: &out, &context)
            }
        } else {
            var scratch = context.scratch(atLeast: scratchCount)
            try scratch.withUnsafeMutableBufferPointer { scratch in
                try directConv(input, g, packed, bias: bias, scratch: scratch.baseAddress!, into: &out, &context)
            }
            context.recycle(scratch)
        }
        try context.checkDeadline()
        return out
    }

    /// `directConv`'s loops, with a scratch of at least one image's padded group plus four floats.
    private static func directConv(
        _ input: [Float], _ g: ConvGeometry, _ packed: PackedConv, bias: [Float]?,
        scratch: UnsafeMutablePointer<Float>, into out: inout [Float], _ context: inout ExecutionContext
    ) throws {
        let (hp, wp) = (g.ph + g.h + g.eh, g.pw + g.w + g.ew)
        let padded = hp * wp
        let plane = g.oh * g.ow
        let perGroupIn = g.c / packed.groups
        scratch.initialize(repeating: 0, count: perGroupIn * padded + SIMD4<Float>.scalarCount)
        let runsPerRow = (g.ow + 3) / 4
        let runs = g.oh * runsPerRow
        /// Run `index`'s first input in the padded plane, its first output in a plane, and its valid lanes.
        func run(_ index: Int) -> (input: Int, output: Int, lanes: Int) {
            let (y, x) = (index / runsPerRow, index % runsPerRow * 4)
            return (y * g.sh * wp + x, y * g.ow + x, min(4, g.ow - x))
        }
        try withUnsafeTemporaryAllocation(of: Int.self, capacity: packed.depth) { taps in
            // Tap offsets in the padded planes, for this input size.
            for channel in 0..<perGroupIn {
                for ky in 0..<g.kh {
                    for kx in 0..<g.kw {
                        taps[(channel * g.kh + ky) * g.kw + kx] = channel * padded + ky * g.dh * wp + kx * g.dw
                    }
                }
            }
            try withUnsafeTemporaryAllocation(of: Float.self, capacity: g.m) { zeros in
                zeros.initialize(repeating: 0)
                try input.withUnsafeBufferPointer { input in
                    try out.withUnsafeMutableBufferPointer { out in
                        try packed.weights.withUnsafeBufferPointer { weights in
                            try (bias ?? []).withUnsafeBufferPointer { given in
                                let bias = bias == nil ? UnsafePointer(zeros.baseAddress!) : given.baseAddress!
                                for batch in 0..<g.n {
                                    if batch % 16 == 15 { try context.checkDeadline() }
                                    for group in 0..<packed.groups {
                                        // The group's planes into the padded scratch (borders stay zero).
                                        for channel in 0..<perGroupIn {
                                            let source =
                                                input.baseAddress! + (batch * g.c + group * perGroupIn + channel) * g.h
                                                * g.w
                                            let target = scratch + channel * padded + g.ph * wp + g.pw
                                            for row in 0..<g.h {
                                                (target + row * wp).update(from: source + row * g.w, count: g.w)
                                            }
                                        }
                                        for block in 0..<packed.blocks {
                                            let first = group * packed.perGroupOut + block * PackedConv.rows
                                            let tile = DirectConvTile(
                                                depth: packed.depth, taps: UnsafePointer(taps.baseAddress!),
                                                weights: weights.baseAddress! + (group * packed.blocks + block)
                                                    * packed.depth * PackedConv.rows,
                                                bias: bias + first,
                                                rows: min(
                                                    PackedConv.rows, packed.perGroupOut - block * PackedConv.rows),
                                                output: out.baseAddress! + (batch * g.m + first) * plane,
                                                plane: plane, relu: packed.relu)
                                            var index = 0
                                            while index + 2 <= runs {
                                                // A run's work is depth × 4 × 8 multiply-adds, with no buffer of
                                                // plane × depth to bound it: the deadline is read every 64 runs
                                                // (a 1 MB model with 600-pixel pads ran 12 s past a 1 s deadline).
                                                if index & 127 == 0 { try context.checkDeadline() }
                                                let (a, b) = (run(index), run(index + 1))
                                                tile.two(
                                                    scratch + a.input, a.output, a.lanes, scratch + b.input, b.output,
                                                    b.lanes)
                                                index += 2
                                            }
                                            if index < runs {
                                                let a = run(index)
                                                tile.one(scratch + a.input, a.output, a.lanes)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One block of up to four output channels of one image: the register-blocked inner loops of `directConv`.
struct DirectConvTile {
    let depth: Int
    /// Each tap's offset in the padded planes, relative to a run's first input.
    let taps: UnsafePointer<Int>
    /// `[tap][row]` broadcast weights.
    let weights: UnsafePointer<SIMD4<Float>>
    let bias: UnsafePointer<Float>
    /// Output channels of this block that exist (the rest are zero padding and are not stored).
    let rows: Int
    /// The block's first output channel's plane in this image.
    let output: UnsafeMutablePointer<Float>
    let plane: Int
    let relu: Bool

    @inline(__always)
    private func load(_ pointer: UnsafePointer<Float>) -> SIMD4<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD4<Float>.self)
    }

    /// Two runs of four pixels (`a` and `b`, at input offsets in the padded scratch and output offsets in a plane).
    @inline(__always)
    func two(
        _ a: UnsafePointer<Float>, _ outA: Int, _ lanesA: Int, _ b: UnsafePointer<Float>, _ outB: Int, _ lanesB: Int
    ) {
        var c00 = SIMD4<Float>(), c01 = SIMD4<Float>()
        var c10 = SIMD4<Float>(), c11 = SIMD4<Float>()
        var c20 = SIMD4<Float>(), c21 = SIMD4<Float>()
        var c30 = SIMD4<Float>(), c31 = SIMD4<Float>()
        var w = weights
        for tap in 0..<depth {
            let offset = taps[tap]
            let x0 = load(a + offset)
            let x1 = load(b + offset)
            c00 += w[0] * x0
            c01 += w[0] * x1
            c10 += w[1] * x0
            c11 += w[1] * x1
            c20 += w[2] * x0
            c21 += w[2] * x1
            c30 += w[3] * x0
            c31 += w[3] * x1
            w += PackedConv.rows
        }
        store(c00, row: 0, at: outA, lanesA)
        store(c01, row: 0, at: outB, lanesB)
        guard rows > 1 else { return }
        store(c10, row: 1, at: outA, lanesA)
        store(c11, row: 1, at: outB, lanesB)
        guard rows > 2 else { return }
        store(c20, row: 2, at: outA, lanesA)
        store(c21, row: 2, at: outB, lanesB)
        guard rows > 3 else { return }
        store(c30, row: 3, at: outA, lanesA)
        store(c31, row: 3, at: outB, lanesB)
    }

    /// One run of four pixels (the last of an odd count).
    @inline(__always)
    func one(_ a: UnsafePointer<Float>, _ outA: Int, _ lanesA: Int) {
        var c0 = SIMD4<Float>(), c1 = SIMD4<Float>(), c2 = SIMD4<Float>(), c3 = SIMD4<Float>()
        var w = weights
        for tap in 0..<depth {
            let x0 = load(a + taps[tap])
            c0 += w[0] * x0
            c1 += w[1] * x0
            c2 += w[2] * x0
            c3 += w[3] * x0
            w += PackedConv.rows
        }
        store(c0, row: 0, at: outA, lanesA)
        if rows > 1 { store(c1, row: 1, at: outA, lanesA) }
        if rows > 2 { store(c2, row: 2, at: outA, lanesA) }
        if rows > 3 { store(c3, row: 3, at: outA, lanesA) }
    }

    /// Bias (then Relu as the Relu kernel does: negatives to zero, NaN and -0 kept) and the run's valid lanes.
    @inline(__always)
    private func store(_ sum: SIMD4<Float>, row: Int, at offset: Int, _ lanes: Int) {
        var value = sum + SIMD4(repeating: bias[row])
        if relu { value.replace(with: 0, where: value .< 0) }
        let target = output + row * plane + offset
        if lanes == 4 {
            UnsafeMutableRawPointer(target).storeBytes(of: value, as: SIMD4<Float>.self)
        } else {
            for lane in 0..<lanes { target[lane] = value[lane] }
        }
    }
}
