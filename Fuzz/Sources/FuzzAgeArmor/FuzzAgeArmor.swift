import Foundation
import VaultCrypto

/// A fixed identity (the one `fuzz-age` uses), so armored seeds encrypted to it reach the payload.
let identity = try! AgeX25519Identity("AGE-SECRET-KEY-1C092QNJR55LNQPNW6A860PZYZWEGQ2WCUNT54KG77KRZD90RR62QDFD5TT")
let beginLine = Array("-----BEGIN AGE ENCRYPTED FILE-----\n".utf8)

/// libFuzzer entry point: decrypt the input as armored age. Inputs that do not start like armor get the begin
/// line, so mutations stay in the strict PEM decoder (columns, padding, line ends, end line, trailing data).
func fuzzAgeArmor(_ bytes: [UInt8]) -> Int32 {
    let input = bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: " ") ? bytes : beginLine + bytes
    _ = try? Age.decrypt(Data(input), using: [identity])
    return 0
}

/// Armored files to the fixed identity: LF and CRLF line ends, a short and a multi-line body, surrounding space.
func seeds() throws -> [(String, [UInt8])] {
    let recipient = identity.recipient
    func armored(_ plaintext: String) throws -> String {
        String(decoding: try Age.encrypt(Data(plaintext.utf8), to: [recipient], armored: true), as: UTF8.self)
    }
    let long = try armored(String(repeating: "model weights ", count: 20))
    return [
        ("short.age.txt", Array(try armored("hi").utf8)),
        ("multiline.age.txt", Array(long.utf8)),
        ("crlf.age.txt", Array(long.replacingOccurrences(of: "\n", with: "\r\n").utf8)),
        ("whitespace.age.txt", Array(("\n  " + (try armored("")) + "\n\n").utf8)),
    ]
}

/// libFuzzer's entry point (its runtime refers to the symbol): the input as an array.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzAgeArmor(Array(UnsafeBufferPointer(start: data, count: data == nil ? 0 : size)))
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
