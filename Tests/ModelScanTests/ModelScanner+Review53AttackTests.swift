import Foundation
import Testing

@testable import ModelScan

/// Scanner review 53, around review 52's fixes: a `DUP` of the dict a dtype keeps as its fields gave a copy the scanner
/// could not follow, and its `SETITEM` moved field `a` to 2^30 again (a heap write under all four loaders); and names
/// that Python tells apart but Swift's `String` equality does not (`é` and `e` + U+0301, two lone surrogates read as
/// U+FFFD) passed the "names are exactly the field keys" check, and numpy dereferenced the missing field (NULL).
@Suite struct ModelScannerReview53AttackTests {
    /// The reviewer's `dupfields.pkl`: review 52's file with `GET fields; DUP` before the `SETITEM`.
    static let fieldsChangedThroughADup = [UInt8](
        Data(
            base64Encoded:
                "gAJjbnVtcHkubWEuY29yZQpNYXNrZWRBcnJheQpxADBjbnVtcHkKZHR5cGUKcQEwaAFYAwAAAFYxMomIh1JxCjBoCihLA1gBAAAA"
                + "fE5YAQAAAGFYAQAAAGKGfXEUKFgBAAAAYWgBWAIAAABmOImIh1IoSwNYAQAAADxOTk5K/////0r/////SwB0YksAhlgBAAAAYmgB"
                + "WAIAAABpNImIh1IoSwNYAQAAADxOTk5K/////0r/////SwB0YksIhnVLDEsBSxB0YjBoFDJYAQAAAGFoAVgCAAAAZjiJiIdSKEsD"
                + "WAEAAAA8Tk5OSv////9K/////0sAdGJKAAAAQIZzMDBoAEdBQUFBQUFBQUsHholoCodSLg=="
        )!)

    /// The reviewer's `nfc.pkl`: names `('\u{E9}', 'b')`, field keys `e` + U+0301 and `b`.
    static let canonicallyEqualNames = [UInt8](
        Data(
            base64Encoded:
                "gAJ9cQBYBwAAAHdlaWdodHNjbnVtcHkuX2NvcmUubXVsdGlhcnJheQpfcmVjb25zdHJ1Y3QKY251bXB5Cm5kYXJyYXkKSwKFY251"
                + "bXB5CmR0eXBlClgDAAAAVjEyiYiHUihLA1gBAAAAfE5YAgAAAMOpWAEAAABihn1xDShYAwAAAGXMgWNudW1weQpkdHlwZQpYAgAA"
                + "AGY4iYiHUihLA1gBAAAAPE5OTkr/////Sv////9LAHRiSwCGWAEAAABiY251bXB5CmR0eXBlClgCAAAAaTSJiIdSKEsDWAEAAAA8"
                + "Tk5OSv////9K/////0sAdGJLCIZ1SwxLAUsQdGKHUnMu"
        )!)

    /// The reviewer's `surr.pkl`: names `('\u{D800}', 'b')`, field keys `\u{D801}` and `b`.
    static let loneSurrogateNames = [UInt8](
        Data(
            base64Encoded:
                "gAJ9cQBYBwAAAHdlaWdodHNjbnVtcHkuX2NvcmUubXVsdGlhcnJheQpfcmVjb25zdHJ1Y3QKY251bXB5Cm5kYXJyYXkKSwKFY251"
                + "bXB5CmR0eXBlClgDAAAAVjEyiYiHUihLA1gBAAAAfE5YAwAAAO2ggFgBAAAAYoZ9cQ0oWAMAAADtoIFjbnVtcHkKZHR5cGUKWAIA"
                + "AABmOImIh1IoSwNYAQAAADxOTk5K/////0r/////SwB0YksAhlgBAAAAYmNudW1weQpkdHlwZQpYAgAAAGk0iYiHUihLA1gBAAAA"
                + "PE5OTkr/////Sv////9LAHRiSwiGdUsMSwFLEHRih1JzLg=="
        )!)

    /// The same array with matching names, which numpy loads.
    static let matchingNames = [UInt8](
        Data(
            base64Encoded:
                "gAJ9cQBYBwAAAHdlaWdodHNjbnVtcHkuX2NvcmUubXVsdGlhcnJheQpfcmVjb25zdHJ1Y3QKY251bXB5Cm5kYXJyYXkKSwKFY251"
                + "bXB5CmR0eXBlClgDAAAAVjEyiYiHUihLA1gBAAAAfE5YAQAAAGFYAQAAAGKGfXENKFgBAAAAYWNudW1weQpkdHlwZQpYAgAAAGY4"
                + "iYiHUihLA1gBAAAAPE5OTkr/////Sv////9LAHRiSwCGWAEAAABiY251bXB5CmR0eXBlClgCAAAAaTSJiIdSKEsDWAEAAAA8Tk5O"
                + "Sv////9K/////0sAdGJLCIZ1SwxLAUsQdGKHUnMu"
        )!)

    @Test func aDupOfADtypesFieldsAfterItsBuildIsRefused() {
        let report = scan(Self.fieldsChangedThroughADup)
        #expect(report.has("numpy.dtype-state", "numpy.dtype"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// A dict's key is found as Python finds it: the Kelvin sign is not `K`, though Swift's `==` says it is.
    @Test func aKeyIsLookedUpCodePointByCodePoint() {
        let dict = PickleValue.dict([(.string("K_fit_rows_"), .int(1)), (.string("\u{212A}_fit_rows_"), .int(2))])
        guard case .int(1)? = dict["K_fit_rows_"] else {
            Issue.record("the ASCII key's own value was not found")
            return
        }
        guard case .int(2)? = dict["\u{212A}_fit_rows_"] else {
            Issue.record("the Kelvin sign's own value was not found")
            return
        }
    }

    @Test(arguments: [0, 1])
    func namesAreComparedCodePointByCodePoint(_ index: Int) {
        let report = scan([Self.canonicallyEqualNames, Self.loneSurrogateNames][index])
        #expect(report.has("numpy.dtype-state", "numpy.dtype"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
        let control = scan(Self.matchingNames)
        #expect(!control.isRefusedByDefault, "\(control.findings)")
    }
}
