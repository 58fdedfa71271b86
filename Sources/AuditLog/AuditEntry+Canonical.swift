public import Foundation

extension AuditEntry {
    /// The canonical form: JSON with keys in sorted order, one line, no insignificant whitespace, strings escaped
    /// minimally (`"`, `\` and control characters only). Written by hand because it is on the append hot path and
    /// its bytes are what the Merkle leaf commits to; `JSONDecoder` reads it back.
    public func canonicalJSON() throws -> Data {
        var out = [UInt8]()
        out.reserveCapacity(256)
        out.append(UInt8(ascii: "{"))
        Self.appendMember("action", action, to: &out, first: true)
        if let clientAddress { Self.appendMember("client", clientAddress, to: &out) }
        if let detail { Self.appendMember("detail", detail, to: &out) }
        Self.appendMember("outcome", outcome.rawValue, to: &out)
        Self.appendMember("principal", principal, to: &out)
        Self.appendMember("request", requestID, to: &out)
        Self.appendMember("resource", resource, to: &out)
        Self.appendMember("time", Self.timestamp(time), to: &out)
        out.append(UInt8(ascii: "}"))
        return Data(out)
    }

    private static func appendMember(_ key: StaticString, _ value: String, to out: inout [UInt8], first: Bool = false) {
        if !first { out.append(UInt8(ascii: ",")) }
        out.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        appendString(value, to: &out)
    }

    private static func appendString(_ value: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x00..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// RFC 3339 UTC with exactly three fractional digits (`2027-01-15T08:00:00.123Z`), from whole milliseconds.
    static func timestamp(_ time: Date) -> String {
        let milliseconds = Int64((time.timeIntervalSince1970 * 1000).rounded())
        var seconds = milliseconds / 1000
        var millis = milliseconds % 1000
        if millis < 0 {
            seconds -= 1
            millis += 1000
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            days -= 1
            secondOfDay += 86_400
        }
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(millis, 3))Z"
    }

    /// Proleptic Gregorian date of a day count since 1970-01-01 (the "civil from days" algorithm, H. Hinnant).
    static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
