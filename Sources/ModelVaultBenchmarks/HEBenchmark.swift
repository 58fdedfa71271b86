import Foundation
@_spi(Benchmarks) import Homomorphic
import SampleData

/// CKKS primitives and private inference, ModelVault vs TenSEAL (Microsoft SEAL) in the same run.
/// N = 8192, moduli [60, 40, 40, 60], scale 2^40. Private inference runs twice, before circuit privacy (no query
/// checks, masking, flooding or re-randomisation; the MLP on n8192-d3 as before) and after it (λ = 40; the MLP on
/// n16384-mlp90, the set with room for its flooding).
enum HEBenchmark {
    static func run() async throws {
        let load = loadAverage()
        let peer = runTenSEAL()
        let context = try CKKSContext(parameters: CKKSParameters.named("n8192-d2")!.parameters())
        let secretKey = context.generateSecretKey()
        let publicKey = context.generatePublicKey(for: secretKey)
        let relinearizationKey = context.generateRelinearizationKey(for: secretKey)
        let galoisKeys = context.generateGaloisKeys(for: secretKey, rotations: [1])
        var generator = SystemRandomNumberGenerator()
        let values = (0..<context.slotCount).map { _ in Double.random(in: -1...1, using: &generator) }
        let ciphertext = try context.encrypt(values, using: publicKey)
        let other = try context.encrypt(values, using: publicKey)
        let topPrime = Double(context.moduli[context.maxLevel].value)

        var rows: [Row] = []
        func add(_ name: String, _ ours: Double, _ theirs: Double?, unit: String = "ms") {
            rows.append(Row(name: name, ours: ours, theirs: theirs, unit: unit))
        }
        /// A timed row: wall-clock medians, plus process CPU-time medians (the work done, which a loaded machine's
        /// scheduling does not inflate).
        func add(_ name: String, _ ours: Timing, peerKey: String?, divisor: Double = 1) {
            rows.append(
                Row(
                    name: name, ours: ours.wall / divisor, theirs: peerKey.flatMap { peer?[$0] }, unit: "ms",
                    oursCPU: ours.cpu / divisor, theirsCPU: peerKey.flatMap { peer?[$0 + "_cpu"] }))
        }
        add(
            "encode+encrypt (public key)", try measure { _ = try context.encrypt(values, using: publicKey) },
            peerKey: "encrypt")
        add(
            "encode+encrypt (symmetric, seeded)", try measure { _ = try context.encrypt(values, using: secretKey) },
            peerKey: nil)
        add(
            "decrypt+decode", try measure { _ = context.decryptValues(ciphertext, using: secretKey) },
            peerKey: "decrypt")
        add(
            "ct multiply+relin+rescale",
            try measure {
                _ = try context.multiplyAndRescale(ciphertext, other, relinearizationKey: relinearizationKey)
            }, peerKey: "multiply")
        add(
            "encode+plain multiply+rescale",
            try measure {
                _ = try context.rescale(context.multiply(ciphertext, context.encode(values, scale: topPrime)))
            }, peerKey: "multiply_plain")
        add(
            "rotation (TenSEAL: sum()/12)",
            try measure { _ = try context.rotate(ciphertext, by: 1, using: galoisKeys) },
            peerKey: "rotation")

        // End-to-end private logistic regression over the 114 test rows.
        let (testRows, weights, bias) = try breastCancerTestRows()
        let model = try LinearModel(weights: [weights], bias: [bias])
        let client = PrivateInferenceClient(context: context, secretKey: secretKey)
        let keys = client.evaluationKeys(for: .coefficientRows)
        var querySize = 0
        var resultSize = 0
        func logistic(circuitPrivacy: Bool) throws -> Timing {
            try measure(repetitions: 20) {
                let queryBytes = context.serialize(try client.encrypt(rows: testRows, packing: .coefficientRows))
                let query = try context.deserializeQuery(queryBytes)
                let result =
                    circuitPrivacy
                    ? try PrivateInferenceServer.evaluate(query, model: .linear(model), keys: keys, context: context)
                    : try PrivateInferenceServer.evaluateWithoutCircuitPrivacy(
                        query, model: .linear(model), keys: keys, context: context)
                let resultBytes = context.serialize(result)
                _ = try client.decrypt(context.deserializeResult(resultBytes))
                querySize = queryBytes.count
                resultSize = resultBytes.count
            }
        }
        add("e2e logistic, 114 rows, before circuit privacy", try logistic(circuitPrivacy: false), peerKey: "e2e")
        let e2e = try logistic(circuitPrivacy: true)
        add("e2e logistic, 114 rows (circuit-private, λ = 40)", e2e, peerKey: "e2e")
        rows.append(
            Row(
                name: "e2e logistic rows/s", ours: 114_000 / e2e.wall, theirs: peer?["e2e"].map { 114_000 / $0 },
                unit: "rows/s", oursCPU: 114_000 / e2e.cpu, theirsCPU: peer?["e2e_cpu"].map { 114_000 / $0 }))
        add("query size", Double(querySize) / 1024, peer?["query_bytes"].map { $0 / 1024 }, unit: "KiB")
        add(
            "evaluation keys size (public key)", Double(context.serialize(keys.publicKey!).count) / 1024,
            peer?["keys_bytes"].map { $0 / 1024 }, unit: "KiB")
        add("result size", Double(resultSize) / 1024, peer?["result_bytes"].map { $0 / 1024 }, unit: "KiB")

        // Square MLP on digits: a batch of 360 images.
        let mlp = try digitsMLP()
        let images = try digitsImages(count: 360)
        let beforeContext = try CKKSContext(parameters: CKKSParameters.named("n8192-d3")!.parameters())
        let beforeClient = PrivateInferenceClient(context: beforeContext)
        let beforeKeys = beforeClient.evaluationKeys(for: .slotPerFeature)
        let before = try measure(repetitions: 3) {
            let query = try beforeClient.encrypt(rows: images, packing: .slotPerFeature)
            let result = try PrivateInferenceServer.evaluateWithoutCircuitPrivacy(
                query, model: .squareMLP(mlp), keys: beforeKeys, context: beforeContext)
            _ = try beforeClient.decrypt(result)
        }
        add(
            "MLP digits, per image (batch of 360), before circuit privacy (n8192-d3)", before,
            peerKey: "mlp_per_image", divisor: 360)
        let mlpContext = try CKKSContext(parameters: CKKSParameters.named("n16384-mlp90")!.parameters())
        let mlpClient = PrivateInferenceClient(context: mlpContext)
        let mlpKeys = mlpClient.evaluationKeys(for: .slotPerFeature)
        var mlpAgreement = 0
        let batch = try measure(repetitions: 3) {
            let query = try mlpClient.encrypt(rows: images, for: .squareMLP(mlp))
            let result = try PrivateInferenceServer.evaluate(
                query, model: .squareMLP(mlp), keys: mlpKeys, context: mlpContext)
            let scores = try mlpClient.decrypt(result)
            mlpAgreement = zip(scores, images).filter { argmax($0) == argmax(mlp.scores($1)) }.count
        }
        add(
            "MLP digits, per image (batch of 360), circuit-private (n16384-mlp90, λ = 40)", batch,
            peerKey: "mlp_per_image", divisor: 360)
        add("MLP digits, batch of 360 total", batch.wall, peer?["mlp_per_image"].map { $0 * 360 })
        add(
            "evaluation keys size (MLP: public key, no relin key)",
            Double(mlpContext.serialize(mlpKeys.publicKey!).count) / 1024,
            peer?["mlp_keys_bytes"].map { $0 / 1024 }, unit: "KiB")

        print("Circuit-private MLP: \(mlpAgreement) of 360 images get the plaintext model's class")
        print("Load average (1, 5, 15 min): \(loadAverage(atStart: load))")
        print("Threads per operation: 1 (ModelVault and SEAL are both single-threaded per operation)")
        print(
            "| operation | ModelVault | TenSEAL | ratio (TenSEAL/ModelVault) | ModelVault CPU | TenSEAL CPU | CPU ratio |"
        )
        print("|---|---|---|---|---|---|---|")
        for row in rows { print(row.line) }
        if peer == nil { print("(TenSEAL not installed: peer figures missing; pip install tenseal==0.3.18)") }
    }

