/// Names a model version: `NAME` (latest), `NAME@VERSION` or `NAME:ALIAS`.
public struct ModelReference: Sendable, Equatable, CustomStringConvertible {
    /// Which version of the named model.
    public enum Selector: Sendable, Equatable {
        /// The highest version number.
        case latest
        /// One version number.
        case version(Int)
        /// The version an alias points at.
        case alias(String)
    }

    /// The model's name.
    public var name: String
    /// Which version.
    public var selector: Selector

    /// A reference to `selector` of model `name`.
    public init(name: String, selector: Selector = .latest) throws {
        try VaultNames.validate(name, kind: "model name")
        var selector = selector
        // Aliases are case-insensitive: `m:Production` means `m:production` (issue #20).
        if case .alias(let alias) = selector {
            try VaultNames.validate(alias, kind: "alias")
            selector = .alias(alias.lowercased())
        }
        if case .version(let version) = selector, version < 1 {
            throw VaultError(.invalidReference, "version numbers start at 1")
        }
        self.name = name
        self.selector = selector
    }

    /// Parses `NAME`, `NAME@VERSION` or `NAME:ALIAS`.
    public init(parsing text: String) throws {
        if let at = text.firstIndex(of: "@") {
            guard let version = Int(text[text.index(after: at)...]) else {
                throw VaultError(.invalidReference, "expected NAME@VERSION with a version number")
            }
            try self.init(name: String(text[..<at]), selector: .version(version))
        } else if let colon = text.firstIndex(of: ":") {
            try self.init(name: String(text[..<colon]), selector: .alias(String(text[text.index(after: colon)...])))
        } else {
            try self.init(name: text)
        }
    }

    /// The reference as typed: `NAME`, `NAME@V` or `NAME:ALIAS`.
    public var description: String {
        switch selector {
        case .latest: name
        case .version(let version): "\(name)@\(version)"
        case .alias(let alias): "\(name):\(alias)"
        }
    }
}

/// Names a dataset version: `NAME` (latest) or `NAME@VERSION`.
public struct DatasetReference: Sendable, Equatable, CustomStringConvertible {
    /// The dataset's name.
    public var name: String
    /// One version, or `nil` for the latest.
    public var version: Int?

    /// A reference to `version` (or the latest) of dataset `name`.
    public init(name: String, version: Int? = nil) throws {
        try VaultNames.validate(name, kind: "dataset name")
        if let version, version < 1 { throw VaultError(.invalidReference, "version numbers start at 1") }
        self.name = name
        self.version = version
    }

    /// Parses `NAME` or `NAME@VERSION`.
    public init(parsing text: String) throws {
        if let at = text.firstIndex(of: "@") {
            guard let version = Int(text[text.index(after: at)...]) else {
                throw VaultError(.invalidReference, "expected NAME@VERSION with a version number")
            }
            try self.init(name: String(text[..<at]), version: version)
        } else {
            try self.init(name: text)
        }
    }

    /// The reference as typed: `NAME` or `NAME@V`.
    public var description: String { version.map { "\(name)@\($0)" } ?? name }
}

/// Rules for the names of models, datasets and aliases, and for file paths inside a version.
enum VaultNames {
    /// Names become directory names: letters, digits, `.`, `_`, `-`; no leading dot; at most 128 characters.
    static func validate(_ name: String, kind: String) throws {
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        guard !name.isEmpty, name.utf8.count <= 128, allowed, !name.hasPrefix(".") else {
            throw VaultError(
                .invalidName, "invalid \(kind): use 1-128 letters, digits, '.', '_' or '-', not starting with '.'")
        }
    }

    /// The prefix reserved for the vault's own entries in a signed manifest.
    static let reservedPrefix = ".modelvault/"

    /// Relative file paths inside a model or dataset version, for the CLI and the server alike (issue #15):
    /// printable (no control, format, separator or private-use characters, which could forge lines or reorder
    /// text in `model show` and reports), `/` the only separator (no `\\`), no empty, `.` or `..` segment, not
    /// absolute, not under the reserved prefix, at most 4096 bytes.
    static func validatePath(_ path: String) throws {
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, path.utf8.count <= 4096, !path.hasPrefix("/"), !path.hasPrefix(reservedPrefix),
            // The name itself too: a pull writes the signed manifest below `DIR/.modelvault/` (review F3, re-attack).
            path != String(reservedPrefix.dropLast()),
            path.unicodeScalars.allSatisfy(isPrintable), !path.contains("\\"),
            components.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." })
        else {
            throw VaultError(.invalidPath, "invalid file path in a version: \(escaped(path))")
        }
    }

    /// Whether a scalar may appear in a stored file path: visible characters and the plain space.
    private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .spaceSeparator, .surrogate, .privateUse,
            .unassigned:
            return false
        default:
            return true
        }
    }

    /// `text` with everything but printable ASCII as `\u{XX}`, at most 200 characters: safe to print in an
    /// error message, which must not carry a forged line or control sequence.
    static func escaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if out.count >= 200 {
                out += "..."
                break
            }
            if scalar.value >= 0x20 && scalar.value < 0x7F && scalar != "\\" {
                out.unicodeScalars.append(scalar)
            } else {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            }
        }
        return "\"" + out + "\""
    }
}
