import AccessControl
import Crypto
import Foundation
import Homomorphic
import MLCore
import SampleData
import Vault
import VaultCrypto

/// The demo's offline steps: vault, personas, data, training, registry, promotion, HE, tamper, rotation, audit.
extension DemoRun {
    func createVault(_ state: inout DemoState) async throws {
        if let given = environmentPassphrase, !given.isEmpty {
            state.passphrase = given
            say("  passphrase: from MODELVAULT_PASSPHRASE")
        } else {
            state.passphrase = Self.generatedPassphrase()
            say("  passphrase (generated, shown once): \(state.passphrase)")
        }
        let vault = try Vault.create(at: root, passphrase: state.passphrase)
        let access = try await VaultAccess.open(vault, checkpointInterval: 16)
        state.access = access
        let admin = try await access.bootstrap(admin: "admin")
        state.tokens["admin"] = admin.token
        try keepAdminToken(admin.token)
        // Read through the admin's session like every other vault read of the CLI: authorised and audited.
        let key = try await access.authenticate(token: admin.token).keyVersions().last
        say("  vault key v\(key?.version ?? 1): age X25519 identity, its file encrypted under scrypt of the passphrase")
        say("  recipient \(key?.recipient ?? "?")")
        say("  signing key: ECDSA P-256, fingerprint \(vault.signerFingerprint.prefix(16))…")
        let keyFiles = try FileManager.default.contentsOfDirectory(atPath: root.appending(path: "keys").path)
        for file in keyFiles.sorted() {
            let attributes = try FileManager.default.attributesOfItem(atPath: root.appending(path: "keys/\(file)").path)
            let mode = (attributes[.posixPermissions] as? Int) ?? 0
            guard mode & 0o077 == 0 else { throw DemoFailure("key file \(file) is readable by others") }
        }
        say("  \(keyFiles.count) key files, all mode 0600; first admin created (token stored only as a SHA-256 hash)")
    }

    func createPersonas(_ state: inout DemoState) async throws {
        let admin = try await state.session("admin")
        for persona in Self.personas {
            try await admin.addPrincipal(persona.name, binding: RoleBinding(role: persona.role))
            let issued = try await admin.createToken(for: persona.name, lifetime: 24 * 3600)
            state.tokens[persona.name] = issued.token
            let padded = persona.name.padding(toLength: 6, withPad: " ", startingAt: 0)
            say(
                "  \(padded) \(persona.who): role \(persona.role.rawValue), token id \(issued.info.id), expires in 24 h"
            )
        }
        let stored = try await admin.tokens()
        guard stored.count == Self.personas.count + 1 else { throw DemoFailure("expected one token per persona") }
        say("  the catalog holds \(stored.count) token hashes and no token")
    }

    func addDatasets(_ state: inout DemoState) async throws {
        let dana = try await state.session("dana")
        for (name, url) in [("breast-cancer", SampleData.breastCancerCSV), ("digits", SampleData.digitsCSV)] {
            let plaintext = try Data(contentsOf: url)
            let info = try await dana.addDataset(name, files: [url], description: "UCI \(name)")
            // Prove the point: no stored byte range of the vault contains the CSV header line.
            let header = plaintext.prefix { $0 != UInt8(ascii: "\n") }
            try assertNotInVault(header, what: "the \(name) CSV header")
            let reference = try DatasetReference(name: name, version: info.version)
            if name == "digits" { state.digitsReference = reference } else { state.breastCancerReference = reference }
            say("  dana added \(info.reference): \(plaintext.count) bytes, sha256 \(info.digest.prefix(16))…")
            say("    stored as age (key v\(info.files.first?.keyVersion ?? 0)); no plaintext anywhere in the vault")
        }
    }

    func trainModels(_ state: inout DemoState) async throws {
        let dana = try await state.session("dana")
        let jobs: [(DatasetReference?, String, ModelKind)] = [
            (state.breastCancerReference, "benign", .logistic), (state.digitsReference, "digit", .cnn),
        ]
        for (reference, label, kind) in jobs {
            guard let reference else { throw DemoFailure("the dataset is missing") }
            // Decrypted into memory only; the training data never touches the disk in plaintext.
            let files = try await dana.trainingData(reference)
            guard let csv = files.values.first else { throw DemoFailure("dataset \(reference) is empty") }
            let data = try Dataset.csv(csv, label: label)
            var options = TrainingOptions(kind: kind)
            if kind == .cnn { options.imageShape = ImageShape(height: 8, width: 8, channels: 1) }
            // Trainer.train's steps, kept apart because the demo needs the held-out rows again for inference.
            let (train, test) = try data.stratifiedSplit(fraction: options.testFraction, seed: options.seed)
            let model = try Trainer.fit(train, options: options)
            let evaluation = try model.evaluate(test)
            let target = kind == .cnn ? 0.96 : 0.95
            guard evaluation.accuracy >= target else {
                throw DemoFailure("\(kind.rawValue) accuracy \(Self.percent(evaluation.accuracy)) is below target")
            }
            say(
                "  \(kind.rawValue) on \(reference): held-out accuracy \(Self.percent(evaluation.accuracy)), "
                    + "F1 \(String(format: "%.3f", evaluation.f1)) on \(evaluation.sampleCount) rows (seed \(options.seed))"
            )
            if kind == .cnn {
                state.cnn = (model, test)
                state.digits = data
            } else {
                state.logistic = (model, test)
                state.breastCancer = data
            }
        }
    }

