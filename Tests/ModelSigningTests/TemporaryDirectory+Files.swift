import Foundation
import TestSupport

extension TemporaryDirectory {
    /// Writes `contents` at the model-relative `path`, creating parent directories.
    @discardableResult
    func write(_ contents: String, to path: String) throws -> URL {
        try write(Data(contents.utf8), to: path)
    }

    /// Writes `data` at the model-relative `path`, creating parent directories.
    @discardableResult
    func write(_ data: Data, to path: String) throws -> URL {
        let file = url.appendingPathComponent(path)
        try FileManager.default.createDirectory(
            at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: file)
        return file
    }
}
