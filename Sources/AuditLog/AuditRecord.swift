public import Foundation

/// One line of the entries file: `<leaf hash hex> <leaf data>\n`, where the leaf data is the canonical JSON
/// `{"entry":<entry>,"index":<n>}`. Binding the index into the leaf makes deleted, inserted or swapped records
/// show up at their exact position.
public struct AuditRecord: Sendable, Equatable {
    /// The log position.
    public var index: UInt64
    /// The exact bytes that are hashed into the leaf.
    public var leafData: Data
    /// SHA-256(0x00 || leafData).
    public var leafHash: TreeHash

    /// Builds the record for an entry's canonical JSON at `index`.
    init(index: UInt64, entryJSON: Data) {
        var data = Data()
        data.reserveCapacity(entryJSON.count + 32)
        data.append(contentsOf: #"{"entry":"#.utf8)
        data.append(entryJSON)
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
