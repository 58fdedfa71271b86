import Foundation
import ProtobufWire
import TestSupport
import Testing

@testable import ModelScan

/// An ONNX ModelProto: one node per `(domain, opType)`, initializers with the given external-data locations.
private func onnxModel(
    nodes: [(String, String)] = [("", "Relu")], externalLocations: [String] = [], opsetDomains: [String] = [""],
    subgraphNode: (String, String)? = nil
) -> [UInt8] {
    var graph = ProtobufWriter()
    for (domain, op) in nodes {
        var node = ProtobufWriter()
        node.string(1, "x")
        node.string(2, "y")
        node.string(4, op)
        if !domain.isEmpty { node.string(7, domain) }
        graph.message(1, node)
    }
    if let (domain, op) = subgraphNode {
        // An `If` whose then-branch holds the node: subgraphs are walked too.
        var inner = ProtobufWriter()
        var node = ProtobufWriter()
        node.string(4, op)
        node.string(7, domain)
        inner.message(1, node)
        var attribute = ProtobufWriter()
        attribute.string(1, "then_branch")
        attribute.message(6, inner)
        var ifNode = ProtobufWriter()
        ifNode.string(4, "If")
        ifNode.message(5, attribute)
        graph.message(1, ifNode)
    }
    for (index, location) in externalLocations.enumerated() {
        var tensor = ProtobufWriter()
        tensor.varint(1, 4)
        tensor.varint(2, 1)
        tensor.string(8, "w\(index)")
        var entry = ProtobufWriter()
        entry.string(1, "location")
        entry.string(2, location)
        tensor.message(13, entry)
        tensor.varint(14, 1)
        graph.message(5, tensor)
    }
    var model = ProtobufWriter()
    model.varint(1, 8)
    model.string(2, "test")
    model.message(7, graph)
    for domain in opsetDomains {
        var opset = ProtobufWriter()
        if !domain.isEmpty { opset.string(1, domain) }
        opset.varint(2, 17)
        model.message(8, opset)
    }
    return model.bytes
}

/// A SavedModel holding one graph with `ops`, and `functionOps` in its function library.
private func savedModel(ops: [String], functionOps: [String] = []) -> [UInt8] {
    var graph = ProtobufWriter()
    for (index, op) in ops.enumerated() {
        var node = ProtobufWriter()
        node.string(1, "node\(index)")
        node.string(2, op)
        graph.message(1, node)
    }
    if !functionOps.isEmpty {
        var function = ProtobufWriter()
        for op in functionOps {
            var node = ProtobufWriter()
            node.string(1, "f")
            node.string(2, op)
            function.message(3, node)
        }
        var library = ProtobufWriter()
        library.message(1, function)
        graph.message(2, library)
    }
    var metaGraph = ProtobufWriter()
    metaGraph.message(2, graph)
    var model = ProtobufWriter()
    model.varint(1, 1)
    model.message(2, metaGraph)
    return model.bytes
}

@Suite struct ContentScanProtobufTests {
    @Test func aStandardONNXModelIsRecognisedAndClean() {
        let report = scan(onnxModel(nodes: [("", "Relu"), ("ai.onnx.ml", "TreeEnsembleClassifier")]))
        #expect(report.formats == ["onnx"])
        #expect(report.findings.isEmpty, "\(report.findings)")
    }

    @Test func externalDataThatLeavesTheDirectoryIsHigh() {
        for (location, rule) in [
            ("/etc/passwd", "onnx.external-data-absolute"), ("C:\\secrets.bin", "onnx.external-data-absolute"),
            ("../../home/user/.ssh/id_ed25519", "onnx.external-data-escape"),
            ("weights/../../x", "onnx.external-data-escape"), ("a\\..\\..\\b", "onnx.external-data-escape"),
        ] {
            let report = scan(onnxModel(externalLocations: ["weights.bin", location]))
            #expect(report.has(rule, location), "\(location): \(report.findings)")
            #expect(report.isRefusedByDefault)
            #expect(report.findings.count == 1, "only the hostile location: \(report.findings)")
        }
    }

