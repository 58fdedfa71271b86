extension CKKSParameters {
    /// Serialised bytes of a ciphertext at `level` (seeded: c0 and a 32-byte seed instead of c1).
    public func ciphertextSize(level: Int, seeded: Bool, components: Int = 2) -> Int {
        let row = packedRowBytes(level: level)
        return 14 + 11 + (seeded ? 32 + row : components * row)
    }

    /// Serialised bytes of the public key (b and a seed).
    public var publicKeySize: Int { 14 + 32 + fullKeyRowBytes }

    /// Serialised bytes of the relinearisation key (one seeded component per data prime).
    public var relinearizationKeySize: Int { 14 + keySwitchKeySize }

    /// Serialised bytes of Galois keys for `rotations` distinct rotations.
    public func galoisKeysSize(rotations: Int) -> Int { 14 + 2 + rotations * (4 + keySwitchKeySize) }

    /// Serialised bytes of the secret key (two bits per coefficient).
    public var secretKeySize: Int { 14 + polyDegree / 4 }

    /// The classical security level the parameters meet (all accepted parameters meet 128 bits).
    public var securityLevel: Int { 128 }

    private var keySwitchKeySize: Int { 32 + 1 + (coefficientModuli.count - 1) * fullKeyRowBytes }

    private var fullKeyRowBytes: Int {
        coefficientModuli.reduce(0) { $0 + (polyDegree * Modulus($1).bitWidth + 7) / 8 }
    }

    private func packedRowBytes(level: Int) -> Int {
        coefficientModuli[0...level].reduce(0) { $0 + (polyDegree * Modulus($1).bitWidth + 7) / 8 }
    }
}
