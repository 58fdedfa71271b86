import Foundation
import TestSupport
import Testing

/// One C2SP CCTV age test vector: a textual header, an empty line, then the (possibly zlib-compressed) file.
struct CCTVVector: Sendable, CustomStringConvertible {
    let name: String
    let expect: String
    let payloadHash: String?
    let identities: [String]
    let passphrases: [String]
    let armored: Bool
    let fileKeyHex: String?
    let file: [UInt8]

    var description: String { name }

    static let directory = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/age-cctv")

    static var names: [String] {
        let all = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return all.filter { !$0.hasSuffix(".md") }.sorted()
    }

    static func load(_ name: String) throws -> CCTVVector {
        let raw = [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
        guard let split = raw.indices.first(where: { raw[$0] == 10 && $0 + 1 < raw.count && raw[$0 + 1] == 10 }) else {
            throw VectorError("vector \(name) has no header separator")
        }
        let text = String(decoding: raw[..<split], as: UTF8.self)
        var fields: [(String, String)] = []
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields.append((String(line[..<colon]), String(line[line.index(colon, offsetBy: 2)...])))
        }
        func values(_ key: String) -> [String] { fields.filter { $0.0 == key }.map(\.1) }
        var file = Array(raw[(split + 2)...])
        if values("compressed").first == "zlib" { file = try inflate(file) }
        return CCTVVector(
            name: name, expect: values("expect").first ?? "", payloadHash: values("payload").first,
            identities: values("identity"), passphrases: values("passphrase"),
            armored: values("armored").first == "yes", fileKeyHex: values("file key").first, file: file)
    }

    /// zlib inflate through Python (Foundation on Linux has no zlib API).
    static func inflate(_ bytes: [UInt8]) throws -> [UInt8] {
        let result = try ChildProcess.python(
            "import sys,zlib; sys.stdout.buffer.write(zlib.decompress(sys.stdin.buffer.read()))", input: Data(bytes)
        ).run()
        guard result.status == 0 else { throw VectorError("zlib inflate failed") }
        return [UInt8](result.stdoutData)
    }
}

struct VectorError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Array where Element == UInt8 {
    init?(hex: String) {
        var bytes: [UInt8] = []
        var iterator = hex.utf8.makeIterator()
        while let high = iterator.next() {
            guard let low = iterator.next(), let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            else { return nil }
            bytes.append(value)
        }
        self = bytes
    }

    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
