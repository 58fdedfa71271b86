/// The least a new vault passphrase must be (issue #20): the passphrase is the one secret that unlocks every key
/// file, and an attacker who copies the vault can try guesses offline at scrypt's pace.
public enum PassphrasePolicy {
    /// The shortest accepted passphrase, in characters.
    public static let minimumLength = 12
    /// The fewest different characters it must use, so `aaaaaaaaaaaa` or `abababababab` is refused.
    public static let minimumDistinctCharacters = 5

    /// Throws `VaultError.weakPassphrase` naming the rule that `passphrase` breaks (never the passphrase).
    public static func check(_ passphrase: String) throws {
        let advice = "(four or more random words work well)"
        guard passphrase.count >= minimumLength else {
            throw VaultError(
                .weakPassphrase, "the passphrase is too short: use at least \(minimumLength) characters \(advice)")
        }
        guard Set(passphrase).count >= minimumDistinctCharacters else {
            throw VaultError(
                .weakPassphrase,
                "the passphrase repeats too few characters: use at least \(minimumDistinctCharacters) different ones "
                    + advice)
        }
        guard !passphrase.allSatisfy(\.isNumber) else {
            throw VaultError(.weakPassphrase, "the passphrase is only digits \(advice)")
        }
    }
}
