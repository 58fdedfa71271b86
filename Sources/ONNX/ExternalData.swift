import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
    /// Absolute locations, `.` or `..` components, a backslash, symbolic links anywhere on the path, anything but a
    /// regular file, ranges past the file's end, a length other than `expected` (the tensor's raw size) and a range
    /// overlapping one already read are refused before any read; the read is charged to `budget` first.
    static func read(
        _ entries: [String: String], tensor: String, source: ExternalDataSource, expected: LoadBudget.Cost,
        budget: LoadBudget
    ) throws(ONNXError) -> [UInt8] {
        let components = try locationComponents(entries, tensor: tensor)
        switch source {
        case .none:
            throw .externalData("tensor '\(tensor)' uses external data but no directory")
        case .directory(let directory):
            return try read(
                components, entries, tensor: tensor, directory: directory, expected: expected, budget: budget)
        case .files(let files, let folder):
            let path = folder + components.joined(separator: "/")
            guard let data = files[path] else {
                throw .externalData("tensor '\(tensor)' location is not among the model's files")
            }
            let (offset, length) = try range(entries, fileSize: data.count, tensor: tensor)
            try budget.claim(
                offset..<(offset + length), of: .path(path), size: data.count, cost: expected, tensor: tensor)
            let start = data.startIndex + offset
            return [UInt8](data[start..<(start + length)])
        }
    }

    /// The location's path components, refusing absolute and escaping locations.
    private static func locationComponents(_ entries: [String: String], tensor: String) throws(ONNXError) -> [String] {
        guard let location = entries["location"], !location.isEmpty else {
            throw .externalData("tensor '\(tensor)' has no location")
        }
        guard !location.hasPrefix("/"), !location.contains("\0") else {
            throw .externalData("tensor '\(tensor)' location is absolute")
        }
        // onnxruntime on POSIX reads a backslash as part of a file name: splitting on it would read another file.
        guard !location.contains("\\") else { throw .externalData("tensor '\(tensor)' location has a backslash") }
        let components = location.split(separator: "/").map(String.init)
        guard !components.isEmpty, !components.contains(".."), !components.contains(".") else {
            throw .externalData("tensor '\(tensor)' location escapes the model directory")
        }
        return components
    }

    private static func read(
        _ components: [String], _ entries: [String: String], tensor: String, directory: URL,
        expected: LoadBudget.Cost, budget: LoadBudget
    ) throws(ONNXError) -> [UInt8] {
        // Walk down from the model's directory one descriptor at a time, each component opened with O_NOFOLLOW
        // relative to the last: a link anywhere is refused, and a swap after a check cannot redirect the walk.
        var current = open(directory.path(percentEncoded: false), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard current >= 0 else { throw .externalData("tensor '\(tensor)' model directory cannot be read") }
        defer { close(current) }
        for component in components.dropLast() {
            var status = stat()
            guard fstatat(current, component, &status, AT_SYMLINK_NOFOLLOW) == 0 else {
                throw .externalData("tensor '\(tensor)' location does not exist")
            }
            let kind = status.st_mode & S_IFMT
            guard kind != S_IFLNK else { throw .externalData("tensor '\(tensor)' location is a symbolic link") }
            guard kind == S_IFDIR else {
                throw .externalData("tensor '\(tensor)' location's folder is not a directory")
            }
            let next = openat(current, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard next >= 0 else {
                throw .externalData(
                    errno == ELOOP
                        ? "tensor '\(tensor)' location is a symbolic link"
                        : "tensor '\(tensor)' location cannot be read")
            }
            close(current)
            current = next
        }
        let file: RegularFile
        do {
            file = try RegularFile(at: current, components[components.count - 1])
        } catch {
            throw .externalData("tensor '\(tensor)' location \(error.reason)")
        }
        let (offset, length) = try range(entries, fileSize: file.size, tensor: tensor)
        try budget.claim(
            offset..<(offset + length), of: .inode(device: file.device, inode: file.inode), size: file.size,
            cost: expected, tensor: tensor)
        do {
            return try file.read(offset: offset, count: length)
        } catch {
            throw .externalData("tensor '\(tensor)' location \(error.reason)")
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

    /// A decimal number of ASCII digits only (no sign, space or other spelling), within `Int`.
    private static func number(_ text: String?, default value: Int, tensor: String) throws(ONNXError) -> Int {
        guard let text else { return value }
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let number = Int(text), number >= 0
        else {
            throw .externalData("tensor '\(tensor)' has an invalid offset or length")
        }
        return number
    }
}

/// A regular file opened for reading without following a symbolic link and without blocking: what it is gets checked
/// with `fstatat` before the open (a device or FIFO is never opened) and with `fstat` on the descriptor after it.
struct RegularFile: ~Copyable {
    /// Why a file was refused, as fixed text completing "the location …" or "the model file …".
    struct Failure: Error {
        let reason: String
    }

    let descriptor: Int32
    /// The file's size when it was opened.
    let size: Int
    let device: UInt64
    let inode: UInt64

    /// Opens `name` relative to the directory `directory` (a descriptor, or `AT_FDCWD` for a path).
    init(at directory: Int32, _ name: String) throws(Failure) {
        var status = stat()
        guard fstatat(directory, name, &status, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw Failure(reason: errno == ENOENT ? "does not exist" : "cannot be read")
        }
        guard status.st_mode & S_IFMT != S_IFLNK else { throw Failure(reason: "is a symbolic link") }
        guard status.st_mode & S_IFMT == S_IFREG else { throw Failure(reason: "is not a regular file") }
        // O_NOFOLLOW and O_NONBLOCK: a link or FIFO swapped in after the check fails or returns at once.
        let descriptor = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw Failure(reason: errno == ELOOP ? "is a symbolic link" : "cannot be read")
        }
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_size >= 0,
            UInt64(status.st_size) <= UInt64(Int.max)
        else {
            close(descriptor)
            throw Failure(reason: "is not a regular file")
        }
        self.descriptor = descriptor
        self.size = Int(status.st_size)
        self.device = UInt64(truncatingIfNeeded: status.st_dev)
        self.inode = UInt64(truncatingIfNeeded: status.st_ino)
    }

    deinit { close(descriptor) }

    /// `count` bytes from `offset`, refusing a short read (the file shrank) rather than returning fewer.
    func read(offset: Int, count: Int) throws(Failure) -> [UInt8] {
        guard offset >= 0, count >= 0, count <= Int.max - offset else { throw Failure(reason: "cannot be read") }
        var failed = false
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = 0
            while initialized < count {
                let done = pread(
                    descriptor, buffer.baseAddress! + initialized, count - initialized, off_t(offset + initialized))
                if done < 0, errno == EINTR { continue }
                guard done > 0 else {
                    failed = true
                    break
                }
                initialized += done
            }
            if failed { initialized = 0 }
        }
        guard !failed else { throw Failure(reason: "cannot be read (it changed or ended early)") }
        return bytes
    }
}
