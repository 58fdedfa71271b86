import Foundation
import Synchronization
import TestSupport
import Testing

@testable import Vault

#if canImport(Glibc)
import Glibc
#endif

/// Review 3: "a pushed file whose inode or change time differs between the scan and the end of staging is refused
/// (what is encrypted must be what was scanned)". The scanner and staging each open the file again by its path, and
/// the check compares `lstat` metadata of that path before the scan and after staging, never the bytes read. The
/// pusher owns the directory it pushes: after the scan it swaps a parent directory of a scanned file for one holding a
/// hostile file (`renameat2(RENAME_EXCHANGE)`), lets staging open it, and swaps back before staging ends. The scanned
/// file's inode and change time never changed (renaming its parent does not touch it), so the check passes and the
/// hostile bytes are stored under a clean, signed scan record.
@Suite(.serialized) struct VaultScanStagingSwapAttackTests {
    /// `cos\nsystem\n(S'id'\ntR.`: a protocol 0 pickle calling `os.system('id')`, padded after STOP (pickle ignores it)
    /// so that reading it takes long enough to be seen.
    static let evil: Data = Data("cos\nsystem\n(S'id'\ntR.".utf8) + Data(count: 96 << 20)
    /// A protocol 2 pickle of the integer 1.
    static let clean = Data([0x80, 0x02, 0x4B, 0x01, 0x2E])

    @Test func aParentDirectorySwappedBetweenScanAndStagingStoresUnscannedBytes() async throws {
        var bypassed: [String] = []
        for attempt in 0..<3 {
            let directory = try TemporaryDirectory()
            let vault = try TestVault.create(in: directory)
            let root = directory.url.appending(path: "push")
            let sub = root.appending(path: "sub")
            let elsewhere = directory.url.appending(path: "elsewhere")
            try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
            // Staged first (paths are sorted): a large file that keeps staging busy while the swap is made.
            try Data(count: 64 << 20).write(to: root.appending(path: "a.bin"))
            try Self.clean.write(to: sub.appending(path: "model.pkl"))
            try Self.evil.write(to: elsewhere.appending(path: "model.pkl"))

            let staging = await vault.layout.staging
            let swapper = Swapper(
                staging: staging, target: sub.appending(path: "model.pkl"), sub: sub, elsewhere: elsewhere)
            let thread = Thread { swapper.run() }
            thread.start()
            defer { swapper.stop() }
            let pushed: ModelVersionInfo
            do {
                pushed = try await vault.pushModel("m\(attempt)", from: .path(root))
            } catch {
                swapper.stop()
                continue  // the race was lost this time (refused or nothing swapped): try again
            }
            swapper.stop()
            let reference = try ModelReference(name: pushed.name, selector: .version(pushed.version))
            let stored = try await vault.loadModel(reference)
            let record = try #require(try await vault.scanRecord(reference))
            if stored["sub/model.pkl"] != Self.clean {
                bypassed.append(
                    "attempt \(attempt): stored \(stored["sub/model.pkl"]?.count ?? 0) bytes starting "
                        + "\(String(decoding: (stored["sub/model.pkl"] ?? Data()).prefix(12), as: UTF8.self).debugDescription)"
                        + " under a scan record with \(record.files.flatMap(\.findings).count) finding(s), "
                        + "\(record.refused.count) refused")
                let rescanned = try await vault.rescanModel(reference)
                bypassed.append("re-scan of the stored bytes: refused \(rescanned.refused)")
                break
            }
        }
        #expect(bypassed.isEmpty, "what was stored is not what was scanned: \(bypassed.joined(separator: "; "))")
    }
}

/// Watches the push from a thread of its own: when the staging directory appears (the scan is over) it exchanges
/// `sub` with `elsewhere`; when staging has the hostile file open it exchanges them back.
final class Swapper: Sendable {
    let staging: URL
    let target: String
    let sub: String
    let elsewhere: String
    let before: Set<String>
    private let stopped = Atomic<Bool>(false)

    init(staging: URL, target: URL, sub: URL, elsewhere: URL) {
        self.staging = staging
        self.target = target.path(percentEncoded: false)
        self.sub = sub.path(percentEncoded: false)
        self.elsewhere = elsewhere.path(percentEncoded: false)
        before = Self.entries(of: staging)
    }

    static func entries(of directory: URL) -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: directory.path(percentEncoded: false))) ?? [])
    }

    func stop() { stopped.store(true, ordering: .relaxed) }

    private var isStopped: Bool { stopped.load(ordering: .relaxed) }

    /// glibc's `renameat2`, which Swift does not import (it is declared only under `_GNU_SOURCE`).
    private typealias RenameAt2 =
        @convention(c) (
            Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32
        ) -> Int32
    private static let renameat2: RenameAt2? = dlsym(dlopen(nil, RTLD_NOW), "renameat2").map {
        unsafeBitCast($0, to: RenameAt2.self)
    }

    private func exchange() -> Bool {
        Self.renameat2?(AT_FDCWD, sub, AT_FDCWD, elsewhere, 2) == 0  // RENAME_EXCHANGE
    }

    /// Whether any descriptor of this process is open on `target` (as the path now resolves).
    private func targetIsOpen() -> Bool {
        guard let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return false }
        for fd in fds {
            var buffer = [CChar](repeating: 0, count: 4096)
            let count = readlink("/proc/self/fd/" + fd, &buffer, buffer.count - 1)
            if count > 0, String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) == target {
                return true
            }
        }
        return false
    }

    func run() {
        while !isStopped {
            if !Self.entries(of: staging).subtracting(before).isEmpty { break }
        }
        guard !isStopped, exchange() else { return }
        while !isStopped && !targetIsOpen() {}
        _ = exchange()
    }
}
