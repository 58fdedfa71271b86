public import AsyncHTTPClient
public import Foundation
import NIOCore
import NIOHTTP1
public import VaultServer

/// The streamed upload and download routes (`application/vnd.modelvault.files`): files one after another, each as a
/// big-endian `UInt16` path length, the UTF-8 relative path, a big-endian `UInt64` size and the bytes, ended by a
/// zero path length. One 1 MiB chunk at a time on either side, so a 1 GiB model moves in constant memory.
extension VaultClient {
    static let fileStreamType = "application/vnd.modelvault.files"
    static let chunkSize = 1 << 20

    /// A file to send: its path in the stream and where it is on disk.
    public struct OutgoingFile: Sendable {
        /// The relative path the server stores it under.
        public var path: String
        /// The file on disk (read without following a symbolic link).
        public var url: URL
        /// Its size when listed; a file that changes size while it is sent fails the upload.
        public var size: UInt64

        /// A file to send.
        public init(path: String, url: URL, size: UInt64) {
            self.path = path
            self.url = url
            self.size = size
        }
    }

    /// The regular files of a model at `url` (a file, or a directory walked without following symbolic links).
    public static func outgoingModelFiles(at url: URL) throws -> [OutgoingFile] {
        var info = stat()
        guard lstat(url.path(percentEncoded: false), &info) == 0 else {
            throw VaultClientError(.notFound, "cannot read \(url.lastPathComponent): no such file")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            return [OutgoingFile(path: url.lastPathComponent, url: url, size: UInt64(info.st_size))]
        case S_IFDIR:
            var files: [OutgoingFile] = []
            try walkRegularFiles(url, prefix: "") { relative, file, size in
                files.append(OutgoingFile(path: relative, url: file, size: size))
            }
            guard !files.isEmpty else { throw VaultClientError(.invalidInput, "no model files given") }
            // `.modelvault/` is the vault's own name space (a local push refuses it too); sent, it would be taken as
            // the push's metadata (review of the arriving push, F3: a downloaded directory's metrics and publisher
            // signature were recorded as if given with --metrics and --signature).
            if let reserved = files.first(where: { $0.path == ".modelvault" || $0.path.hasPrefix(".modelvault/") }) {
                throw VaultClientError(.invalidInput, "invalid file path in a version: \(reserved.path)")
            }
            return files
        default:
            throw VaultClientError(.invalidInput, "not a regular file or directory: \(url.lastPathComponent)")
        }
    }

    /// Hears the bytes moved so far out of the total: file bytes sent on an upload, stream bytes received on a
    /// download.
    public typealias TransferProgress = @Sendable (_ done: Int64, _ total: Int64) -> Void

    /// Sends `files` as a file stream to `path` and returns the answer's body (at most `maxResponseBytes`).
    func upload(
        _ files: [OutgoingFile], to path: String, query: String?, progress: TransferProgress? = nil
    ) async throws -> Data {
        var request = HTTPClientRequest(
            url: configuration.server.absoluteString + path + (query.map { "?" + $0 } ?? ""))
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(configuration.token)")
        request.headers.add(name: "Content-Type", value: Self.fileStreamType)
        var length: Int64 = 2
        for file in files {
            let (sum, overflow) = length.addingReportingOverflow(10 + Int64(file.path.utf8.count))
            guard !overflow, file.size <= UInt64(Int64.max - sum) else {
                throw VaultClientError(.invalidInput, "the files are too large to send")
            }
            length = sum + Int64(file.size)
        }
        let total = files.reduce(Int64(0)) { $0 + Int64($1.size) }
        progress?(0, total)
        var sent: (@Sendable (Int64) -> Void)?
        if let progress { sent = { done in progress(done, total) } }
        request.body = .stream(FileStreamBody(files: files, progress: sent), length: .known(length))
        let response = try await execute(request)
        return Data(buffer: try await response.body.collect(upTo: configuration.maxResponseBytes))
    }

    /// Receives the file stream answered to `GET path` (or `method` with a JSON `body`) into `directory` (new, or empty), atomically; `flat` refuses
    /// paths with a directory part. Returns the paths received.
    func downloadFiles(
        _ path: String, query: String?, into directory: URL, flat: Bool, progress: TransferProgress? = nil,
        method: HTTPMethod = .GET, json body: Data? = nil, accept: ([String]) throws -> Void = { _ in }
    ) async throws -> [String] {
        let response = try await send(method, path, query: query, json: body)
        let total = response.headers.first(name: "Content-Length").flatMap { Int64($0) } ?? 0
        progress?(0, total)
        var received: [String] = []
        try await Self.writeAtomically(into: directory) { staging in
            var parser = FileStreamParser(root: staging, flat: flat)
            defer { parser.close() }
            var done: Int64 = 0
            for try await buffer in response.body {
                try parser.consume(buffer)
                done += Int64(buffer.readableBytes)
                progress?(done, max(total, done))
            }
            guard parser.finished else { throw VaultClientError(.failure, "the server's file stream was cut off") }
            received = parser.paths
            // Checked before the rename: a refused set leaves nothing in `directory`.
            try accept(received)
        }
        return received
    }

