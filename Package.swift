// swift-tools-version:6.0
import PackageDescription

/// Settings shared by every target: Swift 6 language mode (strict concurrency) everywhere.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")
let cryptoExtras: Target.Dependency = .product(name: "_CryptoExtras", package: "swift-crypto")

let package = Package(
    name: "ModelVault",
    // Linux is what is built and tested. On macOS the code needs 15 (Synchronization's Mutex and Atomic); it is
    // not tested there.
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "modelvault", targets: ["modelvault"]),
        .library(name: "VaultCrypto", targets: ["VaultCrypto"]),
        .library(name: "ModelSigning", targets: ["ModelSigning"]),
        .library(name: "AuditLog", targets: ["AuditLog"]),
        .library(name: "AccessControl", targets: ["AccessControl"]),
        .library(name: "MLCore", targets: ["MLCore"]),
        .library(name: "Homomorphic", targets: ["Homomorphic"]),
        .library(name: "Vault", targets: ["Vault"]),
        .library(name: "Deployment", targets: ["Deployment"]),
        .library(name: "VaultServer", targets: ["VaultServer"]),
        .library(name: "VaultServing", targets: ["VaultServing"]),
        .library(name: "ModelScan", targets: ["ModelScan"]),
        .library(name: "ProtobufWire", targets: ["ProtobufWire"]),
        .library(name: "ONNX", targets: ["ONNX"]),
        .library(name: "VaultClient", targets: ["VaultClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        // age v1 file format (X25519, scrypt, ML-KEM-768+X25519, armor, STREAM) and legacy Fernet import.
        .target(name: "VaultCrypto", dependencies: [crypto, cryptoExtras], swiftSettings: swiftSettings),
        // OpenSSF model signing: Sigstore bundle v0.3, DSSE, in-toto v1, ECDSA P-256/384/521.
        .target(name: "ModelSigning", dependencies: [crypto], swiftSettings: swiftSettings),
        // Append-only RFC 6962 Merkle-tree log with C2SP signed-note checkpoints.
        .target(name: "AuditLog", dependencies: [crypto], swiftSettings: swiftSettings),
        // Roles, permissions, scopes and API-token hashing: one policy for the CLI and the server.
        .target(name: "AccessControl", dependencies: [crypto], swiftSettings: swiftSettings),
        // Tensors, layers, training, safetensors, CSV and metrics. No unsafe flags: the training tests that need
        // optimised kernels run in the release test build (see ARCHITECTURE.md, "Tests and CI").
        .target(name: "MLCore", swiftSettings: swiftSettings),
        // CKKS homomorphic encryption and private inference.
        .target(name: "Homomorphic", dependencies: [crypto], swiftSettings: swiftSettings),
        // The public UCI data sets the demo and tests train on (breast cancer, digits).
        .target(name: "SampleData", resources: [.copy("Resources")], swiftSettings: swiftSettings),
        // Model supply-chain scanner: pickle abstract interpretation, strict zip, PyTorch, numpy, Keras, GGUF,
        // safetensors; detects formats by content and never executes what it reads.
        .target(name: "ModelScan", dependencies: ["ProtobufWire"], swiftSettings: swiftSettings),
        // A bounded, hand-written protobuf wire-format reader and writer (ONNX models, the scanner).
        .target(name: "ProtobufWire", swiftSettings: swiftSettings),
        // Dedicated threads for blocking work (file I/O, SQLite, decryption), off the cooperative pool.
        .target(name: "BlockingWork", swiftSettings: swiftSettings),
        // ONNX models: parsing, graph checks and an interpreter for the supported operators.
        .target(name: "ONNX", dependencies: ["ProtobufWire"], swiftSettings: swiftSettings),
        // The vault: catalog, registry, datasets, key ring, access control, audit.
        .target(
            name: "Vault",
            dependencies: [
                "VaultCrypto", "ModelSigning", "AuditLog", "AccessControl", "ModelScan", "BlockingWork", crypto,
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // Dockerfile, Kubernetes manifests and deployment_config.yaml for one model version.
        .target(name: "Deployment", swiftSettings: swiftSettings),
        // TLS inference and registry server: Open Inference Protocol v2, /v1 registry API, limits, metrics.
        .target(
            name: "VaultServer",
            dependencies: [
                "BlockingWork", crypto,
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Resources")],
            swiftSettings: swiftSettings
        ),
        // The vault behind the server: token authenticator, request auditor, verified model catalog, registry.
        .target(
            name: "VaultServing",
            dependencies: [
                "Vault", "VaultServer", "MLCore", "AccessControl", "AuditLog", "Homomorphic", "ONNX", "BlockingWork",
                "Deployment", "ModelScan", crypto,
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The server's client: remote mode of the CLI (the caller holds a token, never a vault key).
        .target(
            name: "VaultClient",
            dependencies: [
                "VaultServer", "VaultCrypto", "ModelSigning", "BlockingWork", crypto,
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "modelvault",
            dependencies: [
                "VaultCrypto", "ModelSigning", "AuditLog", "AccessControl", "MLCore", "Homomorphic", "Vault",
                "BlockingWork",
                "SampleData", "Deployment", "VaultServer", "VaultServing", "ModelScan", "ONNX", "VaultClient", crypto,
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                // The demo's HTTPS client and the in-process server's lifecycle.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // The demo's attacker writes catalog.sqlite with plain SQL.
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ModelVaultBenchmarks",
            dependencies: [
                "VaultCrypto", "ModelSigning", "AuditLog", "MLCore", "Homomorphic", "Vault", "SampleData", "ModelScan",
                "VaultClient", "VaultServer", crypto,
            ],
            swiftSettings: swiftSettings
        ),
        // ONNX interpreter vs onnxruntime (latency and throughput); depends on the ONNX module alone.
        .executableTarget(name: "ONNXBenchmarks", dependencies: ["ONNX"], swiftSettings: swiftSettings),
        // What every test target shares: the interop skip-or-fail rule, a child-process runner, temporary
        // directories and the built `modelvault` binary. Not a product; only the test targets use it.
        .target(
            name: "TestSupport", dependencies: ["ProtobufWire"], path: "Tests/TestSupport", swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VaultCryptoTests", dependencies: ["VaultCrypto", "TestSupport", crypto],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ModelSigningTests", dependencies: ["ModelSigning", "TestSupport", crypto],
            swiftSettings: swiftSettings),
        .testTarget(name: "AccessControlTests", dependencies: ["AccessControl"], swiftSettings: swiftSettings),
        .testTarget(
            name: "AuditLogTests", dependencies: ["AuditLog", "TestSupport", crypto], swiftSettings: swiftSettings),
        .testTarget(
            name: "MLCoreTests", dependencies: ["MLCore", "SampleData", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "HomomorphicTests", dependencies: ["Homomorphic", "SampleData", "TestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "VaultTests",
            dependencies: [
                "Vault", "VaultCrypto", "ModelSigning", "AccessControl", "AuditLog", "ModelScan", "TestSupport",
                "BlockingWork", crypto, .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "DeploymentTests", dependencies: ["Deployment", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "VaultServerTests",
            dependencies: [
                "VaultServer", "TestSupport", "Homomorphic", crypto,
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "VaultServingTests",
            dependencies: [
                "VaultServing", "VaultServer", "Vault", "VaultCrypto", "MLCore", "SampleData", "AccessControl",
                "AuditLog", "TestSupport", "VaultClient",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                // The mutual TLS tests: client certificates, and an attacker's planted catalog row.
                .product(name: "X509", package: "swift-certificates"), crypto,
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ModelScanTests", dependencies: ["ModelScan", "ProtobufWire", "TestSupport"],
            swiftSettings: swiftSettings),
        // Everything that runs the built `modelvault` binary: depending on the executable makes `swift test`
        // build it first, so these tests never run a stale one.
        .testTarget(
            name: "CLITests",
            dependencies: [
                "modelvault", "TestSupport", "AccessControl", "Deployment", crypto,
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "VaultClientTests",
            dependencies: ["VaultClient", "VaultServer", "ModelSigning", "TestSupport", crypto],
            swiftSettings: swiftSettings),
        .testTarget(name: "ProtobufWireTests", dependencies: ["ProtobufWire"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ONNXTests", dependencies: ["ONNX", "ProtobufWire", "TestSupport"], swiftSettings: swiftSettings),
    ]
)
