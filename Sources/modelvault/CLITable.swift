/// Prints `rows` under an upper-case `header`, each column padded to its widest cell (as `kubectl get` and
/// `docker ps` do), so a list reads as a table and a script can skip the first line.
func printTable(_ header: [String], _ rows: [[String]]) {
    var widths = header.map(\.count)
    for row in rows {
        for (column, cell) in row.enumerated() where column < widths.count {
            widths[column] = max(widths[column], cell.count)
        }
    }
    for row in [header] + rows {
        let cells = row.enumerated().map { column, cell in
            column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
        }
        print(cells.joined(separator: "  ").trimmingTrailingSpaces)
    }
}

extension String {
    /// The string without trailing spaces (a last empty column leaves none).
    fileprivate var trimmingTrailingSpaces: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