    // MARK: The streamed routes

    /// What `model push` takes besides the files, sent with a streamed push: query parameters, and the metadata
    /// files (read from disk as the files are) ahead of the model's files under `.modelvault/`.
    public struct PushOptions: Sendable {
        /// Dataset versions the model came from, `NAME@V`.
        public var datasets: [String] = []
        /// Scanner findings to admit anyway (needs `model.scan`).
        public var accept: [String] = []
        /// `strict`, or nil for the default policy.
        public var scanPolicy: String?
        /// A JSON file of metrics.
        public var metrics: URL?
        /// The publisher's OpenSSF signature bundle and public key (PEM), checked by the vault before storing.
        public var publisherSignature: (bundle: URL, publicKey: URL)?

        /// No options.
        public init() {}

        var query: String? {
            var items = datasets.map { "dataset=" + VaultClient.queryValue($0) }
            items += accept.map { "accept=" + VaultClient.queryValue($0) }
            if let scanPolicy { items.append("scanPolicy=" + VaultClient.queryValue(scanPolicy)) }
            return items.isEmpty ? nil : items.joined(separator: "&")
        }

        /// The metadata files, in the order the server expects them (before any model file).
        func metadataFiles() throws -> [OutgoingFile] {
            var named: [(String, URL)] = []
            if let metrics { named.append((UploadedPushOptions.metricsPath, metrics)) }
            if let (bundle, key) = publisherSignature {
                named.append((UploadedPushOptions.publisherSignaturePath, bundle))
                named.append((UploadedPushOptions.publisherKeyPath, key))
            }
            return try named.map { path, url in
                var info = stat()
                guard lstat(url.path(percentEncoded: false), &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
                    throw VaultClientError(.invalidInput, "cannot read \(url.lastPathComponent): not a regular file")
                }
                return OutgoingFile(path: path, url: url, size: UInt64(info.st_size))
            }
        }
    }

    /// `POST /v1/models/{model}/upload`: pushes the files, streamed from disk; the server scans, encrypts and signs
    /// them like a local push, with `options` as `model push` takes them.
    public func pushModel(
        _ name: String, streaming files: [OutgoingFile], options: PushOptions = PushOptions(),
        progress: TransferProgress? = nil
    ) async throws -> RegistryModelVersion {
        let data = try await upload(
            try options.metadataFiles() + files, to: Self.path("", "v1", "models", name, "upload"),
            query: options.query, progress: progress)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let created = try? decoder.decode(RegistryModelVersion.self, from: data) else {
            throw VaultClientError(.failure, "the server's answer is not the expected JSON")
        }
        return created
    }

    /// `POST /v1/datasets/{dataset}/upload`: adds the files (flat names) as a new dataset version; the version's
    /// record (JSON).
    public func addDataset(
        _ name: String, files: [OutgoingFile], description: String?, processed: Bool,
        progress: TransferProgress? = nil
    ) async throws -> Data {
        var query: [String] = []
        if let description { query.append("description=" + Self.queryValue(description)) }
        if processed { query.append("processed=true") }
        return try await upload(
            files, to: Self.path("", "v1", "datasets", name, "upload"),
            query: query.isEmpty ? nil : query.joined(separator: "&"), progress: progress)
    }

    /// `GET /v1/datasets/{dataset}/versions/{version}/download`: the decrypted files, streamed into `directory`
    /// (new, or empty) and renamed into place once complete. Returns the file names.
    public func getDataset(
        _ name: String, version: Int, into directory: URL, progress: TransferProgress? = nil
    ) async throws -> [String] {
        try await downloadFiles(
            Self.path("", "v1", "datasets", name, "versions", String(version), "download"), query: nil,
            into: directory, flat: true, progress: progress)
    }

    static func queryValue(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    // MARK: Walking

    static func walkRegularFiles(
        _ directory: URL, prefix: String, _ visit: (String, URL, UInt64) throws -> Void
    ) throws {
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
            case S_IFDIR: try walkRegularFiles(url, prefix: relative, visit)
            case S_IFREG: try visit(relative, url, UInt64(info.st_size))
            default: throw VaultClientError(.invalidInput, "not a regular file or directory: \(relative)")
            }
        }
    }
}

