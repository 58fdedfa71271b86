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

    /// Whether `scalar` is a blank, filler or mark a reader could take for (or hide) a column separator: a space
    /// other than U+0020 (U+3000 and the like), a Hangul filler (U+115F, U+1160, U+3164, U+FFA0), the blank Braille
    /// pattern (U+2800), a combining or enclosing mark, or a private-use character (review 5, F6).
    public static func looksBlank(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .spaceSeparator: scalar != " "
        case .nonspacingMark, .enclosingMark, .privateUse: true
        default: [0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800].contains(scalar.value)
        }
    }

    /// `text` for one column of a table whose columns are separated by two spaces (`audit tail`): escaped as by
    /// ``escaped(_:)``, and so are look-alike blanks and marks (``looksBlank(_:)``) and every space that follows
    /// another, so no caller's text prints as a column of its own (review 5, F6).
    public static func column(_ text: String) -> String {
        escaping(text) { scalar, previous in looksBlank(scalar) || (scalar == " " && previous == " ") }
    }

    /// `text` for the value of a `key=value` field of the server's request log, whose fields are separated by single
    /// spaces: escaped as by ``column(_:)``, and so are every space and `=`, so a caller's path cannot add a
    /// field such as `status=200` or `principal=admin` (review 5, F5).
    public static func metadataValue(_ text: String) -> String {
        escaping(text) { scalar, _ in looksBlank(scalar) || scalar == " " || scalar == "=" || scalar == "\"" }
    }

    /// `text` with every scalar that is unsafe, a backslash, or picked by `extra` (given the previous scalar kept
    /// as is) written as `\u{XXXX}`.
    private static func escaping(
        _ text: String, _ extra: (Unicode.Scalar, _ previous: Unicode.Scalar?) -> Bool
    ) -> String {
        var result = ""
        var previous: Unicode.Scalar?
        for scalar in text.unicodeScalars {
            if isSafe(scalar), scalar != "\\", !extra(scalar, previous) {
                result.unicodeScalars.append(scalar)
                previous = scalar
            } else {
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                previous = nil
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
