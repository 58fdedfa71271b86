import Foundation

extension Interop {
    /// Whether `tool` is an executable file in a directory of `PATH`.
    public static func available(_ tool: String) -> Bool {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return directories.contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
    }

    /// Whether `tool probe…` runs and exits 0; for tools that are on `PATH` but may not work (a Python entry
    /// point whose package is broken, say).
    public static func runs(_ tool: String, _ probe: [String] = ["--help"]) -> Bool {
        (try? ChildProcess.tool(tool, probe).run().status) == 0
    }

    /// Whether `python3` can import every module in `modules` (`import a, b`).
    public static func pythonCanImport(_ modules: String...) -> Bool {
        (try? ChildProcess.python("import " + modules.joined(separator: ", ")).run().status) == 0
    }
}
