public import Foundation

extension ChildProcess {
    /// A command running `script` with `python3 -c` (found on `PATH` through `/usr/bin/env`); `arguments` become
    /// `sys.argv[1:]`.
    public static func python(
        _ script: String, arguments: [String] = [], input: Data? = nil, mergesErrors: Bool = false
    ) -> ChildProcess {
        tool("python3", ["-c", script] + arguments, input: input, mergesErrors: mergesErrors)
    }
}
