import Foundation
import ModelScan

/// libFuzzer entry point: scan the input as a zip container (deep: every member's CRC). Inputs that do not
/// start like a zip get the local-header magic, so mutations stay in the zip parser.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzZip(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if !bytes.starts(with: [0x50, 0x4B]) { bytes.insert(contentsOf: [0x50, 0x4B, 0x03, 0x04], at: 0) }
    _ = ModelScanner(deep: true).scan(bytes: bytes, name: "input")
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
exit(runFuzzerDriver(&argc, &argv) { data, size in fuzzZip(data ?? UnsafePointer(bitPattern: 1)!, size) })
