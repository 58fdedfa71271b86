import AccessControl
import Foundation
import MLCore
import Vault
import VaultServer

/// A demo step that did not do what it says; the text names what was expected.
struct DemoFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The state the demo's steps hand on to each other.
struct DemoState {
    var passphrase = ""
    var access: VaultAccess?
    /// Persona principal → API token (shown only as its id).
    var tokens: [String: String] = [:]
    var breastCancer: Dataset?
    var digits: Dataset?
    var breastCancerReference: DatasetReference?
    var digitsReference: DatasetReference?
    var logistic: (model: TrainedModel, test: Dataset)?
    var cnn: (model: TrainedModel, test: Dataset)?
    var logisticVersion: ModelVersionInfo?
    var cnnVersion: ModelVersionInfo?
    /// `--remote`: the server process and the client-side directory of the personas' CLI runs.
    var remote: DemoRemote?

    func requireAccess() throws -> VaultAccess {
        guard let access else { throw DemoFailure("the vault is not open") }
        return access
    }

    func session(_ principal: String) async throws -> VaultSession {
        guard let token = tokens[principal] else { throw DemoFailure("no token for \(principal)") }
        return try await requireAccess().authenticate(token: token)
    }
}

/// Runs the demo's steps in order, narrating each: what was protected and how, and how long it took.
/// Stops at the first step that fails and names it.
struct DemoRun {
    let root: URL
    let keepsVault: Bool
    /// Where a kept vault's admin token goes (0600, beside the vault, never inside it); `nil` for a vault that is
    /// removed afterwards.
    var adminTokenFile: URL? = nil
    /// `--remote`: after the vault and the personas, every persona works through the server with its token only.
    var remote = false

    /// The personas, one per role, as the README introduces them.
    static let personas: [(name: String, role: Role, who: String)] = [
        ("dana", .dataScientist, "data scientist"),
        ("mel", .mlEngineer, "ML engineer"),
        ("devin", .devops, "DevOps engineer"),
        ("sam", .securityEngineer, "security engineer"),
        ("cora", .complianceOfficer, "compliance officer"),
    ]

    /// Returns whether every step succeeded.
    func run() async -> Bool {
        let clock = ContinuousClock()
        let started = clock.now
        say("ModelVault demo: every practice, end to end, on the shipped UCI data")
        say("vault: \(root.path(percentEncoded: false))\(keepsVault ? "" : " (temporary; --keep keeps it)")")
        var state = DemoState()
        let steps = remote ? remoteSteps : localSteps
        for (index, (title, body)) in steps.enumerated() {
            say("")
            say("[\(index + 1)/\(steps.count)] \(title)")
            let start = clock.now
            do {
                try await body(&state)
            } catch {
                say("  FAILED: step \(index + 1) (\(title)): \(error)")
                try? await state.access?.close()
                await state.remote?.cleanUp()
                return false
            }
            say("  ok (\(Self.seconds(clock.now - start)))")
        }
        await state.remote?.cleanUp()
        do {
            try await state.access?.close()
        } catch {
            say("  FAILED: closing the audit log: \(error)")
            return false
        }
        say("")
        say("demo complete: all \(steps.count) steps succeeded in \(Self.seconds(clock.now - started))")
        return true
    }

    /// The local walk's steps, in order: the personas' sessions in this process.
    var localSteps: [(String, (inout DemoState) async throws -> Void)] {
        [
            ("Create the vault", createVault),
            ("One user per persona, each with a token", createPersonas),
            ("Add the datasets, encrypted", addDatasets),
            ("Train and evaluate in memory", trainModels),
            ("Sign, encrypt and register the versions", registerModels),
            ("Promote to production", promoteModels),
            ("Serve over TLS; authorised, unauthorised and forbidden inference", serveAndInfer),
            ("Private inference under CKKS", privateInference),
            ("Tamper with a stored blob", tamperAndDetect),
            ("Mint an admin token straight into catalog.sqlite", mintTokenAndDetect),
            ("Rotate the vault key", rotateKey),
            ("Verify the audit log; compliance report", auditAndReport),
        ]
    }

    func say(_ line: String) {
        // Unbuffered, so the narration keeps pace with the work even through a pipe.
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func seconds(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        return String(format: "%.2f s", seconds)
    }

    static func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
}
