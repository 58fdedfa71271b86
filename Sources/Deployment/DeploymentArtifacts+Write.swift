public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension DeploymentArtifacts {
    /// Writes the artifacts into `directory`, all at once or not at all.
    ///
    /// The files are written and synced in a staging directory beside `directory`, which is then renamed into
    /// place, so a reader never sees a half-written set and a failure leaves nothing behind. An existing empty
    /// directory is replaced; a non-empty one only when `replacingExisting` is true (it is moved aside first and
    /// removed once the new set is in place).
    ///
    /// - Throws: ``DeploymentError/destinationNotEmpty`` or ``DeploymentError/writeFailed``.
    public func write(to directory: URL, replacingExisting: Bool = false) throws(DeploymentError) {
        let destination = directory.standardizedFileURL
        let parent = destination.deletingLastPathComponent()
        let fileManager = FileManager.default
        do {
            try fileManager.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw .writeFailed
        }
        let staging = parent.appendingPathComponent(".\(destination.lastPathComponent).staging-\(UUID().uuidString)")
        do {
            try writeFiles(into: staging)
            try Self.moveIntoPlace(staging, at: destination, replacingExisting: replacingExisting)
            try Self.syncDirectory(parent)
        } catch {
            try? fileManager.removeItem(at: staging)
            throw (error as? DeploymentError) ?? .writeFailed
        }
    }

    private func writeFiles(into staging: URL) throws {
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: staging, withIntermediateDirectories: false)
        var directories: Set<URL> = [staging]
        for file in files {
            let url = staging.appendingPathComponent(file.path)
            let folder = url.deletingLastPathComponent()
            if !directories.contains(folder) {
                try fileManager.createDirectory(at: folder, withIntermediateDirectories: true)
                directories.insert(folder)
            }
            try Self.writeSynced(Array(file.contents.utf8), to: url)
        }
        // Children first, so each directory entry is durable before the rename publishes it.
        for folder in directories.sorted(by: { $0.path.count > $1.path.count }) {
            try Self.syncDirectory(folder)
        }
    }

    private static func writeSynced(_ bytes: [UInt8], to url: URL) throws {
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw DeploymentError.writeFailed }
        defer { close(descriptor) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { systemWrite(descriptor, $0.baseAddress, $0.count) }
            guard written > 0 else { throw DeploymentError.writeFailed }
            offset += written
        }
        guard fsync(descriptor) == 0 else { throw DeploymentError.writeFailed }
    }

    private static func syncDirectory(_ url: URL) throws {
        let descriptor = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw DeploymentError.writeFailed }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw DeploymentError.writeFailed }
    }

    /// `rename(2)` replaces an empty directory atomically and refuses a non-empty one, which is exactly the
    /// no-overwrite rule, without a window between checking and renaming.
    private static func moveIntoPlace(_ staging: URL, at destination: URL, replacingExisting: Bool) throws {
        if rename(staging.path, destination.path) == 0 { return }
        let failure = errno
        guard failure == ENOTEMPTY || failure == EEXIST || failure == ENOTDIR || failure == EISDIR else {
            throw DeploymentError.writeFailed
        }
        guard replacingExisting, failure == ENOTEMPTY || failure == EEXIST else {
            throw DeploymentError.destinationNotEmpty
        }
        let parent = destination.deletingLastPathComponent()
        let old = parent.appendingPathComponent(".\(destination.lastPathComponent).old-\(UUID().uuidString)")
        guard rename(destination.path, old.path) == 0 else { throw DeploymentError.writeFailed }
        guard rename(staging.path, destination.path) == 0 else {
            // Put the previous set back so the failure changes nothing.
            _ = rename(old.path, destination.path)
            throw DeploymentError.writeFailed
        }
        try? FileManager.default.removeItem(at: old)
    }
}

/// `write(2)`, named apart from ``DeploymentArtifacts/write(to:replacingExisting:)`` which would shadow it.
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}
