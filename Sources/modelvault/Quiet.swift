import Foundation

/// `--quiet`, accepted by every command in any position before `--` (or `MODELVAULT_QUIET=1`): no progress lines on
/// stderr. Results (stdout), errors and questions still print. It is taken out of the arguments before parsing, so
/// that no command has to declare it and none can forget to.
enum Quiet {
    static let flag = "--quiet"

    /// Whether this process was asked to be quiet.
    static let isRequested: Bool =
        CommandLine.arguments.dropFirst().prefix { $0 != "--" }.contains(flag)
        || ProcessInfo.processInfo.environment["MODELVAULT_QUIET"] == "1"

    /// The arguments without `--quiet` (those after `--` are operands and stay).
    static func removingFlag(from arguments: [String]) -> [String] {
        guard let end = arguments.firstIndex(of: "--") else { return arguments.filter { $0 != flag } }
        return arguments[..<end].filter { $0 != flag } + arguments[end...]
    }
}
