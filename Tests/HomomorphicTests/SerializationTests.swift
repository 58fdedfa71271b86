import TestSupport
import Testing

@testable import Homomorphic

@Suite struct SerializationTests {
    let context = Fixtures.d2
    let secretKey: SecretKey

    init() { secretKey = context.generateSecretKey() }

    /// Every deserialiser, as a closure over bytes.
    var parsers: [(String, ([UInt8]) throws -> Void)] {
        [
            ("parameters", { _ = try CKKSParameters(serialized: $0) }),
            ("secret key", { _ = try context.deserializeSecretKey($0) }),
            ("public key", { _ = try context.deserializePublicKey($0) }),
            ("relinearisation key", { _ = try context.deserializeRelinearizationKey($0) }),
            ("Galois keys", { _ = try context.deserializeGaloisKeys($0) }),
            ("ciphertext", { _ = try context.deserializeCiphertext($0) }),
            ("query", { _ = try context.deserializeQuery($0) }),
            ("result", { _ = try context.deserializeResult($0) }),
        ]
    }

    @Test func bitPackingRoundTrips() throws {
        var generator = SplitMix64(state: 3)
        for bits in [2, 7, 13, 40, 49, 60, 61] {
            let bound = UInt64(1) << bits
            let values = (0..<77).map { _ in UInt64.random(in: 0..<bound, using: &generator) }
            var writer = ByteWriter()
            writer.packed(values[...], bits: bits)
            #expect(writer.bytes.count == (77 * bits + 7) / 8)
            var reader = ByteReader(writer.bytes, what: "test")
            var output = [UInt64](repeating: 0, count: 77)
            try reader.packed(count: 77, bits: bits, bound: bound, into: &output, at: 0)
            try reader.finish()
            #expect(output == values)
        }
    }

    @Test func objectsRoundTrip() throws {
        let parameters = context.parameters
        #expect(try CKKSParameters(serialized: parameters.serialized()) == parameters)

        let restoredSecret = try context.deserializeSecretKey(context.serialize(secretKey))
        #expect(restoredSecret.poly == secretKey.poly)
        #expect(context.serialize(secretKey).count == 14 + context.degree / 4)

        let publicKey = context.generatePublicKey(for: secretKey)
        #expect(try context.deserializePublicKey(context.serialize(publicKey)) == publicKey)

        let relinearizationKey = context.generateRelinearizationKey(for: secretKey)
        let relinBytes = context.serialize(relinearizationKey)
        #expect(try context.deserializeRelinearizationKey(relinBytes) == relinearizationKey)

        let galoisKeys = context.generateGaloisKeys(for: secretKey, rotations: [1, -1])
        #expect(try context.deserializeGaloisKeys(context.serialize(galoisKeys)) == galoisKeys)

        let values: [Double] = [1.5, -2.25, 3.125]
        let seeded = try context.encrypt(values, using: secretKey)
        let seededBytes = context.serialize(seeded)
        let restored = try context.deserializeCiphertext(seededBytes)
        #expect(restored == seeded)
        #expect(maxError(Array(context.decryptValues(restored, using: secretKey).prefix(3)), values) < 1e-7)
        let unseeded = try context.encrypt(values, using: context.generatePublicKey(for: secretKey))
        let unseededBytes = context.serialize(unseeded)
        #expect(try context.deserializeCiphertext(unseededBytes) == unseeded)
        // The seeded form is half the size (plus the 32-byte seed).
        #expect(seededBytes.count < unseededBytes.count / 2 + 64)
        let three = try context.multiplyWithoutRelinearization(unseeded, unseeded)
        #expect(try context.deserializeCiphertext(context.serialize(three)) == three)

        let client = PrivateInferenceClient(context: context, secretKey: secretKey)
        let query = try client.encrypt(rows: [[1, 2, 3], [4, 5, 6]], packing: .coefficientRows)
        #expect(try context.deserializeQuery(context.serialize(query)) == query)
        let model = try LinearModel(weights: [[0.5, -1, 2]], bias: [0.25])
        let result = try PrivateInferenceServer.evaluate(
            query, model: .linear(model), keys: client.evaluationKeys(for: .coefficientRows), context: context)
        let resultBytes = context.serialize(result)
        let parsed = try context.deserializeResult(resultBytes)
        #expect(parsed == result)
        let scores = try client.decrypt(parsed)
        // Exact up to the flooding noise (uniform, at most `linearScoreError`).
        let tolerance = PrivateInferencePolicy.standard(for: .linear(model)).linearScoreError + 1e-6
        #expect(abs(scores[0][0] - model.scores([1, 2, 3])[0]) < tolerance)
        #expect(abs(scores[1][0] - model.scores([4, 5, 6])[0]) < tolerance)
    }

