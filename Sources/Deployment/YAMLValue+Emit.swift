extension YAMLValue {
    /// Renders this value as one YAML document body (block style, two-space indentation, trailing newline).
    func emitted() -> String {
        var lines: [String] = []
        switch self {
        case .mapping(let pairs) where !pairs.isEmpty:
            Self.emit(pairs, indent: 0, into: &lines)
        case .sequence(let items) where !items.isEmpty:
            Self.emit(items, indent: 0, into: &lines)
        default:
            lines.append(inlineForm)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A stream of documents, each preceded by `---` and its comment lines.
    static func stream(_ documents: [(comment: [String], value: YAMLValue)]) -> String {
        documents.map { document in
            let comments = document.comment.map { $0.isEmpty ? "#" : "# " + $0 }
            return (comments + ["---"]).joined(separator: "\n") + "\n" + document.value.emitted()
        }.joined()
    }

    /// The one-line form of a scalar or an empty collection.
    private var inlineForm: String {
        switch self {
        case .string(let text): return YAMLScalar.quoted(text)
        case .int(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .sequence: return "[]"
        case .mapping: return "{}"
        }
    }

    /// Whether the value needs lines of its own (a non-empty collection).
    private var isBlock: Bool {
        switch self {
        case .sequence(let items): return !items.isEmpty
        case .mapping(let pairs): return !pairs.isEmpty
        default: return false
        }
    }

    private static func emit(_ pairs: [YAMLPair], indent: Int, into lines: inout [String]) {
        let pad = String(repeating: " ", count: indent)
        for pair in pairs {
            let key = YAMLScalar.quoted(pair.key)
            switch pair.value {
            case .mapping(let nested) where !nested.isEmpty:
                lines.append(pad + key + ":")
                emit(nested, indent: indent + 2, into: &lines)
            case .sequence(let items) where !items.isEmpty:
                lines.append(pad + key + ":")
                emit(items, indent: indent + 2, into: &lines)
            default:
                lines.append(pad + key + ": " + pair.value.inlineForm)
            }
        }
    }

    private static func emit(_ items: [YAMLValue], indent: Int, into lines: inout [String]) {
        let pad = String(repeating: " ", count: indent)
        for item in items {
            switch item {
            case .mapping(let pairs) where !pairs.isEmpty:
                // The first pair shares the dash's line; the rest align under it.
                var nested: [String] = []
                emit(pairs, indent: indent + 2, into: &nested)
                lines.append(pad + "- " + nested[0].dropFirst(indent + 2))
                lines.append(contentsOf: nested.dropFirst())
            case .sequence(let inner) where !inner.isEmpty:
                lines.append(pad + "-")
                emit(inner, indent: indent + 2, into: &lines)
            default:
                lines.append(pad + "- " + item.inlineForm)
            }
        }
    }
}

/// Scalar quoting: plain only when no YAML 1.1 or 1.2 reader could take the text for anything but a string.
enum YAMLScalar {
    /// Words that YAML 1.1 (still used by many Kubernetes tools) reads as booleans or null.
    private static let reservedWords: Set<String> = [
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
    ]

    /// The text as a plain scalar if that is safe, otherwise as a double-quoted scalar.
    static func quoted(_ text: String) -> String {
        isSafePlain(text) ? text : doubleQuoted(text)
    }

    /// Plain style is used only for a conservative alphabet: a letter, `_` or `/` first (so never a number,
    /// a date, an indicator or a special float), then letters, digits, `_`, `.`, `/` and `-`.
    static func isSafePlain(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, !reservedWords.contains(text.lowercased()) else { return false }
        func isLetter(_ scalar: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
        }
        guard isLetter(first) || first == "_" || first == "/" else { return false }
        return text.unicodeScalars.allSatisfy { scalar in
            isLetter(scalar) || ("0"..."9").contains(scalar) || "_./-".unicodeScalars.contains(scalar)
        }
    }

    /// A double-quoted scalar with every character that could end or bend it escaped.
    static func doubleQuoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                // Control characters, DEL, C1 controls and the Unicode line separators are escaped so the
                // document stays printable and no reader folds them.
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028
                    || scalar.value == 0x2029 || scalar.value == 0xFEFF
                {
                    out += "\\u" + hex(scalar.value, width: 4)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
