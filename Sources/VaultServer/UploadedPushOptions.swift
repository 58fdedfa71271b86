public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a streamed `model push` asks beyond its files, as `modelvault model push` takes it locally: the query's
/// `alias`, `dataset` (repeatable), `accept` (repeatable) and `scanPolicy`, and the `.modelvault/` metadata files
/// the stream sends before any model file (the metrics, the publisher's signature and public key).
public struct UploadedPushOptions: Sendable, Equatable {
    /// An alias to point at the new version (needs `model.alias`).
    public var alias: String?
    /// Dataset versions the model came from, `NAME@V` (`--dataset`).
    public var datasets: [String] = []
    /// Scanner findings to admit anyway, `FILE#FINDING-ID` or `FINDING-ID` (`--accept`; needs `model.scan`).
    public var accept: [String] = []
    /// `default` or `strict` (`--scan-policy`); nil for the default.
    public var scanPolicy: String?
    /// The metrics file's bytes (`--metrics`), a JSON object.
    public var metrics: Data?
    /// The publisher's OpenSSF signature bundle (`--signature`).
    public var publisherSignature: Data?
    /// The publisher's public key, PEM (`--public-key`).
    public var publisherKey: Data?

    /// Nothing but the files.
    public init() {}

    /// Whether anything beyond an alias is asked (a backend that stores only whole directories honours none).
    var asksMoreThanAnAlias: Bool {
        !datasets.isEmpty || !accept.isEmpty || scanPolicy != nil || metrics != nil || publisherSignature != nil
            || publisherKey != nil
    }

    /// Where a push stream's metadata files are named (the vault's reserved name space), before any model file.
    public static let metadataPrefix = ".modelvault/"
    /// The metadata files a push stream may carry, before any model file: the stream path → what it fills.
    public static let metricsPath = ".modelvault/metrics.json"
    /// See ``metricsPath``.
    public static let publisherSignaturePath = ".modelvault/publisher.sig"
    /// See ``metricsPath``.
    public static let publisherKeyPath = ".modelvault/publisher.pem"
    /// The largest metadata file accepted.
    static let maxMetadataBytes = 1 << 20

    /// Fills the metadata fields from the files the stream put below `directory` (each at most 1 MiB, no link
    /// followed); any other `.modelvault/` name is a malformed stream.
    mutating func read(metadata paths: [String], below directory: URL) throws {
        for path in paths {
            let bytes = try Self.readBounded(directory.appending(path: path))
            switch path {
            case Self.metricsPath: metrics = bytes
            case Self.publisherSignaturePath: publisherSignature = bytes
            case Self.publisherKeyPath: publisherKey = bytes
            default: throw FileStream.malformed("unknown metadata file")
            }
        }
        guard (publisherSignature == nil) == (publisherKey == nil) else {
            throw APIError.badRequest("the publisher's signature and public key go together")
        }
    }

    private static func readBounded(_ url: URL) throws -> Data {
        let descriptor = open(url.path(percentEncoded: false), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw APIError.internalError }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        guard let data = try? handle.read(upToCount: maxMetadataBytes + 1) else { return Data() }
        guard data.count <= maxMetadataBytes else { throw APIError.bodyTooLarge }
        return data
    }
}
