import Foundation
import MLCore

/// libFuzzer entry point: decode the input as `model.safetensors` (header length, JSON header, offsets, dtypes,
/// shapes) and convert every tensor to float32, as loading a pushed model does.
func fuzzSafeTensors(_ bytes: [UInt8]) -> Int32 {
    if let file = try? SafeTensors.decode(Data(bytes)) { _ = try? file.float32Tensors() }
    return 0
}

/// Files written by the encoder: one tensor, several shapes with metadata, a scalar and an empty tensor.
func seeds() throws -> [(String, [UInt8])] {
    let weight = Tensor(shape: [3, 2], scalars: [0.5, -1, 2, 0, 1e-3, 7])
    let bias = Tensor(shape: [2], scalars: [0.25, -0.25])
    return [
        ("one.safetensors", Array(SafeTensors.encode(["layers.0.weight": weight]))),
        (
            "layers.safetensors",
            Array(
                SafeTensors.encode(
                    [
                        "layers.0.weight": weight, "layers.0.bias": bias,
                        "layers.2.weight": Tensor(shape: [2, 1], scalars: [1, 2]),
                    ],
                    metadata: ["format": "pt", "producer": "modelvault"]))
        ),
        ("scalar.safetensors", Array(SafeTensors.encode(["s": Tensor(shape: [], scalars: [3])]))),
        ("empty.safetensors", Array(SafeTensors.encode(["e": Tensor(shape: [0, 4], scalars: [])]))),
    ]
}

/// libFuzzer's entry point (its runtime refers to the symbol): the input as an array.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzSafeTensors(Array(UnsafeBufferPointer(start: data, count: data == nil ? 0 : size)))
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
