// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for the parsers untrusted bytes reach. A package of its own, depending on ModelVault by path,
// so sanitizer flags never reach the main package's products: `Fuzz/run.sh` builds these with
// `-Xswiftc -sanitize=fuzzer,address` (every Swift module instrumented for coverage and ASan) and runs them.
// Each target is one file defining `LLVMFuzzerTestOneInput` (no main.swift: libFuzzer supplies `main`).
let modelVault = "ModelVault"

let package = Package(
    name: "ModelVaultFuzz",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fuzz-pickle", targets: ["FuzzPickle"]),
        .executable(name: "fuzz-zip", targets: ["FuzzZip"]),
        .executable(name: "fuzz-onnx", targets: ["FuzzONNX"]),
        .executable(name: "fuzz-age", targets: ["FuzzAge"]),
    ],
    dependencies: [.package(name: modelVault, path: "..")],
    targets: [
        // The model scanner on a raw pickle (protocols 0-5): the abstract interpreter.
        .executableTarget(name: "FuzzPickle", dependencies: [.product(name: "ModelScan", package: modelVault)]),
        // The model scanner on a zip container: strict zip parsing, inflate, PyTorch/numpy/Keras members.
        .executableTarget(name: "FuzzZip", dependencies: [.product(name: "ModelScan", package: modelVault)]),
        // ONNX model loading: the protobuf wire reader, the ModelProto parser and the graph checks.
        .executableTarget(name: "FuzzONNX", dependencies: [.product(name: "ONNX", package: modelVault)]),
        // age decryption with a fixed identity: header (stanzas, MAC), armor and the STREAM payload.
        .executableTarget(name: "FuzzAge", dependencies: [.product(name: "VaultCrypto", package: modelVault)]),
    ]
)
