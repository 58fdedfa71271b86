import Foundation

/// Reads a tensor's external data, refusing locations outside the model's directory.
enum ExternalData {
    /// The bytes `entries` (`location`, `offset`, `length`) point at, inside `directory`.
    ///
    /// Absolute locations, `..` components, symbolic links anywhere on the path, and ranges past the file's end
    /// are refused before any read.
    static func read(_ entries: [String: String], tensor: String, directory: URL?) throws(ONNXError) -> [UInt8] {
        guard let directory else { throw .externalData("tensor '\(tensor)' uses external data but no directory") }
        guard let location = entries["location"], !location.isEmpty else {
            throw .externalData("tensor '\(tensor)' has no location")
        }
        guard !location.hasPrefix("/"), !location.hasPrefix("\\"), !location.contains("\0") else {
            throw .externalData("tensor '\(tensor)' location is absolute")
        }
        let components = location.split(whereSeparator: { $0 == "/" || $0 == "\\" }).map(String.init)
        guard !components.isEmpty, !components.contains(".."), !components.contains(".") else {
            throw .externalData("tensor '\(tensor)' location escapes the model directory")
        }
        var url = directory
        for component in components {
            url.appendPathComponent(component)
            let values = try? url.resourceValues(forKeys: [.isSymbolicLinkKey])
            guard let values else { throw .externalData("tensor '\(tensor)' location does not exist") }
            guard values.isSymbolicLink != true else {
                throw .externalData("tensor '\(tensor)' location is a symbolic link")
            }
        }
        let offset = try number(entries["offset"], default: 0, tensor: tensor)
        guard let handle = try? FileHandle(forReadingFrom: url) else {
            throw .externalData("tensor '\(tensor)' location cannot be read")
        }
        defer { try? handle.close() }
        guard let size = try? handle.seekToEnd(), size <= UInt64(Int.max) else {
            throw .externalData("tensor '\(tensor)' location cannot be read")
        }
        let fileSize = Int(size)
        let length = try number(entries["length"], default: fileSize - min(offset, fileSize), tensor: tensor)
        let (end, overflow) = offset.addingReportingOverflow(length)
        guard !overflow, end <= fileSize else { throw .externalData("tensor '\(tensor)' range is past the file's end") }
        do {
            try handle.seek(toOffset: UInt64(offset))
            let data = try handle.read(upToCount: length) ?? Data()
            guard data.count == length else { throw ONNXError.externalData("tensor '\(tensor)' read short") }
            return [UInt8](data)
        } catch {
            throw .externalData("tensor '\(tensor)' location cannot be read")
        }
    }

    private static func number(_ text: String?, default value: Int, tensor: String) throws(ONNXError) -> Int {
        guard let text else { return value }
        guard let number = Int(text), number >= 0 else {
            throw .externalData("tensor '\(tensor)' has an invalid offset or length")
        }
        return number
    }
}
