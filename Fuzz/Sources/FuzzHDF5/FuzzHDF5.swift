import Foundation
import ModelScan

/// libFuzzer entry point: scan the input as a legacy Keras `.h5` (the bounded HDF5 walker: superblock, object
/// headers, committed datatypes, dense attribute storage, global heap; then the Keras config checks). Inputs that
/// do not start with the HDF5 signature get it, so mutations stay in the walker.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzHDF5(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
    if !bytes.starts(with: signature) { bytes.insert(contentsOf: signature, at: 0) }
    _ = ModelScanner().scan(bytes: bytes, name: "input")
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
exit(runFuzzerDriver(&argc, &argv) { data, size in fuzzHDF5(data ?? UnsafePointer(bitPattern: 1)!, size) })
