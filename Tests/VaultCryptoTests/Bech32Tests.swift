import Testing

@testable import VaultCrypto

/// BIP 173 vectors, plus age's upper-case secret-key form.
@Suite struct Bech32Tests {
    @Test(arguments: [
        "A12UEL5L", "a12uel5l",
        "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
        "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
        "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    ])
    func validStringsDecode(_ text: String) throws {
        let decoded = try #require(Bech32.decode(text))
        #expect(decoded.hrp == String(text[..<text.lastIndex(of: "1")!]).lowercased())
    }

    @Test(arguments: [
        "pzry9x0s0muk", "1pzry9x0s0muk", "x1b4n0q5v", "li1dgmt3", "A1G7SGD8", "10a06t8", "1qzzfhee", "A12uEL5L",
    ])
    func invalidStringsAreRejected(_ text: String) {
        #expect(Bech32.decode(text) == nil)
    }

    @Test func roundTripsWithUpperCaseHRP() throws {
        let data: [UInt8] = (0..<32).map { UInt8($0 * 7) }
        let text = Bech32.encode(hrp: "AGE-SECRET-KEY-", data: data)
        #expect(text.hasPrefix("AGE-SECRET-KEY-1") && text.uppercased() == text)
        let decoded = try #require(Bech32.decode(text))
        #expect(decoded.hrp == "age-secret-key-")
        #expect(decoded.data == data)
    }

    @Test func longStringsHaveNoLengthCap() throws {
        let data = [UInt8](repeating: 0xa5, count: 1216)
        let decoded = try #require(Bech32.decode(Bech32.encode(hrp: "age1pq", data: data)))
        #expect(decoded.data == data)
    }
}
