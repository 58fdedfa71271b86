import BlockingWork
import Foundation
import NIOCore
import VaultCrypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Receives a decrypting pull's file stream and decrypts it as it arrives (#14): no ciphertext is written to disk.
///
/// The signed manifest and the signature bundle must come first (the server sends them first); they are held in
/// memory (16 MiB each at most), checked with the pinned verifier, and only then is any `.age` file accepted: a
/// file before them, outside the signed set, or twice is refused. Each `.age` file is decrypted, a bounded batch at
/// a time on the blocking pool (the next batch arrives meanwhile), into its plaintext file in the staging
/// directory, hashed as it is decrypted, flushed to disk, and its digest compared with the signed one when it ends.
/// Any failure throws; the caller removes the staging directory, so nothing reaches the output.
struct DecryptingPullReceiver {
    private enum Stage {
        case pathLength
        case path(Int)
        case size(String)
        case small(path: String, remaining: Int, bytes: [UInt8])
        case sealed(OpenFile, remaining: UInt64)
        case end
    }

    /// An `.age` file being decrypted.
    private struct OpenFile {
        let plain: String
        let descriptor: Int32
        let decryptor: AgeStreamDecryptor
    }

    let staging: URL
    let identity: AgeX25519Identity
    let name: String
    let version: String
    let signatureFileName: String
    let verifier: VaultClient.PinnedVerifier
    private var stage = Stage.pathLength
    private var pending = ByteBuffer()
    /// Sealed bytes gathered for the next hand-over to the decryptor: slices of the received chunks, no copy.
    private var batch: [ByteBuffer] = []
    private var batchBytes = 0
    /// The previous batch, being decrypted while the next one gathers.
    private var inflight: Task<Void, any Error>?
    private var manifest: Data?
    private var signature: Data?
    /// The signed digests (path → SHA-256 hex), once the signature verified.
    private(set) var signed: [String: String]?
    /// The signed plaintext sizes (path → bytes), once the signature verified.
    private var signedSizes: [String: UInt64] = [:]
    private(set) var written: Set<String> = []
    private var seen: Set<String> = []

    /// Bytes gathered before a batch goes to the decryptor.
    static let batchSize = 1 << 20
    /// The largest manifest or signature bundle accepted.
    static let maxSignatureFileBytes = 16 << 20

    init(
        staging: URL, identity: AgeX25519Identity, name: String, version: String, signatureFileName: String,
        verifier: VaultClient.PinnedVerifier
    ) {
        self.staging = staging
        self.identity = identity
        self.name = name
        self.version = version
        self.signatureFileName = signatureFileName
        self.verifier = verifier
    }

    var finished: Bool {
        if case .end = stage { return true }
        return false
    }

    private var label: String { "\(name)@\(version)" }

    private var notThoseFiles: VaultClientError {
        VaultClientError(.integrity, "the pulled files are not those of \(label)")
    }

    /// Parses the next bytes of the stream.
    mutating func consume(_ buffer: ByteBuffer) async throws {
        if pending.readableBytes == 0 {
            pending = buffer
        } else {
            pending.writeImmutableBuffer(buffer)
        }
        while true {
            switch stage {
            case .pathLength:
                guard let length = pending.readInteger(endianness: .big, as: UInt16.self) else { return compact() }
                stage = length == 0 ? .end : .path(Int(length))
            case .path(let length):
                guard let path = pending.readString(length: length) else { return compact() }
                guard seen.insert(path).inserted else {
                    throw VaultClientError(.integrity, "the server sent \(path) twice")
                }
                stage = .size(path)
            case .size(let path):
                guard let size = pending.readInteger(endianness: .big, as: UInt64.self) else { return compact() }
                try await begin(path, size: size)
            case .small(let path, let remaining, var bytes):
                let take = min(remaining, pending.readableBytes)
                guard take > 0 || remaining == 0 else { return compact() }
                bytes += pending.readBytes(length: take) ?? []
                if remaining - take == 0 {
                    try await finishSmall(path, Data(bytes))
                } else {
                    stage = .small(path: path, remaining: remaining - take, bytes: bytes)
                }
            case .sealed(let file, let remaining):
                let take = Int(min(UInt64(pending.readableBytes), remaining))
                guard take > 0 || remaining == 0 else { return compact() }
                batch.append(pending.readSlice(length: take)!)
                batchBytes += take
                if remaining - UInt64(take) == 0 {
                    try await finishSealed(file)
                } else {
                    stage = .sealed(file, remaining: remaining - UInt64(take))
                    if batchBytes >= Self.batchSize { try await handOver(file) }
                }
            case .end:
                guard pending.readableBytes == 0 else {
                    throw VaultClientError(.failure, "the server sent data after its file stream")
                }
                return compact()
            }
        }
    }

