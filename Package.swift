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
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "modelvault", targets: ["modelvault"]),
        .library(name: "VaultCrypto", targets: ["VaultCrypto"]),
        .library(name: "ModelSigning", targets: ["ModelSigning"]),
        .library(name: "AuditLog", targets: ["AuditLog"]),
        .library(name: "AccessControl", targets: ["AccessControl"]),
        .library(name: "MLCore", targets: ["MLCore"]),
        .library(name: "Homomorphic", targets: ["Homomorphic"]),
        .library(name: "Vault", targets: ["Vault"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
    ],
    targets: [
        // age v1 file format (X25519, scrypt, ML-KEM-768+X25519, armor, STREAM) and legacy Fernet import.
        .target(name: "VaultCrypto", dependencies: [crypto, cryptoExtras], swiftSettings: swiftSettings),
        // OpenSSF model signing: Sigstore bundle v0.3, DSSE, in-toto v1, ECDSA P-256/384/521.
        .target(name: "ModelSigning", dependencies: [crypto, cryptoExtras], swiftSettings: swiftSettings),
        // Append-only RFC 6962 Merkle-tree log with C2SP signed-note checkpoints.
        .target(name: "AuditLog", dependencies: [crypto], swiftSettings: swiftSettings),
        // Roles, permissions, scopes and API-token hashing: one policy for the CLI and the server.
        .target(name: "AccessControl", dependencies: [crypto], swiftSettings: swiftSettings),
        // Tensors, layers, training, safetensors, CSV and metrics.
        // Optimised even in debug builds: the numeric kernels are ~20x slower unoptimised, too slow for the
        // training tests.
        .target(
            name: "MLCore",
            swiftSettings: swiftSettings + [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // CKKS homomorphic encryption and private inference.
        .target(name: "Homomorphic", dependencies: [crypto], swiftSettings: swiftSettings),
        // The public UCI data sets the demo and tests train on (breast cancer, digits).
        .target(name: "SampleData", resources: [.copy("Resources")], swiftSettings: swiftSettings),
        // The vault: catalog, registry, datasets, key ring, access control, audit.
        .target(
            name: "Vault",
            dependencies: [
                "VaultCrypto", "ModelSigning", "AuditLog", "AccessControl", crypto,
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "modelvault",
            dependencies: [
                "VaultCrypto", "ModelSigning", "AuditLog", "MLCore", "Homomorphic", "Vault", "SampleData",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ModelVaultBenchmarks",
            dependencies: ["VaultCrypto", "ModelSigning", "AuditLog", "MLCore", "Homomorphic", "Vault", "SampleData"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VaultCryptoTests", dependencies: ["VaultCrypto"], resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings),
        .testTarget(name: "ModelSigningTests", dependencies: ["ModelSigning"], swiftSettings: swiftSettings),
        .testTarget(name: "AccessControlTests", dependencies: ["AccessControl"], swiftSettings: swiftSettings),
        .testTarget(name: "AuditLogTests", dependencies: ["AuditLog"], swiftSettings: swiftSettings),
        .testTarget(name: "MLCoreTests", dependencies: ["MLCore", "SampleData"], swiftSettings: swiftSettings),
        .testTarget(
            name: "HomomorphicTests", dependencies: ["Homomorphic", "MLCore", "SampleData"],
            swiftSettings: swiftSettings),
        .testTarget(name: "VaultTests", dependencies: ["Vault"], swiftSettings: swiftSettings),
        .testTarget(name: "CLITests", dependencies: ["modelvault"], swiftSettings: swiftSettings),
    ]
)
