import Foundation
import ONNX

/// libFuzzer entry point: load the input as an ONNX ModelProto (protobuf wire format, graph checks). A clear
/// `ONNXError` is fine; a crash, trap or hang is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzONNX(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    _ = try? ONNXModel(bytes: Array(UnsafeBufferPointer(start: data, count: size)))
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
exit(runFuzzerDriver(&argc, &argv) { data, size in fuzzONNX(data ?? UnsafePointer(bitPattern: 1)!, size) })
