/// How alias names are compared (issue #20): an alias is a deployment decision, so two aliases of one model
/// must never be told apart only by case or by a look-alike character (`Production` next to `production`,
/// `prod_v1` next to `prod-vl`).
enum AliasNames {
    /// The stored form of an alias: validated as a name, ASCII lowercase.
    static func normalized(_ alias: String) throws -> String {
        try VaultNames.validate(alias, kind: "alias")
        let lowered = alias.lowercased()
        guard Int(lowered) == nil, lowered != "latest" else {
            throw VaultError(.invalidName, "an alias cannot be a number or 'latest'")
        }
        return lowered
    }

    /// The form two aliases share when a reader could mistake one for the other: lowercase, `_` and `.` read
    /// as `-`, `0` as `o`, `1` and `i` as `l`.
    static func skeleton(_ alias: String) -> String {
        String(
            alias.lowercased().map { character -> Character in
                switch character {
                case "_", ".": "-"
                case "0": "o"
                case "1", "i": "l"
                default: character
                }
            })
    }
}
