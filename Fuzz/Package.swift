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
        .executable(name: "fuzz-age-armor", targets: ["FuzzAgeArmor"]),
        .executable(name: "fuzz-safetensors", targets: ["FuzzSafeTensors"]),
        .executable(name: "fuzz-model-config", targets: ["FuzzModelConfig"]),
        .executable(name: "fuzz-csv", targets: ["FuzzCSV"]),
        .executable(name: "fuzz-oip", targets: ["FuzzOIP"]),
        .executable(name: "fuzz-ckks", targets: ["FuzzCKKS"]),
        .executable(name: "fuzz-signed-note", targets: ["FuzzSignedNote"]),
        .executable(name: "fuzz-model-signing", targets: ["FuzzModelSigning"]),
        .executable(name: "fuzz-hdf5", targets: ["FuzzHDF5"]),
    ],
    dependencies: [
        .package(name: modelVault, path: ".."),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        // The model scanner on a raw pickle (protocols 0-5): the abstract interpreter.
        .executableTarget(name: "FuzzPickle", dependencies: [.product(name: "ModelScan", package: modelVault)]),
        // The model scanner on a zip container: strict zip parsing, inflate, PyTorch/numpy/Keras members.
        .executableTarget(name: "FuzzZip", dependencies: [.product(name: "ModelScan", package: modelVault)]),
        // ONNX model loading: the protobuf wire reader, the ModelProto parser and the graph checks.
        .executableTarget(name: "FuzzONNX", dependencies: [.product(name: "ONNX", package: modelVault)]),
        // age decryption with a fixed identity: header (stanzas, MAC), armor and the STREAM payload.
        .executableTarget(name: "FuzzAge", dependencies: [.product(name: "VaultCrypto", package: modelVault)]),
        // age armor: the strict PEM decoder (columns, padding, line ends, end line), then decryption.
        .executableTarget(name: "FuzzAgeArmor", dependencies: [.product(name: "VaultCrypto", package: modelVault)]),
        // model.safetensors: header length, JSON header, offsets, dtypes, shapes, float32 conversion.
        .executableTarget(name: "FuzzSafeTensors", dependencies: [.product(name: "MLCore", package: modelVault)]),
        // model_config.json: decoding, shape and size arithmetic, rebuilding a network from it.
        .executableTarget(name: "FuzzModelConfig", dependencies: [.product(name: "MLCore", package: modelVault)]),
        // CSV datasets: the RFC 4180 parser and reading a labelled dataset.
        .executableTarget(name: "FuzzCSV", dependencies: [.product(name: "MLCore", package: modelVault)]),
        // Open Inference Protocol request bodies, JSON and JSON + binary tensor data.
        .executableTarget(name: "FuzzOIP", dependencies: [.product(name: "VaultServer", package: modelVault)]),
        // The CKKS wire format: private-inference requests (parameters, keys, query) and results.
        .executableTarget(name: "FuzzCKKS", dependencies: [.product(name: "Homomorphic", package: modelVault)]),
        // Signed notes, checkpoints, witness cosignatures, add-checkpoint bodies and verifier keys.
        .executableTarget(
            name: "FuzzSignedNote",
            dependencies: [
                .product(name: "AuditLog", package: modelVault), .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // OpenSSF model signing: Sigstore bundles, DSSE envelopes, in-toto statements.
        .executableTarget(
            name: "FuzzModelSigning",
            dependencies: [
                .product(name: "ModelSigning", package: modelVault), .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // The model scanner on a legacy Keras .h5: the bounded HDF5 walker and the Keras config checks.
        .executableTarget(name: "FuzzHDF5", dependencies: [.product(name: "ModelScan", package: modelVault)]),
    ]
)
