import Foundation
import TestSupport
import Testing

/// `model push` of an ONNX model whose weights are external data: pushed as its directory, the data file is a
/// file of the signed version (verified like the model) and `predict` reads it from there; a single file whose
/// data would be left behind, and a symbolic link for the data file, are refused with exit 5.
@Suite(.serialized) struct ModelPushONNXExternalDataTests {
    @Test func aModelWithExternalDataPushesVerifiesAndPredicts() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        let folder = work.appending(path: "model")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(TestONNXModels.linearClassifier(externalAt: "weights.bin")).write(
            to: folder.appending(path: "model.onnx"))
        try Data(TestONNXModels.linearClassifierWeights).write(to: folder.appending(path: "weights.bin"))

        // Attack: the model file alone would be stored without its data, so it is refused at push.
        let alone = try ModelVaultBinary.run(
            ["model", "push", "alone", "model/model.onnx"], environment: env, in: work)
        #expect(alone.status == 5, "\(alone.stderr)")
        #expect(alone.stderr.contains("push the directory holding the model and its data files"), "\(alone.stderr)")

        let pushed = try ModelVaultBinary.run(["model", "push", "external", "model"], environment: env, in: work)
        #expect(pushed.status == 0, "\(pushed.stderr)")
        let manifest = try Data(contentsOf: work.appending(path: "v/models/encrypted/external/1/manifest.json"))
        #expect(String(decoding: manifest, as: UTF8.self).contains("weights.bin"))
        let verified = try ModelVaultBinary.run(["model", "verify", "external@1"], environment: env, in: work)
        #expect(verified.status == 0, "\(verified.stderr)")

        let rows: [[Float]] = [[1, 2], [3, -4]]
        let csv = "a,b\n" + rows.map { "\($0[0]),\($0[1])" }.joined(separator: "\n") + "\n"
        try Data(csv.utf8).write(to: work.appending(path: "rows.csv"))
        let predicted = try ModelVaultBinary.run(
            ["predict", "external", "--input", "rows.csv"], environment: env, in: work)
        #expect(predicted.status == 0, "\(predicted.stderr)")
        let labels = predicted.stdout.split(separator: "\n").dropFirst().map { String($0.split(separator: ",")[0]) }
        #expect(labels == TestONNXModels.linearClassifierOutputs(rows).labels.map(String.init))

        // Attack: the data file is a symbolic link to a file outside the pushed directory.
        let outside = work.appending(path: "outside.bin")
        try Data(TestONNXModels.linearClassifierWeights).write(to: outside)
        try FileManager.default.removeItem(at: folder.appending(path: "weights.bin"))
        try FileManager.default.createSymbolicLink(
            at: folder.appending(path: "weights.bin"), withDestinationURL: outside)
        let linked = try ModelVaultBinary.run(["model", "push", "linked", "model"], environment: env, in: work)
        #expect(linked.status == 5, "\(linked.stderr)")
        #expect(linked.stderr.contains("symbolic link"), "\(linked.stderr)")
    }
}
