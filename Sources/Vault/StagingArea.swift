import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A private directory under `.staging/` where a push or import is assembled before it is renamed into place.
///
/// The owner holds an exclusive `flock` on a sibling lock file for the directory's whole life; a directory
/// whose lock can be taken belongs to a process that died, and is removed when the vault is next opened.
final class StagingArea: Sendable {
    let directory: URL
    private let lockFile: URL
    private let lockDescriptor: Int32

    init(in staging: URL) throws {
        let name = UUID().uuidString
        directory = staging.appending(path: name)
        lockFile = staging.appending(path: name + ".lock")
        let fd = open(lockFile.path(percentEncoded: false), O_RDWR | O_CREAT, 0o600)
        guard fd >= 0, flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            if fd >= 0 { close(fd) }
            throw VaultError.storage("cannot lock a staging directory")
        }
        lockDescriptor = fd
        try VaultFiles.makeDirectory(directory, permissions: 0o700)
    }

    deinit {
        VaultFiles.remove(directory)
        unlink(lockFile.path(percentEncoded: false))
        close(lockDescriptor)
    }

    /// Removes staging directories whose owners are gone. A symbolic link among them is refused and reported
    /// (`root` names it relative to the vault), never followed.
    static func removeOrphans(in staging: URL, root: URL) throws {
        try VaultFiles.refuseSymbolicLinks(along: staging, under: root)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: staging.path(percentEncoded: false))
        else { return }
        for name in names { try VaultFiles.refuseSymbolicLink(staging.appending(path: name), under: root) }
        for name in names where name.hasSuffix(".lock") {
            let lock = staging.appending(path: name)
            let fd = open(lock.path(percentEncoded: false), O_RDWR | O_NOFOLLOW)
            guard fd >= 0 else { continue }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                VaultFiles.removeTree(staging.appending(path: String(name.dropLast(".lock".count))), under: root)
                unlink(lock.path(percentEncoded: false))
            }
            close(fd)
        }
        // Directories without a lock file at all: their owner died between creating the lock and the directory
        // or after unlinking the lock; either way nobody owns them.
        for name in names where !name.hasSuffix(".lock") && !names.contains(name + ".lock") {
            VaultFiles.removeTree(staging.appending(path: name), under: root)
        }
    }
}
