public import Foundation

/// A parsed CSV file: a header row and records of text fields (RFC 4180: quoted fields may hold commas, quotes
/// written as "" and line breaks; LF or CRLF line ends; blank lines are skipped).
public struct CSVTable: Sendable, Equatable {
    /// The column names from the first record.
    public var header: [String]
    /// The data records, each with exactly `header.count` fields.
    public var rows: [[String]]

    /// Creates a table from a header and rows of the same width.
    public init(header: [String], rows: [[String]]) {
        self.header = header
        self.rows = rows
    }

    /// Parses CSV text. Errors name the (1-based) data row, never a field's value.
    public static func parse(_ data: Data) throws(MLError) -> CSVTable {
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }  // UTF-8 byte-order mark
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw MLError(.invalidCSV, "the file is not UTF-8 text")
        }
        var records: [[String]] = []
        var record: [String] = []
        var field: [UInt8] = []
        var index = 0
        var inQuotes = false
        var fieldWasQuoted = false
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), newline = UInt8(ascii: "\n")
        let carriageReturn = UInt8(ascii: "\r")

        func rowLabel() -> String { records.isEmpty ? "the header" : "row \(records.count)" }
        func endField() {
            record.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            fieldWasQuoted = false
        }
        func endRecord() {
            endField()
            // A line holding nothing at all is a blank line, not a record with one empty field.
            if !(record.count == 1 && record[0].isEmpty) { records.append(record) }
            record.removeAll(keepingCapacity: true)
        }

        while index < bytes.count {
            let byte = bytes[index]
            if inQuotes {
                if byte == quote {
                    if index + 1 < bytes.count && bytes[index + 1] == quote {
                        field.append(quote)
                        index += 1
                    } else {
                        inQuotes = false
                        let next = index + 1 < bytes.count ? bytes[index + 1] : newline
                        guard next == comma || next == newline || next == carriageReturn else {
                            throw MLError(.invalidCSV, "\(rowLabel()) has text after a closing quote")
                        }
                    }
                } else {
                    field.append(byte)
                }
            } else if byte == quote {
                guard field.isEmpty, !fieldWasQuoted else {
                    throw MLError(.invalidCSV, "\(rowLabel()) has a quote inside an unquoted field")
                }
                inQuotes = true
                fieldWasQuoted = true
            } else if byte == comma {
                endField()
            } else if byte == newline {
                endRecord()
            } else if byte == carriageReturn {
                guard index + 1 == bytes.count || bytes[index + 1] == newline else {
                    throw MLError(.invalidCSV, "\(rowLabel()) has a bare carriage return")
                }
            } else {
                field.append(byte)
            }
            index += 1
        }
        guard !inQuotes else { throw MLError(.invalidCSV, "\(rowLabel()) has an unterminated quoted field") }
        if !field.isEmpty || !record.isEmpty || fieldWasQuoted { endRecord() }

        guard let header = records.first else { throw MLError(.invalidCSV, "the file has no header row") }
        let names = header.map { $0.trimmingCharacters(in: .whitespaces) }
        var seen = Set<String>()
        for name in names {
            guard !name.isEmpty else { throw MLError(.invalidCSV, "the header has an empty column name") }
            guard seen.insert(name).inserted else {
                throw MLError(.invalidCSV, "the header names column '\(name)' twice")
            }
        }
        let rows = Array(records.dropFirst())
        for (number, row) in rows.enumerated() where row.count != names.count {
            throw MLError(
                .invalidCSV, "row \(number + 1) has \(row.count) fields but the header has \(names.count)")
        }
        return CSVTable(header: names, rows: rows)
    }

    /// The CSV text of this table (fields quoted when they need it, LF line ends).
    public func text() -> String {
        var out = header.map(Self.escape).joined(separator: ",") + "\n"
        for row in rows {
            out += row.map(Self.escape).joined(separator: ",") + "\n"
        }
        return out
    }

    /// A field quoted if it holds a comma, a quote or a line break.
    static func escape(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The numeric matrix of the named columns, in the order given. Errors name the row and the column only.
    public func numericColumns(_ names: [String]) throws(MLError) -> Tensor {
        var positions: [Int] = []
        for name in names {
            guard let position = header.firstIndex(of: name) else {
                throw MLError(.invalidCSV, "column '\(name)' is missing")
            }
            positions.append(position)
        }
        var values = [Float](repeating: 0, count: rows.count * names.count)
        for (rowIndex, row) in rows.enumerated() {
            for (column, position) in positions.enumerated() {
                guard let value = Float(row[position].trimmingCharacters(in: .whitespaces)), value.isFinite else {
                    throw MLError(
                        .invalidCSV, "row \(rowIndex + 1), column '\(names[column])' is not a finite number")
                }
                values[rowIndex * names.count + column] = value
            }
        }
        return Tensor(shape: [rows.count, names.count], scalars: values)
    }
}