    func registerModels(_ state: inout DemoState) async throws {
        let dana = try await state.session("dana")
        let sam = try await state.session("sam")
        let jobs = [
            ("breast-cancer-logistic", state.logistic, state.breastCancerReference),
            ("digits-cnn", state.cnn, state.digitsReference),
        ]
        for (name, trained, dataset) in jobs {
            guard let trained, let dataset else { throw DemoFailure("a model or dataset is missing") }
            let evaluation = try trained.model.evaluate(trained.test)
            let metrics = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(evaluation))
            let files = try trained.model.files()
            let info = try await dana.pushModel(name, from: .files(files), datasets: [dataset], metrics: metrics)
            if name == "digits-cnn" { state.cnnVersion = info } else { state.logisticVersion = info }
            for (file, bytes) in files {
                try assertNotInVault(bytes.prefix(64).suffix(32), what: "the weights of \(name)/\(file)")
            }
            let lineage = info.lineage.map { "\($0.dataset)@\($0.version) (\($0.digest.prefix(12))…)" }
            say("  \(info.reference): \(info.files.count) files, \(info.totalSize) bytes, encrypted with age")
            say("    signed (OpenSSF model signing, Sigstore bundle) by \(info.signer.prefix(16))…")
            say("    manifest sha256 \(info.manifestSHA256.prefix(16))…; lineage \(lineage.joined(separator: ", "))")
            try await sam.verifyModel(ModelReference(name: name, selector: .version(info.version)))
            say("    sam (security engineer) verified signature and digests")
        }
    }

    func promoteModels(_ state: inout DemoState) async throws {
        let devin = try await state.session("devin")
        for info in [state.logisticVersion, state.cnnVersion] {
            guard let info else { throw DemoFailure("a model version is missing") }
            try await devin.setAlias(
                "production", to: ModelReference(name: info.name, selector: .version(info.version)))
            say("  devin pointed \(info.name):production at version \(info.version)")
        }
        let dana = try await state.session("dana")
        do {
            try await dana.setAlias("production", to: ModelReference(name: "digits-cnn", selector: .version(1)))
            throw DemoFailure("a data scientist was allowed to promote")
        } catch is AccessControlError {
            say("  dana (data scientist) tried to promote: refused (model.alias is devops' and admin's)")
        }
    }

    func privateInference(_ state: inout DemoState) async throws {
        guard let (model, test) = state.logistic, let info = state.logisticVersion else {
            throw DemoFailure("the logistic model is missing")
        }
        let clock = ContinuousClock()
        // Client: keys and encryption of standardised rows; the secret key never leaves it.
        let named = CKKSParameters.named("n8192-d3")!
        let context = try CKKSContext(parameters: try named.parameters())
        let client = PrivateInferenceClient(context: context)
        let standardized = model.config.standardization.apply(to: test.features)
        let width = test.featureNames.count
        let rows = (0..<test.count).map { row in
            standardized.scalars[(row * width)..<((row + 1) * width)].map(Double.init)
        }
        let privateModel = try model.privateModel()
        let keys = client.evaluationKeys(for: privateModel.packing)
        var start = clock.now
        let query = try client.encrypt(rows: rows, for: privateModel)
        let encryptTime = clock.now - start
        // Server: the model owner loads the verified version and scores ciphertexts it cannot read.
        let mel = try await state.session("mel")
        let served = try TrainedModel(
            files: try await mel.privateInferenceModel(
                ModelReference(name: info.name, selector: .version(info.version))))
        start = clock.now
        let result = try PrivateInferenceServer.evaluate(
            query, model: try served.privateModel(), keys: keys, context: context)
        let evaluateTime = clock.now - start
        // Client: decrypts the scores and applies the sigmoid itself.
        start = clock.now
        let scores = try client.decrypt(result)
        let decryptTime = clock.now - start
        let plain = try model.predict(
            rows: (0..<test.count).map { row in
                Array(test.features.scalars[(row * width)..<((row + 1) * width)])
            })
        var worst = 0.0
        var agree = 0
        for (row, prediction) in plain.enumerated() {
            let probabilities = probabilities(fromScores: scores[row])
            let best = probabilities.indices.max { probabilities[$0] < probabilities[$1] } ?? 0
            if best == prediction.classIndex { agree += 1 }
            for (p, q) in zip(probabilities, prediction.probabilities) { worst = max(worst, abs(p - Double(q))) }
        }
        guard agree == plain.count, worst < 1e-3 else {
            throw DemoFailure("private classes differ on \(plain.count - agree) rows (max |Δp| \(worst))")
        }
        say(
            "  CKKS \(named.name) (N=\(named.polyDegree), \(try named.parameters().securityLevel)-bit security): "
                + "\(rows.count) held-out rows, \(query.ciphertexts.count) ciphertext(s)")
        say(
            "  query \(context.serialize(query).count / 1024) KiB, result \(context.serialize(result).count / 1024) KiB, "
                + "evaluation keys: the public key (re-randomises results), plus relinearisation for the MLP")
        say(
            "  client encrypt \(Self.seconds(encryptTime)), server evaluate \(Self.seconds(evaluateTime)), "
                + "client decrypt \(Self.seconds(decryptTime))")
        say(
            "  classes equal the plaintext model's on \(agree)/\(plain.count) rows; max |Δp| = "
                + String(format: "%.2e", worst) + "; the server never saw a feature or a score")
    }

    func tamperAndDetect(_ state: inout DemoState) async throws {
        guard let info = state.logisticVersion else { throw DemoFailure("the logistic model is missing") }
        let sam = try await state.session("sam")
        let reference = try ModelReference(name: info.name, selector: .version(info.version))
        let blob = root.appending(path: "models/encrypted/\(info.name)/\(info.version)/model.safetensors.age")
        let original = try Data(contentsOf: blob)
        var tampered = original
        tampered[tampered.count / 2] ^= 0x01
        try tampered.write(to: blob)
        say("  flipped one bit in the middle of \(info.name)/\(info.version)/model.safetensors.age")
        do {
            try await sam.verifyModel(reference)
            try original.write(to: blob)
            throw DemoFailure("verification accepted a tampered blob")
        } catch let error as VaultError {
            say("  sam's verify refused it: \(error.description)")
        }
        let pull = root.appending(path: "tampered-pull")
        do {
            try await sam.pullModel(reference, for: AgeX25519Identity.generate().recipient.encoded, to: pull)
        } catch {
            say(
                "  a pull of it also fails and writes nothing: \(FileManager.default.fileExists(atPath: pull.path) ? "WROTE" : "no output")"
            )
        }
        guard !FileManager.default.fileExists(atPath: pull.path) else {
            throw DemoFailure("a failed pull wrote output")
        }
        try original.write(to: blob)
        try await sam.verifyModel(reference)
        say("  restored the original blob from backup; it verifies again")
    }

    func rotateKey(_ state: inout DemoState) async throws {
        let sam = try await state.session("sam")
        let report = try await sam.rotateKeys(passphrase: state.passphrase)
        say("  sam created vault key v\(report.keyVersion) and re-wrapped \(report.filesMoved) files (headers only)")
        let keys = try await sam.keyVersions()
        for key in keys { say("    key v\(key.version): \(key.state), \(key.fileCount) files") }
        for info in [state.logisticVersion, state.cnnVersion].compactMap({ $0 }) {
            try await sam.verifyModel(ModelReference(name: info.name, selector: .version(info.version)))
        }
        say("  both models still verify and decrypt under the new key")
    }

    func auditAndReport(_ state: inout DemoState) async throws {
        let cora = try await state.session("cora")
        try await state.requireAccess().checkpoint()
        let verification = try await cora.verifyAuditLog()
        guard verification.isValid else { throw DemoFailure("the audit log does not verify") }
        say("  cora (compliance officer): \(verification.summary.split(separator: "\n").first ?? "")")
        let report = try await cora.complianceReport()
        say(
            "  compliance report: \(report.models.count) model versions, \(report.datasets.count) dataset versions, "
                + "\(report.findings.count) findings")
        for finding in report.findings.prefix(4) {
            say("    [\(finding.severity)] \(finding.subject): \(finding.message)")
        }
        do {
            _ = try await cora.loadModel(ModelReference(name: "digits-cnn", selector: .version(1)))
            throw DemoFailure("a compliance officer read model bytes")
        } catch is AccessControlError {
            say("  cora tried to read model bytes: refused, and the attempt is in the log")
        }
    }

    /// Fails if `needle` occurs in any file under the vault.
    func assertNotInVault(_ needle: Data, what: String) throws {
        guard !needle.isEmpty else { return }
        let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL }
        for file in files ?? [] {
            guard let data = try? Data(contentsOf: file) else { continue }
            if data.range(of: needle) != nil { throw DemoFailure("\(what) is stored in plaintext") }
        }
    }

    /// Six random words' worth of entropy as URL-safe base64 (144 bits).
    static func generatedPassphrase() -> String {
        let bytes = SymmetricKey(size: SymmetricKeySize(bitCount: 144)).withUnsafeBytes { Data($0) }
        return bytes.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(
            of: "/", with: "_")
    }
}
