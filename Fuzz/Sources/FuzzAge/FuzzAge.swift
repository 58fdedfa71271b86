import Foundation
import VaultCrypto

/// A fixed identity, so seeds encrypted to it reach the payload; other inputs exercise the header parser.
let identity = try! AgeX25519Identity("AGE-SECRET-KEY-1C092QNJR55LNQPNW6A860PZYZWEGQ2WCUNT54KG77KRZD90RR62QDFD5TT")

/// libFuzzer entry point: decrypt the input (binary or armored age). A clear error is fine; a crash is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzAge(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    _ = try? Age.decrypt(Data(bytes: data, count: size), using: [identity])
    return 0
}

// SwiftPM links an executable's `main` to this module's top-level code, so it hands over to libFuzzer here.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(runFuzzerDriver(&argc, &argv) { data, size in fuzzAge(data ?? UnsafePointer(bitPattern: 1)!, size) })
