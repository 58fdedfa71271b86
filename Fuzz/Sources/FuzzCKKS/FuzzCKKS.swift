import Foundation
@_spi(Fuzzing) import Homomorphic

/// A small ring that passes the 128-bit bound (N = 2048, two 27-bit primes), so seeds stay a few kilobytes.
/// The policy allows exactly it.
let parameters = try! CKKSParameters(polyDegree: 2048, coefficientBitSizes: [27, 27], scale: 0x1p20)
let context = try! CKKSContext(parameters: parameters)
let model = try! LinearModel(weights: [[0.5, -1, 0.25, 2], [1, 0, -0.5, 0.125]], bias: [0.1, -0.2])
let endpoint = try! PrivateInferenceEndpoint(
    model: .linear(model), policy: PrivateInferencePolicy(allowing: [parameters], weightNormBound: 3))

/// libFuzzer entry point. Byte 0 picks what the rest is: even, a private-inference request as the server parses
/// it (framing, parameters and their allow-list, public and relinearisation keys, the query's shape and
/// packed coefficients); odd, an encrypted result as the client parses the server's answer.
func fuzzCKKS(_ bytes: [UInt8]) -> Int32 {
    guard let mode = bytes.first else { return 0 }
    if mode & 1 == 0 {
        try? endpoint.parseRequest(Array(bytes.dropFirst()))
    } else {
        _ = try? context.deserializeResult(Array(bytes.dropFirst()))
    }
    return 0
}

/// Requests with one and three rows (the second with a relinearisation key) and a result with two classes.
/// Evaluation is not fuzzed, so this small ring need not fit the circuit: the query and result are assembled from
/// serialised ciphertexts (wire header: magic, version, kind, parameters ID; little-endian counts).
func seeds() throws -> [(String, [UInt8])] {
    let client = PrivateInferenceClient(context: context)
    func ciphertextBody(_ values: [Double]) throws -> [UInt8] {
        var coefficients = [Double](repeating: 0, count: context.degree)
        coefficients.replaceSubrange(0..<values.count, with: values)
        let plaintext = try context.encodeCoefficients(coefficients, scale: parameters.scale, level: 0)
        return Array(context.serialize(context.encrypt(plaintext, using: client.secretKey)).dropFirst(14))
    }
    func header(kind: UInt8) -> [UInt8] {
        var bytes = Array(parameters.serialized().prefix(14))
        bytes[5] = kind
        return bytes
    }
    func u32(_ value: Int) -> [UInt8] { withUnsafeBytes(of: UInt32(value).littleEndian) { Array($0) } }
    func request(rows: Int, relinearization: Bool) throws -> [UInt8] {
        let query =
            header(kind: 7) + [QueryPacking.coefficientRows.rawValue] + u32(rows) + u32(4) + u32(1)
            + (try ciphertextBody((0..<(rows * 4)).map { Double($0) / 16 }))
        let sections = [
            parameters.serialized(), context.serialize(client.evaluationKeys(for: .coefficientRows).publicKey!),
            relinearization ? context.serialize(context.generateRelinearizationKey(for: client.secretKey)) : [],
            query,
        ]
        var bytes = Array("MVHE-PIR1".utf8)
        for section in sections {
            bytes += withUnsafeBytes(of: UInt32(section.count).bigEndian) { Array($0) } + section
        }
        return bytes
    }
    let result =
        header(kind: 8) + [QueryPacking.coefficientRows.rawValue] + u32(1) + u32(4) + u32(2) + u32(2)
        + (try ciphertextBody([0.5])) + (try ciphertextBody([-0.25]))
    return [
        ("request-one-row.bin", [0] + (try request(rows: 1, relinearization: false))),
        ("request-three-rows.bin", [0] + (try request(rows: 3, relinearization: true))),
        ("result.bin", [1] + result),
    ]
}

/// libFuzzer's entry point (its runtime refers to the symbol): the input as an array.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzCKKS(Array(UnsafeBufferPointer(start: data, count: data == nil ? 0 : size)))
}

// SwiftPM links an executable's `main` to this module's top-level code, so it hands over to libFuzzer here.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

// `FUZZ_WRITE_SEEDS=DIR` writes the seed corpus (how Fuzz/Corpus/TARGET was made) instead of fuzzing.
if let directory = ProcessInfo.processInfo.environment["FUZZ_WRITE_SEEDS"] {
    for (name, bytes) in try seeds() {
        try Data(bytes).write(to: URL(filePath: directory).appending(path: name))
    }
    exit(0)
}
var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(runFuzzerDriver(&argc, &argv) { data, size in testOneInput(data, size) })
