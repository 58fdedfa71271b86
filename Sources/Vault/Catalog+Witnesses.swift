import GRDB

// Witness configurations' catalog queries: each witness is a `trust_pins` row named `witness.<name>+<key id>`
// (written and removed by name through `TrustPin.set(named:to:)` and `TrustPin.remove(named:)`).

extension TrustPin {
    /// Every witness pin (`witness.*`) as stored, by name.
    static func witnessPins(_ db: Database) throws -> [(name: String, value: String)] {
        try Row.fetchAll(db, sql: "SELECT name, value FROM trust_pins WHERE name LIKE 'witness.%' ORDER BY name")
            .map { (name: $0["name"] as String, value: $0["value"] as String) }
    }
}
