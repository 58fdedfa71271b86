import Foundation
import TestSupport
import Testing

@testable import Deployment

@Suite struct YAMLEmitTests {
    @Test func blockLayoutOfNestedCollections() {
        let value: YAMLValue = [
            "kind": "Pod",
            "items": [["name": "a", "ports": [1, 2]], [["nested"]], "plain", [:], []],
            "empty": [:],
            "flag": false,
        ]
        let expected = """
            kind: Pod
            items:
              - name: a
                ports:
                  - 1
                  - 2
              -
                -
                  - nested
              - plain
              - {}
              - []
            empty: {}
            flag: false

            """
        #expect(value.emitted() == expected)
    }

    /// Strings that a careless emitter would let a YAML reader turn into booleans, numbers, nulls, dates, or
    /// structure; each must read back as exactly the same string.
    static let trickyStrings = [
        "", " ", "yes", "No", "ON", "off", "y", "N", "true", "False", "null", "Null", "~", "0", "012", "0o17", "0x1F",
        "1e3", "1_000", ".5", ".inf", "-.inf", ".NaN", "1:20", "2026-11-29", "12:30:00", "-", "- x", "?", "? x", ":",
        "a: b", "a:b", "#comment", "a #b", "a#b", "&anchor", "*alias", "!tag", "!!str", "%directive", "@at", "`tick",
        "|", ">", "[x]", "{x: y}", "x, y", "'single'", "\"double\"", "back\\slash", "line\nbreak", "tab\there",
        "carriage\rreturn", "bell\u{07}", "del\u{7F}", "nel\u{85}", "ls\u{2028}", "bom\u{FEFF}", " leading",
        "trailing ", "über", "模型", "🙂", "---", "...", "=", "<<", "app.kubernetes.io/name", "/v2/health/live",
        "CKV_K8S_43=reason: with colon", "250m", "1Gi", "sha256:abcd", "registry:5000/image",
    ]

    @Test func trickyScalarsReadBackAsTheSameStrings() throws {
        guard Interop.pythonCanImport("yaml") else {
            try Interop.skipOrFail("python3 with PyYAML")
        }
        let value: YAMLValue = .mapping(
            Self.trickyStrings.enumerated().map { YAMLPair(key: "k\($0.offset)", value: .string($0.element)) }
                + Self.trickyStrings.enumerated().map {
                    YAMLPair(key: $0.element.isEmpty ? "empty" : $0.element, value: .int($0.offset))
                }
                + [YAMLPair(key: "list", value: .sequence(Self.trickyStrings.map(YAMLValue.string)))])
        var expected: [String: Any] = [:]
        for (index, text) in Self.trickyStrings.enumerated() {
            expected["k\(index)"] = text
            expected[text.isEmpty ? "empty" : text] = index
        }
        expected["list"] = Self.trickyStrings
        let json = try JSONSerialization.data(withJSONObject: expected)
        let result = try PyYAML.reads(value.emitted(), as: json)
        #expect(result.equal, "\(result.detail)")
    }

    @Test func plainStyleOnlyForTheSafeAlphabet() {
        #expect(YAMLScalar.quoted("modelvault") == "modelvault")
        #expect(YAMLScalar.quoted("app.kubernetes.io/name") == "app.kubernetes.io/name")
        #expect(YAMLScalar.quoted("yes") == "\"yes\"")
        #expect(YAMLScalar.quoted("8443") == "\"8443\"")
        #expect(YAMLScalar.quoted("a: b") == "\"a: b\"")
        #expect(YAMLScalar.quoted("say \"hi\"\n") == "\"say \\\"hi\\\"\\n\"")
    }
}
