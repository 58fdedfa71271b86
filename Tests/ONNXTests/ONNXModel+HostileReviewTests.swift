import Foundation
import ProtobufWire
import Testing

@testable import ONNX

/// What the hostile-input review of the fast kernels (2026-12-05) found: counts from attributes multiplied with a
/// trapping `*` (the process died on the first request), a direct convolution that read the deadline only every 16
/// images, and a lockstep tree walk that took a branch whose true child is itself for a leaf.
@Suite struct ONNXModelHostileReviewTests {
    static func model(_ base64: String) throws -> ONNXModel {
        try ONNXModel(bytes: [UInt8](Data(base64Encoded: base64)!))
    }

    /// A one-tree regressor with `n_targets = 2^63 - 1`.
    static let treeWithHugeTargets =
        "CAg6pwMKgwMKAXgSAXkiFVRyZWVFbnNlbWJsZVJlZ3Jlc3NvcioYCgluX3RhcmdldHMY//////////9/oAECKh0KEm5vZGVzX2Zh"
        + "bHNlbm9kZWlkc0ACQABAAKABByobChBub2Rlc19mZWF0dXJlaWRzQABAAEAAoAEHKigKC25vZGVzX21vZGVzSgpCUkFOQ0hfTEVR"
        + "SgRMRUFGSgRMRUFGoAEIKhgKDW5vZGVzX25vZGVpZHNAAEABQAKgAQcqGAoNbm9kZXNfdHJlZWlkc0AAQABAAKABByocChFub2Rl"
        + "c190cnVlbm9kZWlkc0ABQABAAKABByogCgxub2Rlc192YWx1ZXM9AAAAPz0AAAAAPQAAAACgAQYqEwoKdGFyZ2V0X2lkc0AAQACg"
        + "AQcqFwoOdGFyZ2V0X25vZGVpZHNAAUACoAEHKhcKDnRhcmdldF90cmVlaWRzQABAAKABByodCg50YXJnZXRfd2VpZ2h0cz0AAIA/"
        + "PQAAAECgAQY6CmFpLm9ubngubWwSAWdaEQoBeBIMCgoIARIGCgAKAggCYgkKAXkSBAoCCAFCBAoAEBFCDgoKYWkub25ueC5tbBAD"

    /// `LinearRegressor` with `targets = 2^63 - 1` and no coefficients.
    static let linearWithHugeTargets =
        "CAg6bwpOCgF4EgF5Ig9MaW5lYXJSZWdyZXNzb3IqFgoHdGFyZ2V0cxj//////////3+gAQIqEQoMY29lZmZpY2llbnRzoAEGOgph"
        + "aS5vbm54Lm1sEgFnWg8KAXgSCgoICAESBAoACgBiCQoBeRIECgIIAUIECgAQEUIOCgphaS5vbm54Lm1sEAM="

    /// Node 1 is a `BRANCH_LEQ` whose true child is node 1, with a weight of 7.
    static let treeWithASelfLoop =
        "CAg6xQMKoQMKAXgSAXkiFVRyZWVFbnNlbWJsZVJlZ3Jlc3NvcioQCgluX3RhcmdldHMYAaABAiofChJub2Rlc19mYWxzZW5vZGVp"
        + "ZHNAAkADQABAAKABByodChBub2Rlc19mZWF0dXJlaWRzQABAAUAAQACgAQcqNAoLbm9kZXNfbW9kZXNKCkJSQU5DSF9MRVFKCkJS"
        + "QU5DSF9MRVFKBExFQUZKBExFQUagAQgqGgoNbm9kZXNfbm9kZWlkc0AAQAFAAkADoAEHKhoKDW5vZGVzX3RyZWVpZHNAAEAAQABA"
        + "AKABByoeChFub2Rlc190cnVlbm9kZWlkc0ABQAFAAEAAoAEHKiUKDG5vZGVzX3ZhbHVlcz0AAAA/PQAAAD89AAAAAD0AAAAAoAEG"
        + "KhUKCnRhcmdldF9pZHNAAEAAQACgAQcqGQoOdGFyZ2V0X25vZGVpZHNAAUACQAOgAQcqGQoOdGFyZ2V0X3RyZWVpZHNAAEAAQACg"
        + "AQcqIgoOdGFyZ2V0X3dlaWdodHM9AADgQD0AAIA/PQAAAECgAQY6CmFpLm9ubngubWwSAWdaEQoBeBIMCgoIARIGCgAKAggCYgkK"
        + "AXkSBAoCCAFCBAoAEBFCDgoKYWkub25ueC5tbBAD"

    @Test func hugeTargetCountsAreAnErrorNotATrap() throws {
        let tree = try Self.model(Self.treeWithHugeTargets)
        #expect(throws: ONNXError.self) { try tree.run(["x": Tensor(shape: [1, 2], floats: [0, 0])]) }
        #expect(throws: ONNXError.self) {
            try tree.run(["x": Tensor(shape: [8, 2], floats: .init(repeating: 0, count: 16))])
        }
        let linear = try Self.model(Self.linearWithHugeTargets)
        #expect(throws: ONNXError.self) { try linear.run(["x": Tensor(shape: [1, 2], floats: [0, 0])]) }
        #expect(throws: ONNXError.self) { try linear.run(["x": Tensor(shape: [2, 0], floats: [])]) }
    }

    /// The lockstep walk (8 rows or more) and the row walk agree: both report the cycle.
    @Test func aBranchThatIsItsOwnChildIsACycleOnBothWalks() throws {
        let tree = try Self.model(Self.treeWithASelfLoop)
        #expect(throws: ONNXError.self) { try tree.run(["x": Tensor(shape: [1, 2], floats: [0, 0])]) }
        #expect(throws: ONNXError.self) {
            try tree.run(["x": Tensor(shape: [8, 2], floats: .init(repeating: 0, count: 16))])
        }
    }

    /// A 64 × 64 kernel over 600 pixels of padding on a 1 × 1 image: about 21 G multiply-adds on the direct path
    /// (seconds on any machine), with no buffer large enough to hit the allocation cap. A 50 ms deadline ends it
    /// within a second or so.
    @Test func theDirectConvolutionReadsTheDeadlineWithinAnImage() throws {
        var builder = ModelBuilder()
        builder.inputs = [("x", .float, [1, 1, 1, 1])]
        builder.outputs = [("y", .float, [nil, nil, nil, nil])]
        builder.initializers = [
            ModelBuilder.floatTensor("w", shape: [4, 1, 64, 64], values: .init(repeating: 0.5, count: 4 * 64 * 64))
        ]
        builder.nodes = [
            .init(
                op: "Conv", inputs: ["x", "w"], outputs: ["y"],
                attributes: [ModelBuilder.intsAttribute("pads", [600, 600, 600, 600])])
        ]
        let model = try ONNXModel(bytes: builder.bytes)
        let start = ContinuousClock.now
        var outcome = "finished"
        do {
            _ = try model.run(
                ["x": Tensor(shape: [1, 1, 1, 1], floats: [1])], limits: .init(timeout: .milliseconds(50)))
        } catch {
            outcome = "\(error)"
        }
        #expect(outcome == "\(ONNXError.deadlineExceeded)")
        #expect(ContinuousClock.now - start < .seconds(5))
    }
}
