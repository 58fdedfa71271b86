import Foundation
import ModelScan

/// libFuzzer entry point: scan the input as a model file (a pickle, by its seeds). Must not crash or hang.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzPickle(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    _ = ModelScanner().scan(bytes: Array(UnsafeBufferPointer(start: data, count: size)), name: "input")
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
exit(runFuzzerDriver(&argc, &argv) { data, size in fuzzPickle(data ?? UnsafePointer(bitPattern: 1)!, size) })
