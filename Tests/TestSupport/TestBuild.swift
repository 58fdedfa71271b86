public import Testing

/// What the test bundle was compiled as.
public enum TestBuild {
    /// Whether the tests were built optimised (`swift test -c release -Xswiftc -enable-testing`, as CI runs them).
    #if DEBUG
    public static let isOptimized = false
    #else
    public static let isOptimized = true
    #endif

    /// For tests whose numeric kernels take minutes unoptimised (training a CNN to its accuracy target, the
    /// demo): they run in the release test build that CI uses and show as skipped in a debug `swift test`.
    public static var needsOptimizedBuild: ConditionTrait {
        .enabled(
            if: isOptimized,
            "training to the accuracy target needs an optimised build: swift test -c release -Xswiftc -enable-testing")
    }
}
