import GRDB

// Client certificate mappings' catalog queries: each mapping is a `trust_pins` row named
// `client-certificate.<hash>` (read and written by name through `TrustPin.value(named:)` and
// `TrustPin.set(named:to:)`).

extension TrustPin {
    /// Every client certificate mapping pin (`client-certificate.*`) as stored, by name.
    static func clientCertificatePins(_ db: Database) throws -> [(name: String, value: String)] {
        try Row.fetchAll(
            db, sql: "SELECT name, value FROM trust_pins WHERE name LIKE 'client-certificate.%' ORDER BY name"
        ).map { (name: $0["name"] as String, value: $0["value"] as String) }
    }
}
