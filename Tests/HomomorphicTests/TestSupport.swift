import Foundation
import Homomorphic
import SampleData
import TestSupport
import Testing

/// Shared fixtures: contexts are built once per process (prime search and tables are not free in debug builds).
enum Fixtures {
    static let d2: CKKSContext = try! CKKSContext(parameters: CKKSParameters.named("n8192-d2")!.parameters())
    static let d3: CKKSContext = try! CKKSContext(parameters: CKKSParameters.named("n8192-d3")!.parameters())
    /// The square MLP's circuit-private set (N = 16384, scale 2^90).
    static let mlp: CKKSContext = try! CKKSContext(parameters: CKKSParameters.named("n16384-mlp90")!.parameters())
}

func maxError(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// The breast-cancer data: standardised on a stratified, seeded 80/20 split (114 test rows).
struct BreastCancerSplit {
    let trainX: [[Double]]
    let trainY: [Double]
    let testX: [[Double]]
    let testY: [Double]

    static func load(seed: UInt64 = 42) throws -> BreastCancerSplit {
        let (features, labels) = try loadCSV(SampleData.breastCancerCSV)
        var generator = SplitMix64(state: seed)
        let total = labels.count
        let testTotal = Int((Double(total) * 0.2).rounded(.up))
        let classes = Array(Set(labels)).sorted()
        var byClass = classes.map { c in labels.indices.filter { labels[$0] == c }.shuffled(using: &generator) }
        let exact = byClass.map { Double($0.count) * Double(testTotal) / Double(total) }
        var counts = exact.map { Int($0) }
        let order = exact.indices.sorted { exact[$0] - Double(counts[$0]) > exact[$1] - Double(counts[$1]) }
        for index in order.prefix(testTotal - counts.reduce(0, +)) { counts[index] += 1 }
        var testIndices: [Int] = []
        var trainIndices: [Int] = []
        for (c, indices) in byClass.enumerated() {
            testIndices += indices.prefix(counts[c])
            trainIndices += indices.dropFirst(counts[c])
        }
        byClass = []
        testIndices.sort()
        trainIndices.sort()
        let f = features[0].count
        var mean = [Double](repeating: 0, count: f)
        var deviation = [Double](repeating: 0, count: f)
        for i in trainIndices { for j in 0..<f { mean[j] += features[i][j] } }
        mean = mean.map { $0 / Double(trainIndices.count) }
        for i in trainIndices { for j in 0..<f { deviation[j] += pow(features[i][j] - mean[j], 2) } }
        deviation = deviation.map { max(sqrt($0 / Double(trainIndices.count)), 1e-12) }
        func standardise(_ row: [Double]) -> [Double] { (0..<f).map { (row[$0] - mean[$0]) / deviation[$0] } }
        return BreastCancerSplit(
            trainX: trainIndices.map { standardise(features[$0]) }, trainY: trainIndices.map { labels[$0] },
            testX: testIndices.map { standardise(features[$0]) }, testY: testIndices.map { labels[$0] })
    }

    static func loadCSV(_ url: URL) throws -> ([[Double]], [Double]) {
        let text = try String(contentsOf: url, encoding: .utf8)
        var features: [[Double]] = []
        var labels: [Double] = []
        for line in text.split(whereSeparator: \.isNewline).dropFirst() where !line.isEmpty {
            let values = line.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces))! }
            features.append(Array(values.dropLast()))
            labels.append(values.last!)
        }
        return (features, labels)
    }

    /// Logistic regression by full-batch gradient descent.
    func trainLogistic(iterations: Int = 300, rate: Double = 0.5) throws -> LinearModel {
        let f = trainX[0].count
        var w = [Double](repeating: 0, count: f)
        var b = 0.0
        let m = Double(trainX.count)
        for _ in 0..<iterations {
            var gw = [Double](repeating: 0, count: f)
            var gb = 0.0
            for (x, y) in zip(trainX, trainY) {
                let z = zip(w, x).reduce(b) { $0 + $1.0 * $1.1 }
                let error = 1 / (1 + exp(-z)) - y
                for j in 0..<f { gw[j] += error * x[j] }
                gb += error
            }
            for j in 0..<f { w[j] -= rate * (gw[j] / m + 1e-3 * w[j]) }
            b -= rate * gb / m
        }
        return try LinearModel(weights: [w], bias: [b])
    }

    /// A square-activation MLP with one logit, trained by full-batch gradient descent.
    func trainSquareMLP(hidden: Int = 4, iterations: Int = 300, rate: Double = 0.02) throws -> SquareMLP {
        let f = trainX[0].count
        var generator = SplitMix64(state: 7)
        var w1 = (0..<hidden).map { _ in (0..<f).map { _ in Double.random(in: -0.1...0.1, using: &generator) } }
        var b1 = [Double](repeating: 0.1, count: hidden)
        var w2 = (0..<hidden).map { _ in Double.random(in: -0.5...0.5, using: &generator) }
        var b2 = 0.0
        let m = Double(trainX.count)
        for _ in 0..<iterations {
            var gw1 = [[Double]](repeating: [Double](repeating: 0, count: f), count: hidden)
            var gb1 = [Double](repeating: 0, count: hidden)
            var gw2 = [Double](repeating: 0, count: hidden)
            var gb2 = 0.0
            for (x, y) in zip(trainX, trainY) {
                let pre = (0..<hidden).map { j in zip(w1[j], x).reduce(b1[j]) { $0 + $1.0 * $1.1 } }
                let h = pre.map { $0 * $0 }
                let z = zip(w2, h).reduce(b2) { $0 + $1.0 * $1.1 }
                let error = 1 / (1 + exp(-max(min(z, 30), -30))) - y
                gb2 += error
                for j in 0..<hidden {
                    gw2[j] += error * h[j]
                    let back = error * w2[j] * 2 * pre[j]
                    gb1[j] += back
                    for k in 0..<f { gw1[j][k] += back * x[k] }
                }
            }
            b2 -= rate * gb2 / m
            for j in 0..<hidden {
                w2[j] -= rate * gw2[j] / m
                b1[j] -= rate * gb1[j] / m
                for k in 0..<f { w1[j][k] -= rate * gw1[j][k] / m }
            }
        }
        return try SquareMLP(w1: w1, b1: b1, w2: [w2], b2: [b2])
    }
}
