import Foundation

/// Where a model's external data may be read from.
enum ExternalDataSource {
    /// No external data: a tensor that uses some is refused.
    case none
    /// Files inside this directory on disk (the model file's own directory).
    case directory(URL)
    /// A version's verified files in memory, by `/`-separated relative path; `folder` is the model file's folder
    /// among them (`""` at the top, otherwise ending in `/`). Nothing is read from disk.
    case files([String: Data], folder: String)
}

/// Reads a tensor's external data, refusing locations outside the model's directory.
enum ExternalData {
    /// The bytes `entries` (`location`, `offset`, `length`) point at, inside `source`.
    ///
    /// Absolute locations, `.` or `..` components, symbolic links anywhere on the path, and ranges past the
    /// file's end are refused before any read.
    static func read(
        _ entries: [String: String], tensor: String, source: ExternalDataSource
    ) throws(ONNXError) -> [UInt8] {
        let components = try locationComponents(entries, tensor: tensor)
        switch source {
        case .none:
            throw .externalData("tensor '\(tensor)' uses external data but no directory")
        case .directory(let directory):
            return try read(components, entries, tensor: tensor, directory: directory)
        case .files(let files, let folder):
            guard let data = files[folder + components.joined(separator: "/")] else {
                throw .externalData("tensor '\(tensor)' location is not among the model's files")
            }
            let (offset, length) = try range(entries, fileSize: data.count, tensor: tensor)
            let start = data.startIndex + offset
            return [UInt8](data[start..<(start + length)])
        }
    }

    /// The location's path components, refusing absolute and escaping locations.
    private static func locationComponents(_ entries: [String: String], tensor: String) throws(ONNXError) -> [String] {
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
        return components
    }

    private static func read(
        _ components: [String], _ entries: [String: String], tensor: String, directory: URL
    ) throws(ONNXError) -> [UInt8] {
        var url = directory
        for component in components {
            url.appendPathComponent(component)
            let values = try? url.resourceValues(forKeys: [.isSymbolicLinkKey])
            guard let values else { throw .externalData("tensor '\(tensor)' location does not exist") }
            guard values.isSymbolicLink != true else {
                throw .externalData("tensor '\(tensor)' location is a symbolic link")
            }
        }
        guard let handle = try? FileHandle(forReadingFrom: url) else {
            throw .externalData("tensor '\(tensor)' location cannot be read")
        }
        defer { try? handle.close() }
        guard let size = try? handle.seekToEnd(), size <= UInt64(Int.max) else {
            throw .externalData("tensor '\(tensor)' location cannot be read")
        }
        let (offset, length) = try range(entries, fileSize: Int(size), tensor: tensor)
        do {
            try handle.seek(toOffset: UInt64(offset))
            let data = try handle.read(upToCount: length) ?? Data()
            guard data.count == length else { throw ONNXError.externalData("tensor '\(tensor)' read short") }
            return [UInt8](data)
        } catch {
            throw .externalData("tensor '\(tensor)' location cannot be read")
        }
    }

    /// `offset` and `length` (default: to the end), checked against the file's size without overflow.
    private static func range(
        _ entries: [String: String], fileSize: Int, tensor: String
    ) throws(ONNXError) -> (offset: Int, length: Int) {
        let offset = try number(entries["offset"], default: 0, tensor: tensor)
        let length = try number(entries["length"], default: fileSize - min(offset, fileSize), tensor: tensor)
        let (end, overflow) = offset.addingReportingOverflow(length)
        guard !overflow, end <= fileSize else { throw .externalData("tensor '\(tensor)' range is past the file's end") }
        return (offset, length)
    }

    private static func number(_ text: String?, default value: Int, tensor: String) throws(ONNXError) -> Int {
        guard let text else { return value }
        guard let number = Int(text), number >= 0 else {
            throw .externalData("tensor '\(tensor)' has an invalid offset or length")
        }
        return number
    }
}
