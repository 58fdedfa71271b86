import Foundation

extension Vault {
    /// Follows the key chain a plain `keys rotate` leaves (`keys/chain-vN.age`: key version N's identity encrypted
    /// to the versions that were live when it was made), so a process that unlocked the vault before another
    /// process rotated can read files wrapped for the new version without the passphrase.
    ///
    /// A chained identity is adopted only if its recipient is the one the authenticated catalog lists for that
    /// version (a planted file holding another identity is ignored). A `--reencrypt` rotation (a suspected
    /// compromise) writes no chain link: the old identities must not reach the new key. If the pinned signing key
    /// was replaced by such a rotation and this process cannot read the new one, it throws `keyUnavailable`, so
    /// nothing new is verified with a verifier the vault has retired.
    ///
    /// - Returns: the key versions newly unlocked.
    @discardableResult
    public func followKeyChain() throws -> [Int] {
        let (rows, pinnedSigner) = try catalog.read { db in
            (try KeyVersionRow.live(db), try TrustPin.value(.signingPublicKey, db))
        }
        var unlocked: [Int] = []
        // Oldest first: a link made from a version unlocked earlier in this loop opens too.
        for row in rows where keyRing.identities[row.version] == nil {
            let file = layout.chainFile(version: row.version)
            guard VaultFiles.kind(of: file) == .regularFile,
                let sealed = FileManager.default.contents(atPath: file.path(percentEncoded: false)),
                let plaintext = try? suite.decrypt(sealed, using: keyRing.allIdentities)
            else { continue }
            let identity = String(decoding: plaintext, as: UTF8.self)
            guard (try? suite.recipient(ofIdentity: identity)) == row.recipient else { continue }
            keyRing.identities[row.version] = identity
            unlocked.append(row.version)
        }
        if let pinnedSigner, pinnedSigner != keyRing.signingPublicKey {
            // The signing key follows the newest held key version's copy, if that is the pinned one.
            for version in keyRing.identities.keys.sorted(by: >) {
                let file = layout.signingKeyFile(version: version)
                guard let sealed = FileManager.default.contents(atPath: file.path(percentEncoded: false)),
                    let key = try? suite.decrypt(sealed, using: [keyRing.identities[version]!]),
                    let text = String(data: key, encoding: .utf8),
                    (try? signer.publicKey(ofSigningKey: text)) == pinnedSigner
                else { continue }
                keyRing.signingKey = text
                keyRing.signingPublicKey = pinnedSigner
                break
            }
            guard pinnedSigner == keyRing.signingPublicKey else {
                throw VaultError(
                    .keyUnavailable,
                    "the vault signing key was replaced (keys rotate --reencrypt); reopen the vault with the passphrase"
                )
            }
        }
        return unlocked
    }
}
