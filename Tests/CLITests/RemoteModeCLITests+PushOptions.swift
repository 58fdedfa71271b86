import Crypto
import Foundation
import TestSupport
import Testing

/// `model push`'s options in remote mode (#14): lineage, metrics, a publisher's signature (beside or inside the
/// model), the scan policy and accepted findings, each with the local push's exit code and output.
extension RemoteModeCLITests {
    /// One publisher key for both vaults, so both sides sign alike.
    static let publisherKey = P256.Signing.PrivateKey()

    /// `cos\nsystem\n(S'id'\ntR.`: a protocol 0 pickle calling `os.system('id')` (critical).
    static let hostilePickle = Data("cos\nsystem\n(S'id'\ntR.".utf8)
    /// A pickle followed by a byte that starts no pickle: a medium finding only the strict policy refuses.
    static let mediumPickle = Data([0x80, 0x02, 0x4E, 0x2E, 0x00])
    /// The finding `--accept` names for ``hostilePickle`` pushed as `evil/model.bin`.
    static let hostileFinding = "model.bin#pickle.global.dangerous@0"

    /// The files the push-option rows read, written the same way into each vault's work directory.
    static func writePushFixtures(in work: URL, admin: (([String]) throws -> ChildProcess.Output)) throws {
        func write(_ data: Data, _ path: String) throws {
            let url = work.appending(path: path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url)
        }
        try write(Data(publisherKey.pemRepresentation.utf8), "publisher-private.pem")
        try write(Data(publisherKey.publicKey.pemRepresentation.utf8), "publisher.pem")
        try write(Data(#"{"auc": 0.91, "notes": "held-out split"}"#.utf8), "metrics.json")
        try write(Data("[1, 2]".utf8), "metrics-array.json")
        try write(Data("signed weights".utf8), "signed/weights.bin")
        try write(Data("signed weights inside".utf8), "signed-inside/weights.bin")
        try write(hostilePickle, "evil/model.bin")
        try write(mediumPickle, "medium/model.pkl")
        // ONNX: the signature goes into the signed manifest (recorded by the server from what it received).
        try write(Data(TestONNXModels.linearClassifier), "classifier.bin")
        try write(Data(TestONNXModels.linearClassifier), "onnx-bundle/model.onnx")
        try write(Data("labels\n".utf8), "onnx-bundle/README.md")
        try write(Data("this is not protobuf".utf8), "garbage.onnx")
        // A downloaded directory carrying the vault's reserved `.modelvault/` names: refused both ways (remotely
        // they would have been taken as the push's metrics and publisher signature: review F3).
        try write(Data("weights".utf8), "dirmeta/weights.bin")
        try write(Data(#"{"accuracy": 0.999}"#.utf8), "dirmeta/.modelvault/metrics.json")
        let beside = try admin([
            "sign", "signed", "--private-key", "publisher-private.pem", "--signature", "signed.sig",
        ])
        #expect(beside.status == 0, "\(beside.stderr)")
        let inside = try admin([
            "sign", "signed-inside", "--private-key", "publisher-private.pem", "--signature",
            "signed-inside/model.sig",
        ])
        #expect(inside.status == 0, "\(inside.stderr)")
    }

    /// Rows for the shared table; run after the per-persona rows (the `gamma`, `signed`, `evil` and `medium`
    /// models are new to both vaults).
    static var pushOptionScenarios: [Scenario] {
        let signature = ["--signature", "signed.sig", "--public-key", "publisher.pem"]
        return [
            Scenario(
                persona: "admin",
                arguments: ["model", "push", "gamma", "next", "--dataset", "cancer@1", "--metrics", "metrics.json"]),
            Scenario(persona: "admin", arguments: ["model", "show", "gamma@1"]),
            Scenario(persona: "admin", arguments: ["model", "show", "gamma@1", "--json"], compareOutput: false),
            Scenario(persona: "admin", arguments: ["model", "push", "gamma", "next", "--dataset", "nosuch@1"]),
            Scenario(
                persona: "admin", arguments: ["model", "push", "gamma", "next", "--metrics", "metrics-array.json"]),
            Scenario(persona: "admin", arguments: ["model", "push", "gamma", "next", "--metrics", "nosuch.json"]),
            // A dataset outside the caller's scope: `scoped` holds model:alpha only.
            Scenario(persona: "scoped", arguments: ["model", "push", "alpha", "next", "--dataset", "cancer@1"]),
            Scenario(persona: "admin", arguments: ["model", "push", "signed", "signed"] + signature),
            Scenario(persona: "admin", arguments: ["model", "show", "signed@1"]),
            Scenario(
                persona: "admin",
                arguments: [
                    "model", "push", "signed", "signed-inside", "--signature", "signed-inside/model.sig",
                    "--public-key", "publisher.pem",
                ]),
            Scenario(persona: "admin", arguments: ["model", "show", "signed@2"]),
            // The attack: a signature that does not cover these files (exit 6 both ways, nothing stored).
            Scenario(persona: "admin", arguments: ["model", "push", "signed", "next"] + signature),
            Scenario(persona: "admin", arguments: ["model", "show", "signed@3"]),
            // The scanner's options: refused (7), accepted only by a role holding model.scan (3 otherwise).
            Scenario(persona: "admin", arguments: ["model", "push", "evil", "evil"]),
            Scenario(persona: "dana", arguments: ["model", "push", "evil", "evil", "--accept", hostileFinding]),
            Scenario(persona: "admin", arguments: ["model", "push", "evil", "evil", "--accept", hostileFinding]),
            Scenario(persona: "admin", arguments: ["model", "show", "evil@1"]),
            Scenario(persona: "admin", arguments: ["model", "push", "medium", "medium", "--scan-policy", "strict"]),
            Scenario(persona: "admin", arguments: ["model", "push", "medium", "medium"]),
            Scenario(persona: "admin", arguments: ["model", "push", "linear", "classifier.bin"]),
            Scenario(persona: "admin", arguments: ["model", "show", "linear@1"]),
            Scenario(persona: "admin", arguments: ["model", "push", "linear", "onnx-bundle"]),
            Scenario(persona: "admin", arguments: ["model", "show", "linear@2"]),
            Scenario(persona: "admin", arguments: ["model", "push", "linear", "garbage.onnx"]),
            Scenario(persona: "admin", arguments: ["model", "push", "dirmeta", "dirmeta"]),
        ]
    }

    /// What the push-option rows must have given (the table checks local and remote agree; this checks both did
    /// what the flags ask).
    static func checkPushOptionStatuses(_ statuses: [String: Int32]) {
        let signature = "--signature signed.sig --public-key publisher.pem"
        #expect(statuses["admin: modelvault model push gamma next --dataset cancer@1 --metrics metrics.json"] == 0)
        #expect(statuses["admin: modelvault model push gamma next --dataset nosuch@1"] == 4)
        #expect(statuses["admin: modelvault model push gamma next --metrics metrics-array.json"] == 5)
        #expect(statuses["admin: modelvault model push signed signed \(signature)"] == 0)
        #expect(statuses["admin: modelvault model push signed next \(signature)"] == 6)
        #expect(statuses["admin: modelvault model show signed@3"] == 4)
        #expect(statuses["admin: modelvault model push evil evil"] == 7)
        #expect(statuses["dana: modelvault model push evil evil --accept \(hostileFinding)"] == 3)
        #expect(statuses["admin: modelvault model push evil evil --accept \(hostileFinding)"] == 0)
        #expect(statuses["admin: modelvault model push medium medium --scan-policy strict"] == 7)
        #expect(statuses["admin: modelvault model push medium medium"] == 0)
        #expect(statuses["admin: modelvault model push linear classifier.bin"] == 0)
        #expect(statuses["admin: modelvault model push linear garbage.onnx"] == 5)
        #expect(statuses["admin: modelvault model push dirmeta dirmeta"] == 5)
    }

    /// The remote push recorded what the flags asked in the signed manifest: lineage, metrics, the publisher, and
    /// the accepted finding.
    static func checkPushOptionRecords(_ server: RunningServer, _ vault: PreparedVault) throws {
        let shown = try server.remote(vault, "admin", ["model", "show", "gamma@1", "--json"])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("cancer") && shown.stdout.contains("0.91"), "\(shown.stdout)")
        let signed = try server.remote(vault, "admin", ["model", "show", "signed@2", "--json"])
        #expect(signed.stdout.contains("publisher"), "\(signed.stdout)")
        // The signature kept inside the model directory is not one of the model's files.
        #expect(!signed.stdout.contains("model.sig"), "\(signed.stdout)")
        let linear = try server.remote(vault, "admin", ["model", "show", "linear@2"])
        #expect(linear.stdout.contains("format:    ONNX (IR 8; opsets ai.onnx 17"), "\(linear.stdout)")
        #expect(linear.stdout.contains("  probabilities  FP32 [-1, 2]"), "\(linear.stdout)")
        let evil = try server.remote(vault, "admin", ["model", "show", "evil@1"])
        #expect(evil.stdout.contains("accepted: \(hostileFinding)"), "\(evil.stdout)")
    }
}
