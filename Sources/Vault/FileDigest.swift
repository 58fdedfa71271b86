import Crypto
public import Foundation

/// The SHA-256 and byte count of a file's plaintext.
public struct FileDigest: Sendable, Hashable {
    /// The SHA-256 of the contents.
    public var sha256: [UInt8]
    /// The number of bytes.
    public var size: Int

    /// A digest from its parts.
    public init(sha256: [UInt8], size: Int) {
        self.sha256 = sha256
        self.size = size
    }

    /// The digest of a buffer.
    public init(of data: Data) {
        self.init(sha256: Array(SHA256.hash(data: data)), size: data.count)
    }

    /// The digest of a file, read in 4 MiB chunks.
    public init(ofFileAt url: URL) throws {
        guard let handle = try? FileHandle(forReadingFrom: url) else {
            throw VaultError(.unreadableInput, "cannot read \(url.lastPathComponent)")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        var size = 0
        while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            size += chunk.count
        }
        self.init(sha256: Array(hasher.finalize()), size: size)
    }

    /// The digest as lower-case hex.
    public var hex: String { sha256.hexString }
}

extension Sequence<UInt8> {
    /// Lower-case hex of the bytes.
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension [UInt8] {
    /// Bytes from lower- or upper-case hex, or `nil`.
    init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x61...0x66: c - 0x61 + 10
            case 0x41...0x46: c - 0x41 + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self = bytes
    }
}
