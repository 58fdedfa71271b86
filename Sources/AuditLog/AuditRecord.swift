import Crypto
public import Foundation

/// One line of the entries file: `<leaf hash hex> <leaf data>\n`, where the leaf data is the canonical JSON
/// `{"entry":<entry>,"seal":"<hex>","index":<n>}` (`seal` absent in records written before it existed). Binding the
/// index into the leaf makes deleted, inserted or swapped records show up at their exact position; the seal, an
/// HMAC-SHA256 of the index and entry under a key derived from the audit key, shows which unsigned records a writer
/// appended (see ``AuditRecovery``).
public struct AuditRecord: Sendable, Equatable {
    /// The log position.
    public var index: UInt64
    /// The exact bytes that are hashed into the leaf.
    public var leafData: Data
    /// SHA-256(0x00 || leafData).
    public var leafHash: TreeHash

    /// Builds the record for an entry's canonical JSON at `index`, sealed under `sealKey` when given.
    init(index: UInt64, entryJSON: Data, sealKey: SymmetricKey? = nil) {
        var data = Data()
        data.reserveCapacity(entryJSON.count + 110)
        data.append(contentsOf: #"{"entry":"#.utf8)
        data.append(entryJSON)
        if let sealKey {
            data.append(contentsOf: #","seal":""#.utf8)
            data.append(contentsOf: Self.hex(Self.seal(index: index, entryJSON: entryJSON, key: sealKey)))
            data.append(UInt8(ascii: "\""))
        }
        data.append(contentsOf: #","index":\#(index)}"#.utf8)
        self.index = index
        self.leafData = data
        self.leafHash = Merkle.leafHash(data)
    }

    /// The line written to the entries file.
    var line: Data {
        var out = Data(leafHash.hex.utf8)
        out.reserveCapacity(66 + leafData.count)
        out.append(0x20)
        out.append(leafData)
        out.append(0x0A)
        return out
    }

    /// Whether the leaf carries a valid seal under `key` for its index and entry.
    func isSealed(by key: SymmetricKey) -> Bool {
        let head = Data(#"{"entry":"#.utf8)
        let tail = Data(#","index":\#(index)}"#.utf8)
        let marker = Data(#","seal":""#.utf8)
        let sealLength = marker.count + 64 + 1
        guard leafData.count > head.count + sealLength + tail.count, leafData.starts(with: head),
            leafData.suffix(tail.count).elementsEqual(tail)
        else { return false }
        let end = leafData.endIndex - tail.count
        let sealStart = end - sealLength
        guard leafData[sealStart..<sealStart + marker.count].elementsEqual(marker),
            leafData[end - 1] == UInt8(ascii: "\"")
        else { return false }
        let stored = leafData[(sealStart + marker.count)..<(end - 1)]
        let entryJSON = leafData[(leafData.startIndex + head.count)..<sealStart]
        let expected = Self.hex(Self.seal(index: index, entryJSON: Data(entryJSON), key: key))
        // Constant time: the seal is a MAC.
        var difference: UInt8 = 0
        for (left, right) in zip(stored, expected) { difference |= left ^ right }
        return stored.count == expected.count && difference == 0
    }

    /// Lower-case hex digits of `bytes`, as ASCII.
    private static func hex(_ bytes: Data) -> [UInt8] {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return out
    }

    private static func seal(index: UInt64, entryJSON: Data, key: SymmetricKey) -> Data {
        var mac = HMAC<SHA256>(key: key)
        mac.update(data: Data("modelvault audit record seal v1\n".utf8))
        withUnsafeBytes(of: index.bigEndian) { mac.update(data: Data($0)) }
        mac.update(data: entryJSON)
        return Data(mac.finalize())
    }

    /// Decodes the entry from the leaf data.
    public func entry() throws -> AuditEntry {
        struct Leaf: Decodable {
            var entry: AuditEntry
            var index: UInt64
        }
        guard let leaf = try? JSONDecoder().decode(Leaf.self, from: leafData), leaf.index == index else {
            throw AuditLogError.corruptRecord
        }
        return leaf.entry
    }

    /// The index written at the end of leaf data (`,"index":N}`), parsed without a JSON decoder.
    static func trailingIndex(_ leaf: UnsafeRawBufferPointer) -> UInt64? {
        guard leaf.count > 10, leaf[leaf.count - 1] == UInt8(ascii: "}") else { return nil }
        var position = leaf.count - 2
        var value: UInt64 = 0
        var multiplier: UInt64 = 1
        var digits = 0
        while position >= 0, leaf[position] >= 0x30, leaf[position] <= 0x39 {
            let (scaled, overflow) = UInt64(leaf[position] - 0x30).multipliedReportingOverflow(by: multiplier)
            guard !overflow, digits < 20 else { return nil }
            value += scaled
            multiplier = multiplier &* 10
            digits += 1
            position -= 1
        }
        let marker = Array(#","index":"#.utf8)
        guard digits > 0, position + 1 >= marker.count else { return nil }
        for (offset, byte) in marker.reversed().enumerated() where leaf[position - offset] != byte { return nil }
        return value
    }
}
