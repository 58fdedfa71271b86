/// The files of a model paired with their SHA-256 digests, sorted by path.
///
/// Paths are model-relative and use `/`; a model that is a single file has the single entry `"."`,
/// as the reference `model_signing` tool names it.
public struct ModelManifest: Sendable, Equatable {
    /// One file of the model.
    public struct Entry: Sendable, Equatable {
        /// The model-relative path, `/`-separated.
        public var path: String
        /// The SHA-256 digest of the file's bytes (32 bytes).
        public var sha256: [UInt8]

        /// Creates an entry; names are validated when the manifest is built.
        public init(path: String, sha256: [UInt8]) {
            self.path = path
            self.sha256 = sha256
        }
    }

    /// The entries, sorted by path component by component (the order the reference signs in).
    public private(set) var entries: [Entry]

    /// Builds a manifest, validating every name and sorting the entries.
    ///
    /// - Throws: `ModelSigningError` if a name is absolute, contains `..` or empty components, a digest is not
    ///   32 bytes, a path repeats (byte for byte, anywhere in the list), or two paths are distinct spellings of
    ///   the same Unicode text (NFC and NFD): Swift `String` equality would merge them, the reference does not.
    public init(entries: [Entry]) throws {
        for entry in entries {
            try Self.validate(name: entry.path)
            guard entry.sha256.count == 32 else { throw ModelSigningError(.invalidDigest, path: entry.path) }
        }
        let sorted = entries.sorted { Self.precedes($0.path, $1.path) }
        var exact: Set<[UInt8]> = []
        var canonical: Set<String> = []
        for entry in sorted {
            guard exact.insert(Array(entry.path.utf8)).inserted else {
                throw ModelSigningError(.duplicateResource, path: entry.path)
            }
            // String hashing and equality follow canonical equivalence, so this finds NFC/NFD pairs.
            guard canonical.insert(entry.path).inserted else {
                throw ModelSigningError(.equivalentResourceNames, path: entry.path)
            }
        }
        self.entries = sorted
    }

    /// The digest of `path` (compared byte for byte), if the manifest lists it.
    public func digest(of path: String) -> [UInt8]? {
        entries.first { $0.path.utf8.elementsEqual(path.utf8) }?.sha256
    }

    /// Rejects names that could escape the model root when joined to it.
    static func validate(name: String) throws {
        if name == "." { return }
        let components = name.split(separator: "/", omittingEmptySubsequences: false)
        let valid =
            !name.isEmpty && !name.hasPrefix("/") && !name.contains("\\") && !name.contains("\0")
            && components.allSatisfy { !$0.isEmpty && $0 != ".." && $0 != "." }
        guard valid else { throw ModelSigningError(.invalidResourceName, path: name) }
    }

    /// Orders paths as Python's `PurePosixPath` does: component-wise, by Unicode code point.
    static func precedes(_ lhs: String, _ rhs: String) -> Bool {
        let left = lhs.split(separator: "/").map { Array($0.unicodeScalars.map(\.value)) }
        let right = rhs.split(separator: "/").map { Array($0.unicodeScalars.map(\.value)) }
        for (a, b) in zip(left, right) where a != b {
            return a.lexicographicallyPrecedes(b)
        }
        return left.count < right.count
    }
}
