import Foundation

/// External peers for interop tests (the `age` CLI, `openssl`, `checkov`, Python packages).
///
/// A test whose peer is missing is skipped with a visible message, unless the environment variable
/// `MODELVAULT_REQUIRE_INTEROP=1` (set by CI) makes a missing peer a failure. `.enabled(if:)` is not enough for
/// that, so a test checks inside its body:
///
///     guard Interop.available("age") else { try Interop.skipOrFail("age") }
public enum Interop {
    /// Whether a missing peer fails the test (`MODELVAULT_REQUIRE_INTEROP=1`) instead of skipping it.
    public static var required: Bool {
        ProcessInfo.processInfo.environment["MODELVAULT_REQUIRE_INTEROP"] == "1"
    }
}