    static func argmax(_ scores: [Double]) -> Int {
        scores.indices.max { scores[$0] < scores[$1] } ?? 0
    }

    struct Row {
        let name: String
        let ours: Double
        let theirs: Double?
        let unit: String
        var oursCPU: Double? = nil
        var theirsCPU: Double? = nil

        var line: String {
            func ratio(_ ours: Double?, _ theirs: Double?) -> String {
                guard let ours, let theirs, ours > 0 else { return "-" }
                return String(format: "%.2fx", unit == "rows/s" ? ours / theirs : theirs / ours)
            }
            func text(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) + " " + unit } ?? "-" }
            return "| \(name) | \(text(ours)) | \(text(theirs)) | \(ratio(ours, theirs)) | \(text(oursCPU)) | "
                + "\(text(theirsCPU)) | \(ratio(oursCPU, theirsCPU)) |"
        }
    }

    /// Median wall time and median process CPU time of one run, in milliseconds.
    struct Timing {
        let wall: Double
        let cpu: Double
    }

    static func processCPUTime() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) * 1e3 + Double(time.tv_nsec) / 1e6
    }

    /// The load average now, or "at start -> now" given the one read at the start.
    static func loadAverage(atStart start: String? = nil) -> String {
        let now =
            (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))
            .map { $0.split(separator: " ").prefix(3).joined(separator: " ") } ?? "unknown"
        return start.map { "\($0) at start, \(now) at end" } ?? now
    }

    /// Medians over `repetitions` runs after one warm-up run.
    static func measure(repetitions: Int = 30, _ body: () throws -> Void) throws -> Timing {
        try body()
        var times: [Double] = []
        var cpuTimes: [Double] = []
        for _ in 0..<repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            let cpuStart = processCPUTime()
            try body()
            cpuTimes.append(processCPUTime() - cpuStart)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return Timing(wall: times.sorted()[times.count / 2], cpu: cpuTimes.sorted()[cpuTimes.count / 2])
    }

    static func loadCSV(_ url: URL) throws -> ([[Double]], [Double]) {
        let text = try String(contentsOf: url, encoding: .utf8)
        var features: [[Double]] = []
        var labels: [Double] = []
        for line in text.split(whereSeparator: \.isNewline).dropFirst() where !line.isEmpty {
            let values = line.split(separator: ",").compactMap { Double($0) }
            features.append(Array(values.dropLast()))
            labels.append(values.last ?? 0)
        }
        return (features, labels)
    }

    /// 114 standardised rows and a logistic model fitted on the other rows (a seeded 80/20 split).
    static func breastCancerTestRows() throws -> ([[Double]], [Double], Double) {
        let (features, labels) = try loadCSV(SampleData.breastCancerCSV)
        let order = Array(features.indices).sorted { ($0 &* 2_654_435_761) % 569 < ($1 &* 2_654_435_761) % 569 }
        let test = Array(order.prefix(114))
        let train = Array(order.dropFirst(114))
        let f = features[0].count
        let mean = (0..<f).map { j in train.reduce(0) { $0 + features[$1][j] } / Double(train.count) }
        let deviation = (0..<f).map { j in
            max(sqrt(train.reduce(0) { $0 + pow(features[$1][j] - mean[j], 2) } / Double(train.count)), 1e-12)
        }
        func standardise(_ row: [Double]) -> [Double] { (0..<f).map { (row[$0] - mean[$0]) / deviation[$0] } }
        var w = [Double](repeating: 0, count: f)
        var b = 0.0
        for _ in 0..<200 {
            var gw = [Double](repeating: 0, count: f)
            var gb = 0.0
            for i in train {
                let x = standardise(features[i])
                let error = 1 / (1 + exp(-zip(w, x).reduce(b) { $0 + $1.0 * $1.1 })) - labels[i]
                for j in 0..<f { gw[j] += error * x[j] }
                gb += error
            }
            for j in 0..<f { w[j] -= 0.5 * gw[j] / Double(train.count) }
            b -= 0.5 * gb / Double(train.count)
        }
        return (test.map { standardise(features[$0]) }, w, b)
    }

    /// Digits scaled to [0, 1].
    static func digitsImages(count: Int) throws -> [[Double]] {
        let (features, _) = try loadCSV(SampleData.digitsCSV)
        return features.prefix(count).map { $0.map { $0 / 16 } }
    }

    /// A 64-32-10 square MLP; the timing does not depend on the weight values, so fixed pseudo-random weights.
    static func digitsMLP() throws -> SquareMLP {
        var state: UInt64 = 1
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53) - 0.5
        }
        let w1 = (0..<32).map { _ in (0..<64).map { _ in next() * 0.2 } }
        let w2 = (0..<10).map { _ in (0..<32).map { _ in next() } }
        return try SquareMLP(w1: w1, b1: (0..<32).map { _ in next() }, w2: w2, b2: (0..<10).map { _ in next() })
    }

    static let peerScript = """
        import json, time, statistics, sys
        import numpy as np
        import tenseal as ts

        def median_ms(fn, reps=30):
            fn()
            times = []; cpu = []
            for _ in range(reps):
                start = time.perf_counter(); cpu_start = time.process_time(); fn()
                cpu.append((time.process_time() - cpu_start) * 1000); times.append((time.perf_counter() - start) * 1000)
            return statistics.median(times), statistics.median(cpu)

        def timed(key, fn, reps=30, divisor=1):
            wall, cpu = median_ms(fn, reps)
            out[key] = wall / divisor; out[key + "_cpu"] = cpu / divisor

        ctx = ts.context(ts.SCHEME_TYPE.CKKS, poly_modulus_degree=8192, coeff_mod_bit_sizes=[60, 40, 40, 60])
        ctx.global_scale = 2 ** 40
        ctx.generate_galois_keys()
        values = np.random.uniform(-1, 1, 4096).tolist()
        a = ts.ckks_vector(ctx, values); b = ts.ckks_vector(ctx, values)
        out = {}
        timed("encrypt", lambda: ts.ckks_vector(ctx, values))
        timed("decrypt", lambda: a.decrypt())
        timed("multiply", lambda: a * b)
        timed("multiply_plain", lambda: a * values)
        timed("rotation", lambda: a.sum(), reps=10, divisor=12)

        rng = np.random.default_rng(1)
        rows = rng.normal(size=(114, 30)).tolist(); w = rng.normal(size=30).tolist()
        public = ctx.copy(); public.make_context_public()
        sizes = {}
        def e2e():
            query = ts.enc_matmul_encoding(ctx, rows).serialize()
            server = ts.lazy_ckks_vector_from(query); server.link_context(public)
            result = (server.enc_matmul_plain(w, 114) + 0.5).serialize()
            client = ts.lazy_ckks_vector_from(result); client.link_context(ctx)
            client.decrypt()
            sizes["query_bytes"] = len(query); sizes["result_bytes"] = len(result)
        timed("e2e", e2e, reps=10)
        out.update(sizes)
        out["keys_bytes"] = len(public.serialize(save_public_key=False, save_secret_key=False,
                                                 save_galois_keys=True, save_relin_keys=True))

        mctx = ts.context(ts.SCHEME_TYPE.CKKS, poly_modulus_degree=8192, coeff_mod_bit_sizes=[49, 40, 40, 40, 49])
        mctx.global_scale = 2 ** 40
        mctx.generate_galois_keys()
        w1 = rng.normal(size=(64, 32)).tolist(); b1 = rng.normal(size=32).tolist()
        w2 = rng.normal(size=(32, 10)).tolist(); b2 = rng.normal(size=10).tolist()
        image = rng.uniform(0, 1, 64).tolist()
        def mlp():
            x = ts.ckks_vector(mctx, image)
            h = x.mm(w1) + b1
            h.square_()
            (h.mm(w2) + b2).decrypt()
        timed("mlp_per_image", mlp, reps=5)
        out["mlp_keys_bytes"] = len(mctx.serialize(save_public_key=False, save_secret_key=False,
                                                   save_galois_keys=True, save_relin_keys=True))
        json.dump(out, sys.stdout)
        """

    /// Runs the TenSEAL side; nil if Python or tenseal is missing.
    static func runTenSEAL() -> [String: Double]? {
        guard let data = VaultBenchmark.pythonOutput(["-c", peerScript]),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object.compactMapValues { ($0 as? NSNumber)?.doubleValue }
    }
}
