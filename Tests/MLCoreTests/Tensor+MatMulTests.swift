import Testing

@testable import MLCore

/// The naive triple loop the blocked kernels must agree with.
private func reference(_ a: Tensor, _ b: Tensor) -> Tensor {
    let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
    var out = [Float](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var total: Double = 0
            for p in 0..<k { total += Double(a.scalars[i * k + p]) * Double(b.scalars[p * n + j]) }
            out[i * n + j] = Float(total)
        }
    }
    return Tensor(shape: [m, n], scalars: out)
}

private func expectClose(_ lhs: Tensor, _ rhs: Tensor, tolerance: Float = 1e-3) {
    #expect(lhs.shape == rhs.shape)
    let worst = zip(lhs.scalars, rhs.scalars).map { abs($0 - $1) }.max() ?? 0
    #expect(worst <= tolerance, "largest difference \(worst)")
}

@Test(arguments: [(1, 1, 1), (3, 5, 7), (17, 130, 9), (64, 300, 70), (513, 257, 65)])
func matmulMatchesNaiveProduct(_ sizes: (Int, Int, Int)) {
    let (m, k, n) = sizes
    var generator = SeededGenerator(seed: 7)
    let a = Tensor(randomUniform: [m, k], in: -1...1, using: &generator)
    let b = Tensor(randomUniform: [k, n], in: -1...1, using: &generator)
    let expected = reference(a, b)
    expectClose(a.matmul(b), expected)
    expectClose(a.transposed().matmul(b, transposingSelf: true), expected)
    expectClose(a.matmul(b.transposed(), transposingOther: true), expected)
}

@Test func seededGeneratorIsReproducible() {
    var first = SeededGenerator(seed: 42)
    var second = SeededGenerator(seed: 42)
    var other = SeededGenerator(seed: 43)
    let a = (0..<8).map { _ in first.next() }
    #expect(a == (0..<8).map { _ in second.next() })
    #expect(a != (0..<8).map { _ in other.next() })
}
