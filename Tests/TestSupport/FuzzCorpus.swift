import Foundation

/// The committed libFuzzer corpora (`Fuzz/Corpus/TARGET`) as ordinary tests: every input replayed, then seeded
/// mutations of them for a short time budget. This is what CI runs in place of the sanitizer build; `Fuzz/run.sh`
/// runs the fuzzers themselves. Each suite calls the same code as its fuzz target, so a crash the fuzzer finds is
/// kept as a regression test by copying its input into the corpus.
public enum FuzzCorpus {
    /// SplitMix64: deterministic, so a failing mutation replays with the same seed.
    public struct Generator: RandomNumberGenerator {
        var state: UInt64
        /// A generator from `seed`.
        public init(seed: UInt64) { state = seed }
        /// The next 64 random bits.
        public mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// The corpus of `target`, sorted by file name.
    public static func inputs(_ target: String) throws -> [(name: String, bytes: [UInt8])] {
        let directory = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appending(path: "Fuzz/Corpus/\(target)")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        return try names.map { ($0, Array(try Data(contentsOf: directory.appending(path: $0)))) }
    }

    /// Seconds of seeded mutation per target: `MODELVAULT_FUZZ_SECONDS` (default 2, at most 10; 0 replays only).
    public static var mutationSeconds: Double {
        min(10, max(0, Double(ProcessInfo.processInfo.environment["MODELVAULT_FUZZ_SECONDS"] ?? "") ?? 2))
    }

    /// The mutation seed: `MODELVAULT_FUZZ_SEED` (default 1).
    public static var seed: UInt64 { UInt64(ProcessInfo.processInfo.environment["MODELVAULT_FUZZ_SEED"] ?? "") ?? 1 }

    /// What a replay did.
    public struct Run: Sendable {
        /// Corpus inputs replayed.
        public var replayed = 0
        /// Mutated inputs run.
        public var mutated = 0
        /// Inputs (corpus or mutated) for which `body` returned true (for example: parsed without an error).
        public var accepted = 0
    }

    /// Calls `body` on every corpus input of `target`, then on seeded mutations of them (byte and bit changes,
    /// erased, inserted and duplicated ranges, boundary integers, splices of two inputs) until
    /// `mutationSeconds` are spent. `body` must not crash or trap; it returns whether the input was accepted.
    @discardableResult
    public static func replay(_ target: String, _ body: ([UInt8]) throws -> Bool) throws -> Run {
        let corpus = try inputs(target).map(\.bytes)
        var run = Run()
        for input in corpus {
            if try body(input) { run.accepted += 1 }
            run.replayed += 1
        }
        guard !corpus.isEmpty else { return run }
        var generator = Generator(seed: seed)
        let deadline = ContinuousClock.now + .milliseconds(Int(mutationSeconds * 1000))
        while ContinuousClock.now < deadline {
            for _ in 0..<16 {
                let input = mutate(corpus[Int.random(in: 0..<corpus.count, using: &generator)], corpus, &generator)
                if try body(input) { run.accepted += 1 }
                run.mutated += 1
            }
        }
        return run
    }

    static let boundaries: [[UInt8]] = [
        [0], [0xFF], [0x7F], [0x80], [0xFF, 0xFF, 0xFF, 0xFF], [0x7F, 0xFF, 0xFF, 0xFF], [0, 0, 0, 0x80],
        Array("-1".utf8), Array("9223372036854775807".utf8), Array("1e308".utf8), Array("\"".utf8), Array("\n".utf8),
    ]

    /// One to four mutations of `input`.
    static func mutate(_ input: [UInt8], _ corpus: [[UInt8]], _ generator: inout Generator) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &generator) {
            let index = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &generator)
            let length = bytes.isEmpty ? 0 : Int.random(in: 1...min(16, bytes.count - index), using: &generator)
            switch Int.random(in: 0..<7, using: &generator) {
            case 0 where !bytes.isEmpty: bytes[index] = UInt8.random(in: 0...255, using: &generator)
            case 1 where !bytes.isEmpty: bytes[index] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
            case 2: bytes.removeSubrange(index..<(index + length))
            case 3: bytes.insert(contentsOf: bytes[index..<(index + length)], at: index)
            case 4:
                let value = boundaries[Int.random(in: 0..<boundaries.count, using: &generator)]
                bytes.replaceSubrange(index..<min(bytes.count, index + value.count), with: value)
            case 5:
                let other = corpus[Int.random(in: 0..<corpus.count, using: &generator)]
                let cut = Int.random(in: 0...other.count, using: &generator)
                bytes = Array(bytes[..<index]) + other[cut...]
            default:
                bytes.insert(UInt8.random(in: 0...255, using: &generator), at: index)
            }
        }
        return bytes
    }
}
