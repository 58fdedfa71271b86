import Foundation
import ONNX
import TestSupport
import Testing

/// ONNX's backend node tests from Debian's `libonnx-testdata` (ONNX 1.12, opsets up to 17): every test whose
/// operators are all supported must match its expected outputs within the backend tolerances.
@Suite struct ONNXConformanceTests {
    static let root = URL(fileURLWithPath: "/usr/share/libonnx-testdata/data/node")

    /// Tests of supported operators that are not run, each with the reason (counted in the README).
    static let exclusions: [String: String] = ConformanceExclusions.reasons

    @Test func nodeTestsOfSupportedOperatorsPass() throws {
        guard FileManager.default.fileExists(atPath: Self.root.path) else {
            try Interop.skipOrFail("libonnx-testdata")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.root.path).sorted()
        var ran = 0
        var passed = 0
        var unsupported = 0
        var excluded = 0
        var failures: [String] = []
        for name in names {
            let directory = Self.root.appendingPathComponent(name)
            let model: ONNXModel
            do {
                model = try ONNXModel(contentsOf: directory.appendingPathComponent("model.onnx"))
            } catch ONNXError.unsupportedOperator, ONNXError.unsupportedOpset {
                unsupported += 1
                continue
            } catch {
                if Self.exclusions[name] != nil { excluded += 1; continue }
                ran += 1
                failures.append("\(name): load: \(error)")
                continue
            }
            if Self.exclusions[name] != nil {
                excluded += 1
                continue
            }
            ran += 1
            if let problem = Self.check(model, in: directory) {
                failures.append("\(name): \(problem)")
            } else {
                passed += 1
            }
        }
        let summary =
            "ONNX conformance: \(names.count) node tests, \(unsupported) use unsupported operators, "
            + "\(excluded) excluded, \(ran) ran, \(passed) passed"
        FileHandle.standardError.write(Data((summary + "\n" + failures.joined(separator: "\n") + "\n").utf8))
        #expect(failures.isEmpty, "\(failures.count) conformance failures:\n\(failures.joined(separator: "\n"))")
        #expect(ran > 150)
    }

    /// Runs every `test_data_set_N` of the model; `nil` when all match.
    static func check(_ model: ONNXModel, in directory: URL) -> String? {
        let sets = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasPrefix("test_data_set_") }.sorted()
        guard !sets.isEmpty else { return "no data sets" }
        for set in sets {
            let folder = directory.appendingPathComponent(set)
            do {
                var inputs: [String: Tensor] = [:]
                for (index, input) in model.graph.inputs.enumerated() {
                    let file = folder.appendingPathComponent("input_\(index).pb")
                    inputs[input.name] = try Tensor(protobuf: [UInt8](try Data(contentsOf: file)))
                }
                let outputs = try model.run(inputs)
                for (index, output) in model.graph.outputs.enumerated() {
                    let file = folder.appendingPathComponent("output_\(index).pb")
                    let expected = try Tensor(protobuf: [UInt8](try Data(contentsOf: file)))
                    guard let actual = outputs[output.name] else { return "\(set): no output \(output.name)" }
                    if let problem = compare(actual, expected) { return "\(set) output \(output.name): \(problem)" }
                }
            } catch {
                return "\(set): \(error)"
            }
        }
        return nil
    }

    /// Backend-test tolerance: |actual - expected| <= 1e-7 + 1e-3 * |expected|, NaN matching NaN.
    static func compare(_ actual: Tensor, _ expected: Tensor) -> String? {
        guard actual.elementType == expected.elementType else {
            return "type \(actual.elementType), expected \(expected.elementType)"
        }
        guard actual.shape == expected.shape else { return "shape \(actual.shape), expected \(expected.shape)" }
        switch (actual.storage, expected.storage) {
        case (.string(let a), .string(let b)): return a == b ? nil : "strings differ"
        default:
            guard let a = actual.doubles, let b = expected.doubles else { return "not comparable" }
            for (index, (x, y)) in zip(a, b).enumerated() {
                if x.isNaN && y.isNaN { continue }
                if x == y { continue }
                if !(abs(x - y) <= 1e-7 + 1e-3 * abs(y)) { return "element \(index): \(x), expected \(y)" }
            }
            return nil
        }
    }
}
