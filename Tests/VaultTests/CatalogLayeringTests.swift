import Foundation
import Testing

/// Issue #18: SQL lives only in the catalog layer (`Sources/Vault/Catalog*.swift`), behind typed functions
/// (`KeyVersionRow.live(db)`, `RotationJournal.markDone(rotationID:path:db)`, ...). Everything else reaches the
/// catalog through them, so the statements a security-critical transaction runs can be read in one place.
@Suite struct CatalogLayeringTests {
    /// The package root (this file is `Tests/VaultTests/CatalogLayeringTests.swift`).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Source file (relative to the package root) → why it may hold SQL outside the catalog layer.
    static let allowed: [String: String] = [
        "Sources/modelvault/DemoRun+Attack.swift":
            "the demo's simulated attacker edits catalog.sqlite with its own SQL, around the vault, on purpose"
    ]

    /// What SQL text (or GRDB's SQL-literal API) looks like in a call.
    static let patterns = ["sql:", "literal:", "SQLRequest(", ".fetchAll(db, sql", "execute(literal"]

    /// Whether `path` (relative to the package root) is in the catalog layer.
    static func isCatalogLayer(_ path: String) -> Bool {
        path.hasPrefix("Sources/Vault/Catalog") && path.hasSuffix(".swift") && !path.dropFirst(14).contains("/")
    }

    @Test func sqlLivesOnlyInTheCatalogLayer() throws {
        let sources = Self.packageRoot.appending(path: "Sources")
        #expect(
            FileManager.default.fileExists(atPath: sources.appending(path: "Vault/Catalog.swift").path),
            "the sources are not where this test looks: \(sources.path)")
        guard let walker = FileManager.default.enumerator(atPath: sources.path) else {
            Issue.record("cannot list \(sources.path)")
            return
        }
        var scanned = 0
        var catalogFiles = 0
        var offending: [String] = []
        var withSQL: Set<String> = []
        for case let relative as String in walker where relative.hasSuffix(".swift") {
            let path = "Sources/" + relative
            let text = try String(contentsOf: sources.appending(path: relative), encoding: .utf8)
            scanned += 1
            if Self.isCatalogLayer(path) {
                catalogFiles += 1
                continue
            }
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where Self.patterns.contains(where: { line.contains($0) }) {
                withSQL.insert(path)
                if Self.allowed[path] == nil { offending.append("\(path):\(number + 1): \(line)") }
            }
        }
        #expect(scanned > 100, "too few sources found under \(sources.path)")
        #expect(catalogFiles >= 5, "the catalog layer's files are not where this test looks")
        #expect(offending.isEmpty, "SQL outside Sources/Vault/Catalog*.swift:\n\(offending.joined(separator: "\n"))")
        // A listed file that no longer holds SQL drops out of the list, so the list stays true.
        #expect(Set(Self.allowed.keys).subtracting(withSQL).isEmpty, "listed but holds no SQL any more")
    }

    @Test func theCatalogLayerIsRecognisedByPath() {
        #expect(Self.isCatalogLayer("Sources/Vault/Catalog.swift"))
        #expect(Self.isCatalogLayer("Sources/Vault/Catalog+Rotation.swift"))
        #expect(!Self.isCatalogLayer("Sources/VaultServer/CatalogPoller.swift"))
        #expect(!Self.isCatalogLayer("Sources/Vault/Vault+Rotation.swift"))
        #expect(!Self.isCatalogLayer("Sources/Vault/Sub/Catalog+X.swift"))
    }
}