    /// A drained buffer is dropped rather than compacted: its storage is still shared with slices being decrypted.
    private mutating func compact() {
        if pending.readableBytes == 0 { pending = ByteBuffer() } else { pending.discardReadBytes() }
    }

    /// A file header: the signature files (before anything else), or an `.age` file of the signed set.
    private mutating func begin(_ path: String, size: UInt64) async throws {
        if VaultClient.isSignatureFile(path, signatureFileName: signatureFileName) {
            guard signed == nil, size <= UInt64(Self.maxSignatureFileBytes) else { throw notThoseFiles }
            stage = .small(path: path, remaining: Int(size), bytes: [])
            return
        }
        guard let signed else {
            throw VaultClientError(
                .integrity, "the server sent \(label)'s files before its signed manifest: refusing the pull")
        }
        guard path.hasSuffix(".age"), signed[String(path.dropLast(4))] != nil else { throw notThoseFiles }
        let plain = String(path.dropLast(4))
        // A hostile server could otherwise fill the disk before the digest check at the file's end refuses it.
        guard size <= VaultClient.largestSealedSize(ofPlaintext: signedSizes[plain] ?? 0) else {
            throw VaultClientError(
                .integrity, "the server sent \(plain) of \(label) larger than its signed size: refusing the pull")
        }
        try VaultClient.writeNew(Data(), at: plain, under: staging)
        let descriptor = open(
            staging.appending(path: plain).path(percentEncoded: false), O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw VaultClientError(.failure, "cannot write \(plain)") }
        stage = .sealed(
            OpenFile(
                plain: plain, descriptor: descriptor,
                decryptor: AgeStreamDecryptor(identities: [identity], output: descriptor)),
            remaining: size)
    }

    /// The manifest or the signature bundle is complete: kept, and once both are here, checked.
    private mutating func finishSmall(_ path: String, _ data: Data) async throws {
        if path == signatureFileName { signature = data } else { manifest = data }
        try VaultClient.writeNew(data, at: path, under: staging)
        stage = .pathLength
        guard let manifest, let signature else { return }
        signed = try VaultClient.verifiedDigests(
            manifest: manifest, signature: signature, verifier: verifier, name: name, version: version)
        signedSizes = VaultClient.signedSizes(manifest: manifest)
    }

    /// Hands the gathered sealed bytes to the decryptor once the batch before is done: decryption runs on the
    /// blocking pool while the next batch arrives, and batches reach the decryptor in order.
    private mutating func handOver(_ file: OpenFile) async throws {
        let buffers = batch
        batch = []
        batchBytes = 0
        let previous = inflight
        inflight = nil
        try await decrypting(file) { try await previous?.value }
        let decryptor = file.decryptor
        inflight = Task {
            try await BlockingExecutor.shared.run {
                for buffer in buffers { try buffer.withUnsafeReadableBytes { try decryptor.consume($0) } }
            }
        }
    }

    /// An `.age` file ended: its last batch decrypted, its digest checked against the signed one, flushed.
    private mutating func finishSealed(_ file: OpenFile) async throws {
        try await handOver(file)
        let last = inflight
        inflight = nil
        try await decrypting(file) { try await last?.value }
        let descriptor = file.descriptor
        let plain = file.plain
        let digest = try await decrypting(file) {
            try await BlockingExecutor.shared.run { () throws -> AgePlaintextDigest in
                let digest = try file.decryptor.finish()
                guard fsync(descriptor) == 0 else { throw VaultClientError(.failure, "cannot write \(plain)") }
                return digest
            }
        }
        close(file.descriptor)
        stage = .pathLength
        let hex = digest.sha256.map { String(format: "%02x", $0) }.joined()
        guard hex == signed?[file.plain] else {
            throw VaultClientError(.integrity, "\(file.plain) of \(label) does not match its digest")
        }
        written.insert(file.plain)
    }

    /// Runs `body`, reporting a failure to decrypt or write `file` by name.
    private func decrypting<T>(_ file: OpenFile, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as AgeError where error.kind == .output {
            throw VaultClientError(.failure, "cannot write \(file.plain)")
        } catch let error as VaultClientError {
            throw error
        } catch {
            throw VaultClientError(.integrity, "cannot decrypt \(file.plain) of \(label)")
        }
    }

    /// After the end marker: every signed file arrived and checked.
    func checkComplete() throws {
        guard let signed else {
            throw VaultClientError(
                .integrity, "the signature of \(label) does not verify with the pinned verifier: refusing the pull")
        }
        guard written == Set(signed.keys) else { throw notThoseFiles }
    }

    /// Waits for a batch still being decrypted and closes an open file (the caller then removes the staging).
    mutating func abandon() async {
        _ = try? await inflight?.value
        inflight = nil
        if case .sealed(let file, _) = stage { close(file.descriptor) }
        stage = .end
    }
}
