@testable import ModelScan

/// Writes stored zip archives member by member, with knobs for every lie a hostile archive can tell.
struct ZipWriter {
    struct Member {
        var name: String
        var data: [UInt8]
        var flags: UInt16 = 0
        var method: UInt16 = 0
        /// When set, the central directory claims this CRC (the local header too unless `localCRC` is set).
        var crc: UInt32?
        var localCRC: UInt32?
        var localName: String?
        /// When set, this is written instead of `data` (e.g. a deflate stream) with `data` as the claimed content.
        var payload: [UInt8]?
    }

    var members: [Member] = []
    /// Bytes written before the first member.
    var prefix: [UInt8] = []
    /// Raw bytes written between the members and the central directory.
    var hidden: [UInt8] = []

    mutating func add(_ name: String, _ data: [UInt8]) { members.append(Member(name: name, data: data)) }

    var bytes: [UInt8] {
        var out = prefix
        var central: [UInt8] = []
        for member in members {
            let offset = UInt64(out.count)
            let stored = member.payload ?? member.data
            let crc = member.crc ?? CRC32.checksum(member.data)
            let name = Array(member.name.utf8)
            let localName = Array((member.localName ?? member.name).utf8)
            out += le(0x0403_4B50, 4) + le(20, 2) + le(UInt64(member.flags), 2) + le(UInt64(member.method), 2)
            out += le(0, 4) + le(UInt64(member.localCRC ?? crc), 4) + le(UInt64(stored.count), 4)
            out += le(UInt64(member.data.count), 4) + le(UInt64(localName.count), 2) + le(0, 2) + localName + stored
            central += le(0x0201_4B50, 4) + le(20, 2) + le(20, 2) + le(UInt64(member.flags), 2)
            central += le(UInt64(member.method), 2) + le(0, 4) + le(UInt64(crc), 4) + le(UInt64(stored.count), 4)
            central += le(UInt64(member.data.count), 4) + le(UInt64(name.count), 2) + le(0, 2) + le(0, 2) + le(0, 2)
            central += le(0, 2) + le(0, 4) + le(offset, 4) + name
        }
        out += hidden
        let directoryOffset = out.count
        out += central
        out += le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(UInt64(members.count), 2) + le(UInt64(members.count), 2)
        out += le(UInt64(central.count), 4) + le(UInt64(directoryOffset), 4) + le(0, 2)
        return out
    }
}

/// A raw-deflate stream of one stored block (what a deflating writer emits for incompressible data).
func deflateStored(_ data: [UInt8]) -> [UInt8] {
    let length = UInt64(data.count)
    return [0x01] + le(length, 2) + le(~length & 0xFFFF, 2) + data
}
