import AccessControl
import Foundation
import Testing

/// The README's permission matrix is the one the code enforces: the table there must be the generated one.
@Test func readmeShowsTheEnforcedPermissionMatrix() throws {
    let readme = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("README.md")
    let text = try String(contentsOf: readme, encoding: .utf8)
    let table = PermissionMatrix.markdownTable()
    if ProcessInfo.processInfo.environment["MODELVAULT_PRINT_MATRIX"] == "1" {
        print(table)
    }
    #expect(text.contains(table), "README.md must contain PermissionMatrix.markdownTable() verbatim")
}