    /// Review finding: `ModelProto.functions` is field 25 and `training_info` field 20; tensors and nodes there
    /// were not checked (field 20 was read as a FunctionProto), so an escaping path or custom domain hid in them.
    @Test func functionsAndTrainingInfoAreCheckedToo() {
        var escaping = ProtobufWriter()
        escaping.varint(1, 4)
        escaping.varint(2, 1)
        escaping.string(8, "w")
        var entry = ProtobufWriter()
        entry.string(1, "location")
        entry.string(2, "../../../../etc/passwd")
        escaping.message(13, entry)
        escaping.varint(14, 1)

        // A function whose Constant node carries the tensor, and a node of a custom domain.
        var attribute = ProtobufWriter()
        attribute.string(1, "value")
        attribute.message(5, escaping)
        var constant = ProtobufWriter()
        constant.string(4, "Constant")
        constant.message(5, attribute)
        var custom = ProtobufWriter()
        custom.string(4, "Evil")
        custom.string(7, "evil.domain")
        var function = ProtobufWriter()
        function.string(1, "f")
        function.message(7, constant)
        function.message(7, custom)
        var withFunction = onnxModel()
        var functions = ProtobufWriter()
        functions.message(25, function)
        withFunction += functions.bytes
        let functionReport = scan(withFunction)
        #expect(functionReport.has("onnx.external-data-escape", "../../../../etc/passwd"), "\(functionReport.findings)")
        #expect(
            functionReport.findings.contains {
                $0.message.contains("evil.domain") || $0.subject.contains("evil.domain")
            })

        // A training_info whose initialization graph holds the tensor as an initializer.
        var initialization = ProtobufWriter()
        initialization.message(5, escaping)
        var training = ProtobufWriter()
        training.message(1, initialization)
        var withTraining = onnxModel()
        var info = ProtobufWriter()
        info.message(20, training)
        withTraining += info.bytes
        let trainingReport = scan(withTraining)
        #expect(trainingReport.has("onnx.external-data-escape", "../../../../etc/passwd"), "\(trainingReport.findings)")
        #expect(trainingReport.isRefusedByDefault)
    }

    @Test func externalDataThroughASymbolicLinkIsHigh() throws {
        let directory = try TemporaryDirectory()
        let model = directory.url.appendingPathComponent("model.onnx").path
        try Data(onnxModel(externalLocations: ["data/weights.bin", "plain.bin"])).write(to: URL(fileURLWithPath: model))
        try FileManager.default.createSymbolicLink(
            atPath: directory.url.appendingPathComponent("data").path, withDestinationPath: "/etc")
        try Data([0]).write(to: directory.url.appendingPathComponent("plain.bin"))
        let report = try ModelScanner().scan(path: model)
        #expect(report.has("onnx.external-data-symlink", "data/weights.bin"), "\(report.findings)")
        #expect(!report.has("onnx.external-data-symlink", "plain.bin"))
    }

    @Test func customOperatorDomainsAreFlaggedEvenInSubgraphs() {
        let report = scan(
            onnxModel(
                nodes: [("com.evil", "RunShell")], opsetDomains: ["", "com.evil"], subgraphNode: ("com.other", "Op")))
        #expect(report.has("onnx.custom-domain", "com.evil:RunShell"))
        #expect(report.has("onnx.custom-domain", "opset_import com.evil"))
        #expect(report.has("onnx.custom-domain", "com.other:Op"))
        #expect(!report.isRefusedByDefault)
        #expect(!report.refused(by: .strict).isEmpty)
    }

    @Test func savedModelPythonAndFileOpsAreFlagged() {
        let clean = scan(savedModel(ops: ["Placeholder", "MatMul", "SaveV2", "RestoreV2"]))
        #expect(clean.formats == ["tensorflow-savedmodel"])
        #expect(clean.findings.isEmpty, "\(clean.findings)")
        let report = scan(savedModel(ops: ["MatMul", "ReadFile"], functionOps: ["EagerPyFunc", "WriteFile"]))
        #expect(report.has("savedmodel.file-op", "ReadFile"))
        #expect(report.has("savedmodel.file-op", "WriteFile"))
        #expect(report.has("savedmodel.python-op", "EagerPyFunc"))
        #expect(report.findings.first { $0.rule == "savedmodel.python-op" }?.severity == .critical)
        for op in ["PyFunc", "PyFuncStateless", "MatchingFiles"] {
            #expect(scan(savedModel(ops: [op])).isRefusedByDefault, "\(op)")
        }
    }

    @Test func truncatedProtobufModelsAreFindingsNotCrashes() {
        let model = onnxModel(externalLocations: ["/etc/passwd"])
        for cut in stride(from: 1, to: model.count, by: 3) {
            _ = scan(Array(model.prefix(cut)))
        }
    }

    /// Every model of ONNX's own test data (Debian's libonnx-testdata; CI installs it) is recognised and none
    /// gets a high or critical finding.
    @Test func onnxTestDataModelsAreRecognisedWithoutHighFindings() throws {
        let root = URL(fileURLWithPath: "/usr/share/libonnx-testdata/data")
        guard FileManager.default.fileExists(atPath: root.path) else { try Interop.skipOrFail("libonnx-testdata") }
        let models =
            FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".onnx") } ?? []
        #expect(models.count > 500)
        for model in models {
            let report = try ModelScanner().scan(path: root.appendingPathComponent(model).path)
            #expect(report.formats.contains("onnx"), "\(model): \(report.formats)")
            #expect(!report.isRefusedByDefault, "\(model): \(report.findings)")
        }
    }
}
