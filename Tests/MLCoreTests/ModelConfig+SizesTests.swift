import Foundation
import Testing

@testable import MLCore

/// Defect 1 of issue #15: sizes in a pushed `model_config.json` are untrusted; products of them must be checked,
/// not trap (an overflow trap crashed `predict`, `evaluate` and the server on every restart).
@Suite struct ModelConfigSizesTests {
    /// A minimal valid configuration (two features, one dense layer, two classes) as JSON with `inputShape`
    /// replaced by `shape`.
    static func configJSON(inputShape shape: String, extraLayers: String = "") -> Data {
        Data(
            """
            {"format_version":1,"kind":"logistic","input_shape":\(shape),"feature_names":["a","b"],
             "label_column":"y","label_names":["n","p"],"standardization":{"mean":[0,0],"std":[1,1]},
             "loss":"categorical-cross-entropy","layers":[\(extraLayers){"type":"dense","inputs":2,"outputs":2}]}
            """.utf8)
    }

    @Test func theMinimalConfigurationIsValid() throws {
        _ = try ModelConfig(jsonData: Self.configJSON(inputShape: "[2]"))
    }

    @Test(arguments: [
        "[4294967296,4294967296,30]", "[9223372036854775807,2]", "[3037000500,3037000500]",
        "[9223372036854775807,9223372036854775807,9223372036854775807]",
    ])
    func overflowingInputShapesAreRefusedNotTrapped(_ shape: String) {
        #expect(throws: MLError.self) { try ModelConfig(jsonData: Self.configJSON(inputShape: shape)) }
    }

    @Test func overflowingImageWindowsAreRefusedNotTrapped() {
        // A flatten of a huge image, and a padding that overflows `input + 2 * pad`.
        let flatten = #"{"type":"flatten"},"#
        #expect(throws: MLError.self) {
            try ModelConfig(jsonData: Self.configJSON(inputShape: "[4294967296,4294967296,1]", extraLayers: flatten))
        }
        let conv =
            #"{"type":"maxpool2d","kernel_size":1,"padding":9223372036854775807},{"type":"flatten"},"#
        #expect(throws: MLError.self) {
            try ModelConfig(jsonData: Self.configJSON(inputShape: "[9223372036854775807,1,1]", extraLayers: conv))
        }
    }
}
