import Foundation
import ProtobufWire
import TestSupport
import Testing

@testable import ModelScan

/// Review finding F3: recognising ONNX and SavedModel files depended on field order (field 1 first, so a first byte
/// of 0x08), on a default-valued field being present and on the absence of unknown fields; protobuf parsers need
/// none of these, so moving one field made a hostile model "unrecognised" (low) and it passed. Now the structure is
/// parsed in any order, and a file named or shaped like a model that matches no format is high.
@Suite struct ContentScanProtobufFieldOrderTests {
    private static func field(_ number: Int, _ build: (inout ProtobufWriter) -> Void) -> [UInt8] {
        var inner = ProtobufWriter()
        build(&inner)
        var outer = ProtobufWriter()
        outer.message(number, inner)
        return outer.bytes
    }

    private static func varint(_ number: Int, _ value: UInt64) -> [UInt8] {
        var writer = ProtobufWriter()
        writer.varint(number, value)
        return writer.bytes
    }

    /// A graph (ModelProto field 7) with an initializer whose external data escapes the directory.
    static let escapingGraph = field(7) { graph in
        var tensor = ProtobufWriter()
        tensor.varint(1, 4)
        tensor.varint(2, 1)
        tensor.string(8, "W")
        var entry = ProtobufWriter()
        entry.string(1, "location")
        entry.string(2, "../../../../etc/passwd")
        tensor.message(13, entry)
        tensor.varint(14, 1)
        graph.message(5, tensor)
    }

    /// `meta_graphs` (SavedModel field 2): one MetaGraphDef whose graph_def holds a PyFunc node.
    static let pyFuncMetaGraph = field(2) { meta in
        var graph = ProtobufWriter()
        var node = ProtobufWriter()
        node.string(1, "evil")
        node.string(2, "PyFunc")
        graph.message(1, node)
        meta.message(2, graph)
    }

    static let unknownField = field(99) { $0.string(1, "x") }

    @Test func onnxIsRecognisedInAnyFieldOrderWithUnknownFields() {
        let version = Self.varint(1, 9)
        for (label, bytes) in [
            ("ir_version last", Self.escapingGraph + version),
            ("no ir_version", Self.escapingGraph),
            ("unknown field first", Self.unknownField + version + Self.escapingGraph),
            ("model_version first", Self.varint(5, 1) + Self.escapingGraph + version),
        ] {
            let report = scan(bytes)
            #expect(report.formats.contains("onnx"), "\(label): \(report.formats)")
            #expect(report.has("onnx.external-data-escape"), "\(label): \(report.findings)")
            #expect(report.isRefusedByDefault, "\(label)")
        }
    }

    @Test func savedModelIsRecognisedInAnyFieldOrderWithUnknownFields() {
        let version = Self.varint(1, 1)
        for (label, bytes) in [
            ("control", version + Self.pyFuncMetaGraph),
            ("schema version last", Self.pyFuncMetaGraph + version),
            ("no schema version", Self.pyFuncMetaGraph),
            ("unknown field", version + Self.pyFuncMetaGraph + Self.unknownField),
            // An unknown field 7 that parses as a message: read as ONNX too, and never instead of SavedModel.
            ("unknown field 7", version + Self.pyFuncMetaGraph + Self.field(7) { $0.string(1, "x") }),
        ] {
            let report = scan(bytes)
            #expect(report.formats.contains("tensorflow-savedmodel"), "\(label): \(report.formats)")
            #expect(report.has("savedmodel.python-op", "PyFunc"), "\(label): \(report.findings)")
            #expect(report.isRefusedByDefault, "\(label)")
        }
    }

    /// A protobuf model that is also another format (here a protocol 0 pickle prefix that fails) is still scanned
    /// as protobuf.
    @Test func modelVersionFirstIsNotMistakenForAPickle() {
        let bytes = Self.varint(5, 1) + Self.pyFuncMetaGraph
        #expect(bytes.first == 0x28)  // "(", a protocol 0 pickle's MARK
        #expect(scan(bytes).has("savedmodel.python-op"))
    }
}
