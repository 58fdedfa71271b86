import Foundation
@_spi(Fuzzing) import VaultServer

/// A served model that declares inputs and never runs: the parser is under test, not the model.
struct DeclaredModel: ServedModel {
    let name = "m"
    let version = "1"
    let platform = "fuzz"
    let inputs: [TensorMetadata]
    let outputs = [TensorMetadata(name: "output", datatype: .fp32, shape: [-1, 2])]
    func infer(_ inputs: [String: Tensor]) throws -> [String: Tensor] { [:] }
}

let models = [
    DeclaredModel(inputs: [TensorMetadata(name: "input", datatype: .fp32, shape: [-1, 4])]),
    DeclaredModel(inputs: [
        TensorMetadata(name: "pixels", datatype: .uint8, shape: [-1, 2, 2]),
        TensorMetadata(name: "ids", datatype: .int64, shape: [-1, 3]),
    ]),
]

/// libFuzzer entry point. Byte 0 picks the model (bit 0) and whether bytes 1-2 are a big-endian
/// `Inference-Header-Content-Length` (bit 1, a JSON header followed by binary tensor data); the rest is the body.
func fuzzOIP(_ bytes: [UInt8]) -> Int32 {
    guard let mode = bytes.first else { return 0 }
    var body = bytes.dropFirst()
    var headerLength: Int?
    if mode & 2 != 0 {
        guard body.count >= 2 else { return 0 }
        headerLength = Int(body[body.startIndex]) << 8 | Int(body[body.startIndex + 1])
        body = body.dropFirst(2)
    }
    try? InferenceBodyParser.parse(Array(body), headerLength: headerLength, for: models[Int(mode & 1)])
    return 0
}

/// JSON requests (flat and nested data, parameters, outputs) and binary ones as `tritonclient` sends them.
func seeds() throws -> [(String, [UInt8])] {
    func json(_ model: UInt8, _ text: String) -> [UInt8] { [model] + Array(text.utf8) }
    func binary(_ model: UInt8, _ header: String, _ data: [UInt8]) -> [UInt8] {
        let h = Array(header.utf8)
        return [model | 2, UInt8(h.count >> 8), UInt8(h.count & 0xFF)] + h + data
    }
    let floats = [Float(1), 2.5, -3, 0].flatMap { value in
        withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) }
    }
    let ids = [Int64(7), -1, 1 << 40].flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    return [
        (
            "flat.json",
            json(0, #"{"id":"r1","inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2.5,-3,0]}]}"#)
        ),
        (
            "nested.json",
            json(
                0,
                #"{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[[1,2,3,4],[5,6,7,8]]}],"outputs":[{"name":"output","parameters":{"binary_data":false}}],"parameters":{"binary_data_output":false}}"#
            )
        ),
        (
            "two-inputs.json",
            json(
                1,
                #"{"inputs":[{"name":"pixels","shape":[1,2,2],"datatype":"UINT8","data":[0,1,255,3]},{"name":"ids","shape":[1,3],"datatype":"INT64","data":[7,-1,1099511627776]}]}"#
            )
        ),
        (
            "binary.bin",
            binary(
                0,
                #"{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}]}"#,
                floats)
        ),
        (
            "binary-two.bin",
            binary(
                1,
                #"{"inputs":[{"name":"pixels","shape":[1,2,2],"datatype":"UINT8","parameters":{"binary_data_size":4}},{"name":"ids","shape":[1,3],"datatype":"INT64","parameters":{"binary_data_size":24}}],"outputs":[{"name":"output","parameters":{"binary_data":true}}]}"#,
                [0, 1, 255, 3] + ids)
        ),
    ]
}

/// libFuzzer's entry point (its runtime refers to the symbol): the input as an array.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzOIP(Array(UnsafeBufferPointer(start: data, count: data == nil ? 0 : size)))
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
