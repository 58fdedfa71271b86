import Foundation
import MLCore

/// Weights of the logistic seed's shapes, so configurations that still match them build and load a network.
/// (Held as an array: LeakSanitizer does not see a `Data`'s storage through its tagged enum payload.)
let weights = [UInt8](
    SafeTensors.encode([
        "layers.0.weight": Tensor(shape: [16, 3], scalars: [Float](repeating: 0.1, count: 48)),
        "layers.0.bias": Tensor(shape: [3], scalars: [0, 0, 0]),
    ]))

/// libFuzzer entry point: decode `model_config.json` (the checked arithmetic on shapes and layer sizes) and
/// rebuild a model from it, as loading a pushed model version does.
func fuzzModelConfig(_ bytes: [UInt8]) -> Int32 {
    let data = Data(bytes)
    if (try? ModelConfig(jsonData: data)) != nil {
        _ = try? TrainedModel(files: [TrainedModel.configFileName: data, TrainedModel.weightsFileName: Data(weights)])
    }
    return 0
}

/// A tiny model of `kind` trained for one epoch on a synthetic 4x4 "image" dataset with three classes.
func trainedFiles(kind: ModelKind) throws -> [String: Data] {
    var csv = (0..<16).map { "p\($0)" }.joined(separator: ",") + ",label\n"
    for row in 0..<30 {
        csv += (0..<16).map { String(Double(($0 * 7 + row * 3) % 11) / 10) }.joined(separator: ",")
        csv += ",\(["a", "b", "c"][row % 3])\n"
    }
    var options = TrainingOptions(kind: kind)
    options.epochs = 1
    options.hidden = [4]
    if kind == .cnn { options.imageShape = ImageShape(height: 4, width: 4, channels: 1) }
    return try Trainer.fit(Dataset.csv(Data(csv.utf8), label: "label"), options: options).files()
}

/// The `model_config.json` of a logistic, an MLP, a CNN and a square (CKKS-friendly) model.
func seeds() throws -> [(String, [UInt8])] {
    try [ModelKind.logistic, .mlp, .cnn, .heMLP].map { kind in
        ("\(kind.rawValue).json", Array(try trainedFiles(kind: kind)[TrainedModel.configFileName]!))
    }
}

/// libFuzzer's entry point (its runtime refers to the symbol): the input as an array.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzModelConfig(Array(UnsafeBufferPointer(start: data, count: data == nil ? 0 : size)))
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
