/// Text from requests and audit entries made safe for one line of a log or a terminal (review 4, F5–F7).
///
/// A log line is trusted to be one record: a newline, a carriage return, NEL (U+0085), a Unicode line or paragraph
/// separator (U+2028, U+2029) or a C1 or ANSI escape in a caller's text would let it forge a line or restyle the
/// terminal, and a bidi override (a format character) would reorder what a reader sees.
public enum LogText {
    /// Whether `scalar` may appear as is: not a control (Cc), format (Cf), line or paragraph separator (Zl, Zp),
    /// surrogate or unassigned code point.
    public static func isSafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .unassigned: false
        default: true
        }
    }

    /// Whether every scalar of `text` is safe.
    public static func isSafe(_ text: String) -> Bool { text.unicodeScalars.allSatisfy(isSafe) }

    /// `text` with every unsafe scalar, and the backslash that starts an escape, written as `\u{XXXX}`: one line of
    /// visible text, and nothing a reader could mistake for the original's separators.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { !isSafe($0) || $0 == "\\" }) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            if isSafe(scalar), scalar != "\\" {
                result.unicodeScalars.append(scalar)
            } else {
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            }
        }
        return result
    }

    /// The longest prefix of `text` of at most `limit` UTF-8 bytes that ends on a scalar boundary. Bounds are in
    /// bytes, as the server's body limit is: a single Character can be thousands of bytes.
    public static func clipped(_ text: String, toUTF8Bytes limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        var result = String.UnicodeScalarView()
        var used = 0
        for scalar in text.unicodeScalars {
            let size = UTF8.width(scalar)
            guard used + size <= limit else { break }
            used += size
            result.append(scalar)
        }
        return String(result)
    }
}
