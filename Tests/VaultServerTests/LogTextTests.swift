import Testing
import VaultServer

/// Review 4, F5–F7: text from callers is escaped for one log or terminal line, and clipped by bytes.
@Suite struct LogTextTests {
    /// `audit tail` prints entries through this: a separator, NEL, C1 CSI, ESC or bidi override in an entry
    /// recorded before the vault refused them is shown as an escape, never as a line break or a control.
    @Test func separatorsAndControlsAreEscapedAndTextIsKept() {
        let forged = "model:a\u{2028}999  admin  model.pull\u{85}\u{9B}2J\u{1B}[31m\u{202E}\r\n\\u{2028}"
        let escaped = LogText.escaped(forged)
        #expect(
            escaped == #"model:a\u{2028}999  admin  model.pull\u{85}\u{9B}2J\u{1B}[31m\u{202E}\u{D}\u{A}\u{5C}u{2028}"#)
        #expect(escaped.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 && $0.value != 0x7F })
        #expect(LogText.escaped("model:modèle@1") == "model:modèle@1")
    }

    @Test func clippingCountsBytesAndKeepsWholeScalars() {
        let text = "a" + String(repeating: "\u{301}", count: 2_500)
        #expect(text.count == 1)
        let clipped = LogText.clipped(text, toUTF8Bytes: 256)
        #expect(clipped.utf8.count == 255)
        #expect(LogText.clipped("é", toUTF8Bytes: 1).isEmpty)
        #expect(LogText.clipped("abc", toUTF8Bytes: 256) == "abc")
    }

    /// Review 5, F6: `audit tail` separates columns with two spaces. A resource with a run of spaces, ideographic
    /// spaces, Hangul or Braille blanks, private-use or combining marks printed a fake "allowed request" column.
    @Test func aColumnCannotPrintAsSeveralColumns() {
        let forged = "model:a@1  allowed  request 0000\u{3000}\u{3164}\u{115F}\u{2800}\u{E000}a\u{336}\u{34F}"
        let column = LogText.column(forged)
        #expect(
            column
                == #"model:a@1 \u{20}allowed \u{20}request 0000\u{3000}\u{3164}\u{115F}\u{2800}\u{E000}a\u{336}\u{34F}"#
        )
        #expect(!column.contains("  ") && column.unicodeScalars.allSatisfy(\.isASCII))
        #expect(LogText.column("model:modèle@1 one space") == "model:modèle@1 one space")
    }

    /// Review 5, F5: the request log prints `key=value` fields separated by spaces. A path parameter such as
    /// `fraud-b status=200 principal=admin` on a 401 added fields a real 401 line never has.
    @Test func aMetadataValueCannotAddAField() {
        let value = LogText.metadataValue("fraud-b status=200 principal=\"admin\"")
        #expect(value == #"fraud-b\u{20}status\u{3D}200\u{20}principal\u{3D}\u{22}admin\u{22}"#)
        #expect(!value.contains(" ") && !value.contains("="))
    }
}