    /// One valid encoding of every object kind (small where possible).
    func samples() throws -> [(String, [UInt8])] {
        let client = PrivateInferenceClient(context: context, secretKey: secretKey)
        let query = try client.encrypt(rows: [[1, 2]], packing: .coefficientRows)
        let model = try LinearModel(weights: [[1, 1]], bias: [0])
        let result = try PrivateInferenceServer.evaluate(
            query, model: .linear(model), keys: client.evaluationKeys(for: .coefficientRows), context: context)
        return [
            ("parameters", context.parameters.serialized()),
            ("secret key", context.serialize(secretKey)),
            ("public key", context.serialize(context.generatePublicKey(for: secretKey))),
            ("relinearisation key", context.serialize(context.generateRelinearizationKey(for: secretKey))),
            ("Galois keys", context.serialize(context.generateGaloisKeys(for: secretKey, rotations: [1]))),
            ("ciphertext", context.serialize(try context.encrypt([1], using: secretKey))),
            ("query", context.serialize(query)),
            ("result", context.serialize(result)),
        ]
    }

    @Test func randomAndTruncatedBytesAreRejectedByEveryParser() throws {
        let valid = try samples()
        var generator = SplitMix64(state: 99)
        for ((name, parse), (_, bytes)) in zip(parsers, valid) {
            // The valid encoding parses.
            try parse(bytes)
            // Truncations at many lengths, including inside the header and the last byte.
            var lengths = [0, 1, 4, 5, 6, 13, 14, 17, 18, 40, bytes.count / 2, bytes.count - 1]
            lengths += (0..<6).map { _ in Int.random(in: 0..<bytes.count, using: &generator) }
            for length in lengths where length < bytes.count {
                #expect(throws: HEError.self, "\(name) truncated") { try parse(Array(bytes.prefix(length))) }
            }
            // Trailing garbage.
            #expect(throws: HEError.self, "\(name) extended") { try parse(bytes + [0]) }
            // Random bytes, and random bytes behind a valid header.
            for _ in 0..<5 {
                let noise = (0..<Int.random(in: 0..<4096, using: &generator)).map { _ in
                    UInt8.random(in: 0...255, using: &generator)
                }
                #expect(throws: HEError.self, "\(name) random") { try parse(noise) }
                #expect(throws: HEError.self, "\(name) random body") { try parse(Array(bytes.prefix(14)) + noise) }
            }
        }
    }

    @Test func outOfRangeResiduesAndForeignParametersAreRejected() throws {
        var bytes = context.serialize(try context.encrypt([1, 2, 3], using: secretKey))
        // Header (14) + size, level, scale, seeded flag (11) + seed (32): the first residue follows.
        for i in 57..<65 { bytes[i] = 0xFF }
        #expect(throws: HEError.malformedData("ciphertext")) { try context.deserializeCiphertext(bytes) }
        let other = try CKKSContext(
            parameters: CKKSParameters(polyDegree: 4096, coefficientBitSizes: [36, 36, 37], scale: 0x1p30))
        let foreign = other.serialize(try other.encrypt([1], using: other.generateSecretKey()))
        #expect(throws: HEError.parametersMismatch) { try context.deserializeCiphertext(foreign) }
    }
}

@Suite struct ParameterSizeTests {
    @Test func advertisedSizesMatchSerialisedObjects() throws {
        let context = Fixtures.d2
        let parameters = context.parameters
        let secretKey = context.generateSecretKey()
        #expect(context.serialize(secretKey).count == parameters.secretKeySize)
        #expect(context.serialize(context.generatePublicKey(for: secretKey)).count == parameters.publicKeySize)
        let relinearizationKey = context.generateRelinearizationKey(for: secretKey)
        #expect(context.serialize(relinearizationKey).count == parameters.relinearizationKeySize)
        let galois = context.generateGaloisKeys(for: secretKey, rotations: [1, 2])
        #expect(context.serialize(galois).count == parameters.galoisKeysSize(rotations: 2))
        let seeded = try context.encrypt([1], using: secretKey)
        #expect(context.serialize(seeded).count == parameters.ciphertextSize(level: 2, seeded: true))
        let lower = try context.rescale(context.multiply(seeded, byConstant: 2))
        #expect(context.serialize(lower).count == parameters.ciphertextSize(level: 1, seeded: false))
        // Secret keys never print.
        #expect(String(reflecting: secretKey) == "SecretKey(<redacted>)")
        var dumped = ""
        dump(secretKey, to: &dumped)
        #expect(!dumped.contains("data"))
    }
}
