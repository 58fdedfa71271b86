import AuditLog
import Crypto
import Foundation

/// A fixed log key and witness key, so seeds signed with them verify and reach the checkpoint parser.
let logKey = try! Curve25519.Signing.PrivateKey(rawRepresentation: Data(repeating: 7, count: 32))
let witnessKey = try! Curve25519.Signing.PrivateKey(rawRepresentation: Data(repeating: 9, count: 32))
let signer = try! NoteSigner(name: "modelvault.example/log", key: logKey)
let cosigner = try! CosignatureSigner(name: "witness.example", key: witnessKey)
let verifier = signer.verifier
let cosignatureVerifier = try! CosignatureVerifier(name: "witness.example", publicKey: witnessKey.publicKey)

/// libFuzzer entry point. Byte 0 picks what the rest is: 0, a signed checkpoint note verified under the log key
/// (signature lines, key IDs, then the checkpoint text); 1, checkpoint text signed here first, so mutations
/// reach the checkpoint parser past the signature; 2, a witness cosignature; 3, a witness `add-checkpoint`
/// request body; 4, a verifier key (`vkey`) line.
func fuzzSignedNote(_ bytes: [UInt8]) -> Int32 {
    guard let mode = bytes.first else { return 0 }
    let rest = Data(bytes.dropFirst())
    let text = String(decoding: rest, as: UTF8.self)
    switch mode % 5 {
    case 0: _ = try? SignedCheckpoint(verifying: text, with: verifier)
    case 1:
        if let note = try? signer.sign(text) { _ = try? SignedCheckpoint(verifying: note, with: verifier) }
    case 2: _ = try? cosignatureVerifier.verify(text)
    case 3:
        if let request = try? AddCheckpointRequest(body: rest) {
            _ = try? SignedCheckpoint(verifying: request.checkpoint, with: verifier)
        }
    default:
        _ = try? NoteVerifier(vkey: text)
        _ = try? CosignatureVerifier(vkey: text)
    }
    return 0
}

/// A signed checkpoint, its text, a cosigned one, an add-checkpoint request with a proof line, and the vkeys.
func seeds() throws -> [(String, [UInt8])] {
    let root = TreeHash(bytes: Array(repeating: UInt8(0xAB), count: 32))!
    let checkpoint = Checkpoint(origin: signer.name, size: 12, rootHash: root)
    let signed = try SignedCheckpoint(signing: checkpoint, with: signer)
    let cosigned = try cosigner.cosign(body: checkpoint.text, at: 1_764_720_000)
    let request = AddCheckpointRequest(oldSize: 3, proof: [root, root], checkpoint: signed.note)
    return [
        ("checkpoint.note", [0] + Array(signed.note.utf8)),
        ("checkpoint.txt", [1] + Array(checkpoint.text.utf8)),
        ("cosigned.note", [2] + Array(cosigned.utf8)),
        ("add-checkpoint.body", [3] + Array(request.body)),
        ("log.vkey", [4] + Array(verifier.vkey.utf8)),
        ("witness.vkey", [4] + Array(cosignatureVerifier.vkey.utf8)),
    ]
}

/// libFuzzer's entry point (its runtime refers to the symbol): the input as an array.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzSignedNote(Array(UnsafeBufferPointer(start: data, count: data == nil ? 0 : size)))
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