/// The request body of an upload: each file's header, then its bytes read one chunk at a time as the connection
/// asks for them (so at most a chunk or two is in memory), then the end marker.
struct FileStreamBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let files: [VaultClient.OutgoingFile]
    /// Hears the file bytes read for sending so far.
    var progress: (@Sendable (Int64) -> Void)?

    func makeAsyncIterator() -> Iterator { Iterator(files: files, progress: progress) }

    struct Iterator: AsyncIteratorProtocol {
        let files: [VaultClient.OutgoingFile]
        let progress: (@Sendable (Int64) -> Void)?
        var index = 0
        var handle: FileHandle?
        var remaining: UInt64 = 0
        var sent: Int64 = 0
        var ended = false
        /// The last chunks sent, kept to be filled again: once the connection has encrypted one and let it go,
        /// it is ours alone and `clear()` keeps its storage. A fresh 1 MiB buffer per chunk was mapped, faulted
        /// in page by page and unmapped again (about a tenth of the client's CPU in a 1 GiB push); one still in
        /// use is copied on write, as any `ByteBuffer` is.
        var recycled: [ByteBuffer] = Array(repeating: ByteBuffer(), count: 4)
        var slot = 0

        init(files: [VaultClient.OutgoingFile], progress: (@Sendable (Int64) -> Void)?) {
            self.files = files
            self.progress = progress
        }

        mutating func next() async throws -> ByteBuffer? {
            if let handle {
                if remaining > 0 {
                    let count = Int(Swift.min(UInt64(VaultClient.chunkSize), remaining))
                    // Read straight into the buffer that is sent: one copy, not two.
                    let descriptor = handle.fileDescriptor
                    var buffer = recycled[slot]
                    recycled[slot] = ByteBuffer()
                    buffer.clear()
                    let filled = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
                        var result = 0
                        repeat {
                            result = read(descriptor, raw.baseAddress!, count)
                        } while result < 0 && errno == EINTR
                        return Swift.max(result, 0)
                    }
                    guard filled > 0 else {
                        throw VaultClientError(.failure, "\(files[index].path) changed while it was sent")
                    }
                    remaining -= UInt64(filled)
                    sent += Int64(filled)
                    progress?(sent)
                    recycled[slot] = buffer
                    slot = (slot + 1) % recycled.count
                    return buffer
                }
                try? handle.close()
                self.handle = nil
                index += 1
            }
            if index < files.count {
                let file = files[index]
                let descriptor = open(file.url.path(percentEncoded: false), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
                guard descriptor >= 0 else { throw VaultClientError(.failure, "cannot read \(file.path)") }
                handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
                remaining = file.size
                let path = Array(file.path.utf8)
                guard (1...4096).contains(path.count) else {
                    throw VaultClientError(.invalidInput, "the file path \(file.path) is too long")
                }
                var header = ByteBuffer()
                header.writeInteger(UInt16(path.count), endianness: .big)
                header.writeBytes(path)
                header.writeInteger(file.size, endianness: .big)
                return header
            }
            guard !ended else { return nil }
            ended = true
            return ByteBuffer(bytes: [0, 0])
        }
    }
}

/// Parses a downloaded file stream into files under `root`, a chunk at a time, refusing unsafe paths.
struct FileStreamParser {
    let root: URL
    let flat: Bool
    var pending = ByteBuffer()
    var handle: FileHandle?
    var remaining: UInt64 = 0
    var finished = false
    var paths: [String] = []

    init(root: URL, flat: Bool) {
        self.root = root
        self.flat = flat
    }

    mutating func consume(_ buffer: ByteBuffer) throws {
        pending.writeImmutableBuffer(buffer)
        while true {
            if handle != nil {
                if remaining == 0 {
                    try finishFile()
                    continue
                }
                let count = Int(Swift.min(UInt64(pending.readableBytes), remaining))
                guard count > 0, let bytes = pending.readSlice(length: count) else { break }
                try handle?.write(contentsOf: bytes.readableBytesView)
                remaining -= UInt64(count)
                continue
            }
            if finished {
                guard pending.readableBytes == 0 else {
                    throw VaultClientError(.failure, "the server sent data after its file stream")
                }
                break
            }
            guard try parseHeader() else { break }
        }
        pending.discardReadBytes()
    }

    /// Reads the end marker or one file header from `pending`; false when it is not complete yet.
    private mutating func parseHeader() throws -> Bool {
        guard let length = pending.getInteger(at: pending.readerIndex, endianness: .big, as: UInt16.self) else {
            return false
        }
        if length == 0 {
            pending.moveReaderIndex(forwardBy: 2)
            finished = true
            return true
        }
        guard pending.readableBytes >= 2 + Int(length) + 8 else { return false }
        pending.moveReaderIndex(forwardBy: 2)
        let path = pending.readString(length: Int(length)) ?? ""
        let size = pending.readInteger(endianness: .big, as: UInt64.self) ?? 0
        guard !flat || !path.contains("/") else {
            throw VaultClientError(.integrity, "the server named an unsafe file path")
        }
        guard !paths.contains(path) else { throw VaultClientError(.integrity, "the server sent \(path) twice") }
        try VaultClient.writeNew(Data(), at: path, under: root)
        let descriptor = open(
            root.appending(path: path).path(percentEncoded: false), O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw VaultClientError(.failure, "cannot write \(path)") }
        handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        paths.append(path)
        remaining = size
        return true
    }

    private mutating func finishFile() throws {
        try handle?.synchronize()
        try handle?.close()
        handle = nil
    }

    mutating func close() { try? handle?.close() }
}
