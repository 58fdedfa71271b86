import Foundation
public import Testing

extension Interop {
    /// Records an issue at the caller when interop is required; otherwise says on stderr that the test was
    /// skipped (`SKIPPED: <tool> not installed`). The caller returns right after.
    public static func skipOrFail(_ tool: String, sourceLocation: SourceLocation = #_sourceLocation) {
        if required {
            Issue.record(
                "\(tool) is required (MODELVAULT_REQUIRE_INTEROP=1) but not installed", sourceLocation: sourceLocation)
        } else {
            FileHandle.standardError.write(Data("SKIPPED: \(tool) not installed\n".utf8))
        }
    }
}
