import Crypto
public import Foundation
import Synchronization
import VaultCrypto
public import VaultServer

/// Files on the caller's side: what a push sends, and how a pull lands on disk (atomically: a fresh staging
/// directory beside the destination, renamed into place once every file is written and checked).
extension VaultClient {
    /// Files a push never sends, as the local push skips them.
    static let ignoredModelFiles: Set<String> = [".git", ".gitattributes", ".github", ".gitignore"]

    /// The files of a model at `url` (a file, or a directory walked without following symbolic links), by
    /// relative path.
    public static func modelFiles(at url: URL) throws -> [String: Data] {
        var info = stat()
        guard lstat(url.path(percentEncoded: false), &info) == 0 else {
            throw VaultClientError(.notFound, "cannot read \(url.lastPathComponent): no such file")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            return [url.lastPathComponent: try read(url, named: url.lastPathComponent)]
        case S_IFDIR:
            var files: [String: Data] = [:]
            try walk(url, prefix: "") { relative, file in files[relative] = try read(file, named: relative) }
            guard !files.isEmpty else { throw VaultClientError(.invalidInput, "no model files given") }
            return files
        default:
            throw VaultClientError(.invalidInput, "not a regular file or directory: \(url.lastPathComponent)")
        }
    }

    private static func walk(_ directory: URL, prefix: String, _ visit: (String, URL) throws -> Void) throws {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path(percentEncoded: false))
        } catch {
            throw VaultClientError(.failure, "cannot list \(directory.lastPathComponent)")
        }
        for name in names.sorted() {
            let relative = prefix.isEmpty ? name : prefix + "/" + name
            if ignoredModelFiles.contains(relative) { continue }
            let url = directory.appending(path: name)
            var info = stat()
            guard lstat(url.path(percentEncoded: false), &info) == 0 else {
                throw VaultClientError(.failure, "cannot read \(relative)")
            }
            switch info.st_mode & S_IFMT {
            case S_IFDIR: try walk(url, prefix: relative, visit)
            case S_IFREG: try visit(relative, url)
            default: throw VaultClientError(.invalidInput, "not a regular file or directory: \(relative)")
            }
        }
    }

    static func read(_ url: URL, named name: String, limit: Int = .max) throws -> Data {
        let descriptor = open(url.path(percentEncoded: false), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw VaultClientError(.failure, "cannot read \(name)") }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        let data: Data
        do {
            data = try (limit == .max ? handle.readToEnd() : handle.read(upToCount: limit + 1)) ?? Data()
        } catch {
            throw VaultClientError(.failure, "cannot read \(name)")
        }
        guard data.count <= limit else { throw VaultClientError(.integrity, "\(name) is larger than expected") }
        return data
    }

    // MARK: Pulls

    /// What a pull wrote.
    public struct PullResult: Sendable, Equatable {
        /// The version pulled (an alias resolved to its number).
        public var version: String
        /// How many model files were written.
        public var fileCount: Int
    }

    /// Pulls a version and writes its plaintext into `directory` (which must not exist, or be empty), in constant
    /// memory.
    ///
    /// The server streams the files re-wrapped for a key pair made for this one pull and held only in memory
    /// (`GET .../download?recipient=...&decryptedByCaller=true`, which needs `model.pull` as the local pull does),
    /// the signed manifest and signature first. Before anything is decrypted, the signed manifest must verify with
    /// `verifier` (the vault key the caller pinned) and name `name` and the version pulled; each file is then
    /// decrypted as it arrives (no ciphertext is written) into a staging directory beside `directory`, its SHA-256
    /// computed as it is decrypted and checked against the signed digest when it ends, and that directory is renamed
    /// into place once every signed file has arrived and checked. So the plaintext never crosses the network, even
    /// inside TLS, the caller holds no long-lived key, and a hostile server cannot substitute another model. With
    /// `minimumVersion`, a signed version below it is refused before anything is decrypted (review 5, R1: which
    /// version an alias or latest means is the server's unsigned word).
    public func pullModel(
        _ name: String, version: String, into directory: URL, signatureFileName: String, verifier: PinnedVerifier,
        minimumVersion: Int? = nil, progress: TransferProgress? = nil
    ) async throws -> PullResult {
        let (number, _) = try await resolvedVersion(name, version)
        try Self.refuseRollback(name, number, below: minimumVersion)
        let identity = AgeX25519Identity.generate()
        let response = try await send(
            .GET, Self.path("", "v1", "models", name, "versions", number, "download"),
            query: "recipient=" + Self.queryValue(identity.recipient.encoded) + "&decryptedByCaller=true")
        let total = response.headers.first(name: "Content-Length").flatMap { Int64($0) } ?? 0
        progress?(0, total)
        var written: Set<String> = []
        try await Self.writeAtomically(into: directory) { staging in
            var receiver = DecryptingPullReceiver(
                staging: staging, identity: identity, name: name, version: number,
                signatureFileName: signatureFileName, verifier: verifier)
            do {
                var done: Int64 = 0
                var checkedVersion = false
                for try await buffer in response.body {
                    try await receiver.consume(buffer)
                    if !checkedVersion, receiver.signed != nil {
                        // `number` is now the signed version: checked again so the refusal rests on what the vault
                        // signed, before the first file is decrypted.
                        try Self.refuseRollback(name, number, below: minimumVersion)
                        checkedVersion = true
                    }
                    done += Int64(buffer.readableBytes)
                    progress?(done, max(total, done))
                }
                guard receiver.finished else {
                    throw VaultClientError(.failure, "the server's file stream was cut off")
                }
                try receiver.checkComplete()
                written = receiver.written
            } catch {
                await receiver.abandon()
                throw error
            }
        }
        return PullResult(version: number, fileCount: written.count)
    }

    /// Refuses (`.integrity`) version `number` of `name` when it is below `minimum`.
    static func refuseRollback(_ name: String, _ number: String, below minimum: Int?) throws {
        guard let minimum, let pulled = Int(number), pulled < minimum else { return }
        throw VaultClientError(
            .integrity,
            "the server offers \(name)@\(number), older than version \(minimum) (the highest this client has "
                + "verified, or --min-version): refusing a rollback")
    }

    /// Pulls a version re-wrapped for `recipient` and streams the `.age` files and the signature into `directory`
    /// (which must not exist, or be empty): no plaintext, the layout a local `model pull --to` writes.
    public func pullModel(
        _ name: String, version: String, for recipient: String, into directory: URL, signatureFileName: String,
        progress: TransferProgress? = nil
    ) async throws -> PullResult {
        let (number, record) = try await resolvedVersion(name, version)
        let received = try await downloadFiles(
            Self.path("", "v1", "models", name, "versions", number, "download"),
            query: "recipient=" + Self.queryValue(recipient), into: directory, flat: false, progress: progress
        ) { paths in
            try Self.checkRewrapped(
                paths, expected: Set(record.files.keys), signatureFileName: signatureFileName,
                label: "\(name)@\(number)")
        }
        return PullResult(version: number, fileCount: received.filter { !$0.hasPrefix(".modelvault/") }.count)
    }

    /// A re-wrapped pull holds exactly the recorded files (as `<path>.age`) plus the signature files: anything a
    /// hostile server adds (say `.modelvault/run.sh`) is refused before the output is renamed into place.
    static func checkRewrapped(
        _ paths: [String], expected: Set<String>, signatureFileName: String, label: String
    ) throws {
        let sealed = paths.filter { !isSignatureFile($0, signatureFileName: signatureFileName) }
        guard sealed.allSatisfy({ $0.hasSuffix(".age") }), sealed.count == expected.count,
            Set(sealed.map { String($0.dropLast(4)) }) == expected
        else { throw VaultClientError(.integrity, "the pulled files are not those of \(label)") }
    }

    /// The only names a pull accepts under `.modelvault/`: the signed manifest and the signature file.
    static func isSignatureFile(_ path: String, signatureFileName: String) -> Bool {
        path == signedManifestPath || path == signatureFileName
    }

    /// Where a pull puts the vault's signed manifest (the local pull's layout).
    static let signedManifestPath = ".modelvault/manifest.json"

    /// The version number `version` (a number or an alias name) names now, and its record; pulling by number
    /// afterwards means an alias moved meanwhile cannot mix two versions.
    func resolvedVersion(_ name: String, _ version: String) async throws -> (String, RegistryModelVersion) {
        let model = try await showModel(name)
        let number = Int(version) != nil ? version : model.aliases[version.lowercased()]
        guard let number, let record = model.versions.first(where: { $0.version == number }) else {
            throw VaultClientError(.notFound, "no version \(version) of model \(name)", httpStatus: 404)
        }
        return (number, record)
    }

    // MARK: Streaming downloads

    /// Streams the answer to `GET path` into the new file `destination` (mode 0600): written to a fresh staging
    /// file beside it, synced, then renamed into place, so a failure leaves nothing behind.
    public func download(_ path: String, query: String? = nil, to destination: URL) async throws {
        let response = try await send(.GET, path, query: query)
        let parent = destination.deletingLastPathComponent()
        let staging = parent.appending(path: ".modelvault-download-\(UUID().uuidString)")
        let descriptor = open(
            staging.path(percentEncoded: false), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw VaultClientError(.failure, "cannot write \(destination.lastPathComponent)") }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do {
            for try await chunk in response.body {
                try handle.write(contentsOf: Data(buffer: chunk))
            }
            try handle.synchronize()
            guard rename(staging.path(percentEncoded: false), destination.path(percentEncoded: false)) == 0 else {
                throw VaultClientError(.failure, "cannot move \(destination.lastPathComponent) into place")
            }
        } catch {
            unlink(staging.path(percentEncoded: false))
            if let error = error as? VaultClientError { throw error }
            throw VaultClientError(.failure, "cannot download to \(destination.lastPathComponent)")
        }
    }

    // MARK: Atomic directories

    /// Staging directories this process is filling now, so that a signal handler can remove them before exiting:
    /// a pull killed by SIGTERM otherwise leaves the plaintext decrypted so far beside the output (review 4, F5).
    private static let liveStaging = Mutex<Set<String>>([])

    /// The staging directories (paths) that pulls of this process are filling now.
    public static func liveStagingDirectories() -> Set<String> { liveStaging.withLock { $0 } }

    /// Removes every staging directory a pull of this process is filling; for a signal handler, just before exit.
    public static func removeLiveStagingDirectories() {
        for path in liveStagingDirectories() { try? FileManager.default.removeItem(atPath: path) }
    }

    static func trackStaging(_ url: URL) {
        liveStaging.withLock { _ = $0.insert(url.path(percentEncoded: false)) }
    }

    static func untrackStaging(_ url: URL) {
        liveStaging.withLock { _ = $0.remove(url.path(percentEncoded: false)) }
    }

    /// The name prefix of a pull's staging directories (see `StaleStaging`).
    static let stagingPrefix = ".modelvault-pull-"

    /// Fills a fresh staging directory beside `directory`, then renames it into place. `directory` must not exist
    /// or be empty; on any failure the staging directory is removed and `directory` is untouched.
    static func writeAtomically(into directory: URL, _ fill: (URL) async throws -> Void) async throws {
        let target = directory.path(percentEncoded: false)
        var info = stat()
        var replaceEmpty = false
        if lstat(target, &info) == 0 {
            let contents = (try? FileManager.default.contentsOfDirectory(atPath: target)) ?? ["?"]
            guard info.st_mode & S_IFMT == S_IFDIR, contents.isEmpty else {
                throw VaultClientError(
                    .invalidInput, "the output directory \(directory.lastPathComponent) exists and is not empty")
            }
            replaceEmpty = true
        }
        // What a killed pull (SIGKILL, no cleanup) left beside the output may be plaintext: removed first.
        StaleStaging.sweep(directory.deletingLastPathComponent(), prefix: stagingPrefix)
        let staging = directory.deletingLastPathComponent().appending(path: StaleStaging.name(stagingPrefix))
        guard mkdir(staging.path(percentEncoded: false), 0o700) == 0 else {
            throw VaultClientError(.failure, "cannot create a staging directory beside \(directory.lastPathComponent)")
        }
        trackStaging(staging)
        defer { untrackStaging(staging) }
        do {
            try await fill(staging)
            if replaceEmpty { rmdir(target) }
            guard rename(staging.path(percentEncoded: false), target) == 0 else {
                throw VaultClientError(.failure, "cannot move \(directory.lastPathComponent) into place")
            }
            chmod(target, 0o755)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw error
        }
    }

    /// Writes a new file at the server-named relative `path` under `root`: the path must be relative, with no
    /// empty, `.` or `..` segment, so a hostile answer cannot write outside `root`.
    static func writeNew(_ data: Data, at path: String, under root: URL) throws {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !segments.isEmpty, !path.hasPrefix("/"),
            segments.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && !$0.contains("\0") })
        else { throw VaultClientError(.integrity, "the server named an unsafe file path") }
        var directory = root
        for segment in segments.dropLast() {
            directory = directory.appending(path: String(segment))
            let made = mkdir(directory.path(percentEncoded: false), 0o755)
            var info = stat()
            guard
                made == 0
                    || (lstat(directory.path(percentEncoded: false), &info) == 0
                        && info.st_mode & S_IFMT == S_IFDIR)
            else { throw VaultClientError(.failure, "cannot create \(segment)") }
        }
        let file = directory.appending(path: String(segments.last!))
        let descriptor = open(
            file.path(percentEncoded: false), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw VaultClientError(.failure, "cannot write \(path)") }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do {
            try handle.write(contentsOf: data)
            try handle.synchronize()
        } catch {
            throw VaultClientError(.failure, "cannot write \(path)")
        }
    }
}
