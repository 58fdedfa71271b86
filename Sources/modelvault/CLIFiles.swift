import Foundation

/// Errors about the user's own files name the file and say what is wrong with it (issue #20): `cannot read the
/// input file` left the user guessing which one, and whether it was missing or unreadable.
enum CLIFiles {
    /// The error for a file that could not be read: not found (exit 4), a directory (exit 5), else unreadable.
    static func unreadable(_ what: String, _ path: String) -> CLIError {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return CLIError("cannot read the \(what) \(path): no such file", status: .notFound)
        }
        if isDirectory.boolValue {
            return CLIError("cannot read the \(what) \(path): it is a directory", status: .invalidInput)
        }
        return CLIError("cannot read the \(what) \(path): permission denied or unreadable")
    }

    /// The contents of `path`, or an error naming it.
    static func read(_ path: String, what: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path) else { throw unreadable(what, path) }
        return data
    }
}
