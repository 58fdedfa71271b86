import Foundation
import MLCore

/// libFuzzer entry point: parse the input as CSV (quotes, line ends, byte-order mark, UTF-8) and read it as a
/// labelled dataset on its last column, as `data add`, `train`, `evaluate` and `predict` do.
func fuzzCSV(_ bytes: [UInt8]) -> Int32 {
    if let table = try? CSVTable.parse(Data(bytes)), let label = table.header.last {
        _ = try? Dataset.csv(table, label: label)
    }
    return 0
}

/// Plain, quoted (commas, doubled quotes and line breaks inside fields), CRLF with a byte-order mark, numeric
/// labels, and a header only.
func seeds() throws -> [(String, [UInt8])] {
    [
        ("plain.csv", "a,b,label\n1,2,x\n3.5,-4e2,y\n0,0,x\n"),
        ("quoted.csv", "\"a,1\",\"b \"\"q\"\"\",label\n\"1\",2,\"multi\nline\"\n5,6,\"multi\nline\"\n"),
        ("crlf-bom.csv", "\u{FEFF}x,y,class\r\n1,2,0\r\n\r\n3,4,1\r\n"),
        ("numeric.csv", "f1,f2,f3,f4,target\n0.1,0.2,0.3,0.4,1\n1e-3,NaN,inf,-0,0\n"),
        ("header-only.csv", "only,label\n"),
    ].map { ($0.0, Array($0.1.utf8)) }
}

/// libFuzzer's entry point (its runtime refers to the symbol): the input as an array.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzCSV(Array(UnsafeBufferPointer(start: data, count: data == nil ? 0 : size)))
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
