import GRDB

// Deployment records' catalog queries: each record is a `trust_pins` row (read and written by name through
// `TrustPin.value(named:)` and `TrustPin.set(named:to:)`).

extension TrustPin {
    /// The names of the pins that start with `legacyPrefix` or `prefix` (two prefixes of the same length: the
    /// deployment records of before and after namespaces), sorted.
    static func deploymentRecordNames(
        legacyPrefix: String, prefix: String, _ db: Database
    ) throws -> [String] {
        try String.fetchAll(
            db, sql: "SELECT name FROM trust_pins WHERE substr(name, 1, ?) IN (?, ?) ORDER BY name",
            arguments: [legacyPrefix.count, legacyPrefix, prefix])
    }
}
