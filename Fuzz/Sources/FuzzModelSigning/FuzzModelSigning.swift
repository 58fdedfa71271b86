import Crypto
import Foundation
import ModelSigning

/// A fixed P-256 key, so seeds signed with it verify and reach the statement checks.
let key = try! SigningKey(
    pem: P256.Signing.PrivateKey(rawRepresentation: Data(repeating: 5, count: 32)).pemRepresentation)

/// libFuzzer entry point. Byte 0 picks what the rest is: even, an OpenSSF model-signing Sigstore bundle verified
/// under the fixed key (bundle JSON, DSSE envelope, base64, the signature); odd, an in-toto statement that is
/// wrapped and signed here first, so mutations reach the statement and manifest checks past the signature.
func fuzzModelSigning(_ bytes: [UInt8]) -> Int32 {
    guard let mode = bytes.first else { return 0 }
    let rest = Data(bytes.dropFirst())
    if mode & 1 == 0 {
        _ = try? ModelSignature.open(rest, with: key.verifyingKey)
    } else if let bundle = try? bundle(signing: rest) {
        _ = try? ModelSignature.open(bundle, with: key.verifyingKey)
    }
    return 0
}

/// A bundle as `ModelSignature.sign` writes it, around `payload` (DSSE pre-authentication encoding, ECDSA DER).
func bundle(signing payload: Data) throws -> Data {
    let type = "application/vnd.in-toto+json"
    let pae = Data("DSSEv1 \(type.utf8.count) \(type) \(payload.count) ".utf8) + payload
    guard case .p256(let privateKey) = key else { throw CocoaError(.featureUnsupported) }
    let signature = try privateKey.signature(for: pae).derRepresentation
    let object: [String: Any] = [
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": ["publicKey": ["hint": key.verifyingKey.hint], "tlogEntries": [Any]()],
        "dsseEnvelope": [
            "payload": payload.base64EncodedString(), "payloadType": type,
            "signatures": [["sig": signature.base64EncodedString(), "keyid": ""]],
        ],
    ]
    return try JSONSerialization.data(withJSONObject: object)
}

/// Bundles over one and three files (one with ignored paths), and the statement of the second.
func seeds() throws -> [(String, [UInt8])] {
    func digest(_ text: String) -> [UInt8] { Array(SHA256.hash(data: Data(text.utf8))) }
    let one = try ModelManifest(entries: [.init(path: "model.safetensors", sha256: digest("w"))])
    let three = try ModelManifest(entries: [
        .init(path: "model.safetensors", sha256: digest("w")), .init(path: "model_config.json", sha256: digest("c")),
        .init(path: "sub/dir/tokenizer.json", sha256: digest("t")),
    ])
    let bundleOne = try ModelSignature.sign(one, with: key, modelName: "tiny")
    let bundleThree = try ModelSignature.sign(
        three, with: key, modelName: "three", ignoredPaths: [".git", "README.md"])
    let object = try JSONSerialization.jsonObject(with: bundleThree) as! [String: Any]
    let envelope = object["dsseEnvelope"] as! [String: Any]
    let statement = Data(base64Encoded: envelope["payload"] as! String)!
    return [
        ("one.sigstore.json", [0] + Array(bundleOne)),
        ("three.sigstore.json", [0] + Array(bundleThree)),
        ("statement.json", [1] + Array(statement)),
    ]
}

/// libFuzzer's entry point (its runtime refers to the symbol): the input as an array.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzModelSigning(Array(UnsafeBufferPointer(start: data, count: data == nil ? 0 : size)))
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
