import Foundation
import Testing

@testable import ModelScan

/// Scanner review 54: names and field keys the scanner read alike but Python did not, through the ways a pickle
/// spells text. `UNICODE` is `raw-unicode-escape`, where a backslash pairs with the next byte (`\\u0061` is seven
/// characters) and `\ud800` is a lone surrogate; `BINSTRING` is UTF-8 to torch.load and Latin-1 to the scanner. Each
/// gave numpy a name with no field (a NULL read under every loader). Names and keys must now be plain ASCII without a
/// backslash, and titles text or None.
@Suite struct ModelScannerReview54AttackTests {
    /// The reviewer's `surr_unicode.pkl`: name `UNICODE \ud800` (U+D800 to Python), key the six characters `\ud800`.
    static let loneSurrogateName = [UInt8](
        Data(
            base64Encoded:
                "gAJ9WAcAAAB3ZWlnaHRzY251bXB5Ll9jb3JlLm11bHRpYXJyYXkKX3JlY29uc3RydWN0CmNudW1weQpuZGFycmF5CksChWNudW1w"
                + "eQpkdHlwZQpYAwAAAFYxMomIh1IoSwNYAQAAAHxOVlx1ZDgwMApYAQAAAGKGfShYBgAAAFx1ZDgwMGNudW1weQpkdHlwZQpYAgAA"
                + "AGY4iYiHUihLA1gBAAAAPE5OTkr/////Sv////9LAHRiSwCGWAEAAABiY251bXB5CmR0eXBlClgCAAAAaTSJiIdSKEsDWAEAAAA8"
                + "Tk5OSv////9K/////0sAdGJLCIZ1SwxLAUsQdGKHUnMu"
        )!)

    /// The reviewer's `dblbs.pkl`: name `UNICODE \\u0061` (seven characters to Python), key `\a`.
    static let evenBackslashName = [UInt8](
        Data(
            base64Encoded:
                "gAJ9WAcAAAB3ZWlnaHRzY251bXB5Ll9jb3JlLm11bHRpYXJyYXkKX3JlY29uc3RydWN0CmNudW1weQpuZGFycmF5CksChWNudW1w"
                + "eQpkdHlwZQpYAwAAAFYxMomIh1IoSwNYAQAAAHxOVlxcdTAwNjEKWAEAAABihn0oWAIAAABcYWNudW1weQpkdHlwZQpYAgAAAGY4"
                + "iYiHUihLA1gBAAAAPE5OTkr/////Sv////9LAHRiSwCGWAEAAABiY251bXB5CmR0eXBlClgCAAAAaTSJiIdSKEsDWAEAAAA8Tk5O"
                + "Sv////9K/////0sAdGJLCIZ1SwxLAUsQdGKHUnMu"
        )!)

    /// The reviewer's `binstring.pkl`: name `SHORT_BINSTRING C3 A9` (`é` to torch.load), key `Ã©`.
    static let binstringName = [UInt8](
        Data(
            base64Encoded:
                "gAJ9WAcAAAB3ZWlnaHRzY251bXB5Ll9jb3JlLm11bHRpYXJyYXkKX3JlY29uc3RydWN0CmNudW1weQpuZGFycmF5CksChWNudW1w"
                + "eQpkdHlwZQpYAwAAAFYxMomIh1IoSwNYAQAAAHxOVQLDqVgBAAAAYoZ9KFgEAAAAw4PCqWNudW1weQpkdHlwZQpYAgAAAGY4iYiH"
                + "UihLA1gBAAAAPE5OTkr/////Sv////9LAHRiSwCGWAEAAABiY251bXB5CmR0eXBlClgCAAAAaTSJiIdSKEsDWAEAAAA8Tk5OSv//"
                + "//9K/////0sAdGJLCIZ1SwxLAUsQdGKHUnMu"
        )!)

    /// A field titled with an object (`numpy.ndarray`), which numpy prints with the dtype.
    static let objectTitle = [UInt8](
        Data(
            base64Encoded:
                "gAJ9WAcAAAB3ZWlnaHRzY251bXB5Ll9jb3JlLm11bHRpYXJyYXkKX3JlY29uc3RydWN0CmNudW1weQpuZGFycmF5CksChWNudW1w"
                + "eQpkdHlwZQpYAwAAAFYxMomIh1IoSwNYAQAAAHxOWAEAAABhWAEAAABihn0oWAEAAABhY251bXB5CmR0eXBlClgCAAAAZjiJiIdS"
                + "KEsDWAEAAAA8Tk5OSv////9K/////0sAdGJLAGNudW1weQpuZGFycmF5CodYAQAAAGJjbnVtcHkKZHR5cGUKWAIAAABpNImIh1Io"
                + "SwNYAQAAADxOTk5K/////0r/////SwB0YksIhnVLDEsBSxB0YodScy4="
        )!)

    /// Names `('a', 'b')` and fields `a` and `b`, which numpy loads.
    static let asciiNames = [UInt8](
        Data(
            base64Encoded:
                "gAJ9WAcAAAB3ZWlnaHRzY251bXB5Ll9jb3JlLm11bHRpYXJyYXkKX3JlY29uc3RydWN0CmNudW1weQpuZGFycmF5CksChWNudW1w"
                + "eQpkdHlwZQpYAwAAAFYxMomIh1IoSwNYAQAAAHxOWAEAAABhWAEAAABihn0oWAEAAABhY251bXB5CmR0eXBlClgCAAAAZjiJiIdS"
                + "KEsDWAEAAAA8Tk5OSv////9K/////0sAdGJLAIZYAQAAAGJjbnVtcHkKZHR5cGUKWAIAAABpNImIh1IoSwNYAQAAADxOTk5K////"
                + "/0r/////SwB0YksIhnVLDEsBSxB0YodScy4="
        )!)

    @Test(arguments: [0, 1, 2, 3])
    func namesNumpyWouldNotFindAreRefused(_ index: Int) {
        let file = [Self.loneSurrogateName, Self.evenBackslashName, Self.binstringName, Self.objectTitle][index]
        let report = scan(file)
        #expect(report.has("numpy.dtype-state", "numpy.dtype"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
        let control = scan(Self.asciiNames)
        #expect(!control.isRefusedByDefault, "\(control.findings)")
    }

    /// `raw-unicode-escape` as CPython decodes it.
    @Test(arguments: [
        (#"\\u0061"#, #"\\u0061"#), (#"\u0061"#, "a"), (#"\\\u0061"#, #"\\a"#), (#"\ud800"#, "\u{FFFD}"),
        (#"\u00e9x"#, "\u{E9}x"), (#"a\x"#, #"a\x"#), (#"end\"#, #"end\"#), (#"\U0001F600"#, "\u{1F600}"),
        (#"\u12"#, "\u{FFFD}"), (#"\U00110000"#, "\u{FFFD}"),
    ])
    func rawUnicodeEscapeDecodesAsCPythonDoes(_ raw: String, _ expected: String) {
        let decoded = PickleText.decodeRawUnicodeEscape(Array(raw.utf8))
        #expect(decoded.unicodeScalars.elementsEqual(expected.unicodeScalars), "\(decoded.debugDescription)")
    }
}
