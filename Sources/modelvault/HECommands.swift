import ArgumentParser
import Crypto
import Foundation
import Homomorphic
import MLCore
import Vault
import VaultCrypto

/// `modelvault he`: private inference on CKKS-encrypted rows.
struct HECommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "he",
        abstract: "Private inference: the model owner scores encrypted rows without seeing them.",
        subcommands: [
            HEParams.self, HEKeygen.self, HEExportDescriptor.self, HEEncrypt.self, HEInfer.self, HEDecrypt.self,
        ])
}

/// The files of a key directory and the small length-prefixed containers the `he` commands exchange.
enum HEFiles {
    static let parameters = "parameters.bin"
    static let secretKey = "secret.key"
    static let evaluationKeys = "evaluation.keys"
    static let evaluationMagic = Data("MVHE-EVK1".utf8)
    static let resultMagic = Data("MVHE-RES1".utf8)

    static func url(_ path: String) -> URL { URL(filePath: path, relativeTo: .currentDirectory()).absoluteURL }

    static func read(_ url: URL, _ what: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw CLIError("cannot read \(what)") }
        return data
    }

    /// magic, then per section a 4-byte big-endian length and the bytes.
    static func pack(_ magic: Data, _ sections: [Data]) -> Data {
        var out = magic
        for section in sections {
            withUnsafeBytes(of: UInt32(section.count).bigEndian) { out.append(contentsOf: $0) }
            out.append(section)
        }
        return out
    }

    static func unpack(_ data: Data, _ magic: Data, count: Int, what: String) throws -> [Data] {
        let bytes = [UInt8](data)
        guard bytes.count >= magic.count, Data(bytes[0..<magic.count]) == magic else {
            throw CLIError("\(what) is not a ModelVault \(what)")
        }
        var offset = magic.count
        var sections: [Data] = []
        for _ in 0..<count {
            guard bytes.count - offset >= 4 else { throw CLIError("\(what) is truncated") }
            let length = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            offset += 4
            guard bytes.count - offset >= length else { throw CLIError("\(what) is truncated") }
            sections.append(Data(bytes[offset..<(offset + length)]))
            offset += length
        }
        guard offset == bytes.count else { throw CLIError("\(what) has trailing bytes") }
        return sections
    }

    /// SHA-256 (hex) of an evaluation key file's public-key section: names the key pair a result is for.
    static func keyFingerprint(evaluationKeys sections: [Data]) -> String {
        SHA256.hash(data: sections[0] + sections[2]).map { String(format: "%02x", $0) }.joined()
    }

    static func context(parameters data: Data) throws -> CKKSContext {
        try CKKSContext(parameters: CKKSParameters(serialized: [UInt8](data)))
    }
}

/// Which model a result came from and how to name its classes.
struct HEResultHeader: Codable {
    var model: String
    var labelNames: [String]
    /// The fingerprint of the evaluation keys the result was computed with (`HEFiles.keyFingerprint`), so the
    /// data owner's `he decrypt` refuses a result meant for another key instead of printing noise as predictions.
    var keyFingerprint: String?
    /// How the scores become probabilities; `nil` (results of built-in models, and older results): sigmoid for
    /// one score, softmax for several.
    var transform: ScoreTransform?
}

/// `modelvault he params`.
struct HEParams: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "params", abstract: "List the CKKS parameter sets: security, depth, slots and sizes.")

    @Flag(name: .long, help: "Print JSON.") var json = false

    /// One set in `--json`.
    struct Output: Encodable {
        var name: String, polyDegree: Int, moduliBits: [Int], logScale: Int, securityBits: Int, depth: Int
        var slots: Int, summary: String
    }

    func run() async throws {
        if json {
            return try printJSON(
                try CKKSParameters.namedSets.map { named in
                    let parameters = try named.parameters()
                    return Output(
                        name: named.name, polyDegree: named.polyDegree, moduliBits: named.bitSizes,
                        logScale: named.logScale, securityBits: parameters.securityLevel, depth: parameters.depth,
                        slots: parameters.slotCount, summary: named.summary)
                })
        }
        for named in CKKSParameters.namedSets {
            let parameters = try named.parameters()
            print(
                "\(named.name)  N=\(named.polyDegree)  moduli=\(named.bitSizes.map(String.init).joined(separator: ","))"
                    + "  scale=2^\(named.logScale)  security=\(parameters.securityLevel)-bit  depth=\(parameters.depth)"
                    + "  slots=\(parameters.slotCount)")
            print(
                "    ciphertext(fresh, seeded)=\(parameters.ciphertextSize(level: parameters.maxLevel, seeded: true)) B"
                    + "  relin key=\(parameters.relinearizationKeySize) B  secret key=\(parameters.secretKeySize) B"
                    + "  — \(named.summary)")
        }
    }
}

/// `modelvault he keygen -o KEYDIR [--params NAME]`.
struct HEKeygen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create a client key directory: secret key (0600) and evaluation keys in a separate file.")

    @Option(name: .shortAndLong, help: "The key directory to create (must not exist or be empty).") var output: String
    @Option(name: .customLong("params"), help: "A parameter set from `he params`.")
    var parametersName = "n8192-d3"
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        guard let named = CKKSParameters.named(parametersName) else {
            throw CLIError("unknown parameter set \(parametersName) (see `modelvault he params`)")
        }
        let directory = HEFiles.url(output)
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        guard existing.isEmpty else { throw CLIError("the key directory is not empty") }
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let parameters = try named.parameters()
        let context = try CKKSContext(parameters: parameters)
        let client = PrivateInferenceClient(context: context)
        // No packing rotates, so the evaluation keys are the public key (the owner re-randomises every result
        // with it) and relinearisation (used by he-mlp); no Galois keys.
        let keys = client.evaluationKeys(for: .slotPerFeature)
        var sections = [Data(parameters.serialized())]
        sections.append(keys.relinearization.map { Data(context.serialize($0)) } ?? Data())
        sections.append(keys.publicKey.map { Data(context.serialize($0)) } ?? Data())
        try AtomicFile.write(
            Data(context.serialize(client.secretKey)), to: directory.appending(path: HEFiles.secretKey),
            permissions: 0o600)
        try AtomicFile.write(Data(parameters.serialized()), to: directory.appending(path: HEFiles.parameters))
        try AtomicFile.write(
            HEFiles.pack(HEFiles.evaluationMagic, sections), to: directory.appending(path: HEFiles.evaluationKeys))
        if json {
            struct Output: Encodable { var directory: String, parameters: String, evaluationKeys: String }
            return try printJSON(
                Output(
                    directory: output, parameters: named.name, evaluationKeys: "\(output)/\(HEFiles.evaluationKeys)"))
        }
        print("created \(directory.path(percentEncoded: false)) (\(named.name))")
    }
}

/// Loads the client side of a key directory.
private func loadClient(_ path: String) throws -> PrivateInferenceClient {
    let directory = HEFiles.url(path)
    let context = try HEFiles.context(
        parameters: try HEFiles.read(directory.appending(path: HEFiles.parameters), "the key parameters"))
    let secret = try HEFiles.read(directory.appending(path: HEFiles.secretKey), "the secret key")
    return PrivateInferenceClient(context: context, secretKey: try context.deserializeSecretKey([UInt8](secret)))
}

/// `modelvault he encrypt --keys KEYDIR (--descriptor FILE | --model NAME[@V|:ALIAS]) --input ROWS.csv -o QUERY`.
struct HEEncrypt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encrypt", abstract: "Standardise rows with the model's preprocessing and encrypt them.",
        discussion: """
            The data owner encrypts against the model's public descriptor (from `he export-descriptor`) and needs \
            no vault; --model reads the model from a vault instead (the model owner's own tests).

            Examples:
              modelvault he encrypt --keys keys/ --descriptor classifier.descriptor.json --input rows.csv -o query.bin
            """)

    @OptionGroup var options: VaultOptions
    @Option(help: "The client key directory.") var keys: String
    @Option(help: "The model's public descriptor (`he export-descriptor`); needs no vault.") var descriptor: String?
    @Option(help: "Instead of --descriptor: NAME, NAME@VERSION or NAME:ALIAS in the vault.") var model: String?
    @Option(help: "A CSV with a header holding the model's feature columns.") var input: String
    @Option(name: .shortAndLong, help: "The encrypted query file.") var output: String

    func validate() throws {
        guard (descriptor == nil) != (model == nil) else {
            throw ValidationError("give either --descriptor FILE or --model NAME")
        }
    }

    func run() async throws {
        let rows = try HEFiles.read(HEFiles.url(input), "the input CSV \(input)")
        let client = try loadClient(keys)
        let query: EncryptedQuery
        if let descriptor {
            let described = try HEDescriptor.read(descriptor)
            let standardized = try described.standardizedRows(csv: rows)
            try described.checkInputRange(standardized, descriptorPath: descriptor)
            query = try client.encrypt(rows: standardized, for: try described.shapeModel())
        } else {
            let reference = try ModelReference(parsing: model ?? "")
            let subject = try PrivateInferenceSubject(
                files: try await options.open().privateInferenceModel(reference), reference: reference)
            query = try client.encrypt(rows: try subject.standardizedRows(csv: rows), for: subject.model)
        }
        try AtomicFile.write(Data(client.context.serialize(query)), to: HEFiles.url(output))
        progress("encrypted \(query.rowCount) rows in \(query.ciphertexts.count) ciphertexts")
    }
}

/// `modelvault he infer NAME[@V|:ALIAS] QUERY --eval-keys KEYDIR -o RESULT`.
struct HEInfer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer", abstract: "Model owner: evaluate a verified model on an encrypted query.",
        discussion: """
            The data owner hands over the query and the evaluation keys file only; the key directory also holds \
            secret.key, so a directory is refused. The result names the key pair it is for.

            Examples:
              modelvault he infer classifier:production query.bin --eval-keys evaluation.keys -o result.bin
            """)

    @OptionGroup var options: VaultOptions
    @Argument(help: "NAME, NAME@VERSION or NAME:ALIAS.") var reference: String
    @Argument(help: "The encrypted query file.") var query: String
    @Option(
        name: .customLong("eval-keys"),
        help:
            "The client's evaluation keys file (KEYDIR/evaluation.keys; never the key directory, it holds the secret key)."
    )
    var evaluationKeys: String
    @Option(name: .shortAndLong, help: "The encrypted result file.") var output: String

    func run() async throws {
        let reference = try ModelReference(parsing: reference)
        if try await options.whenRemote({ try await remote($0, reference) }) { return }
        let (sections, context, keys, query) = try loadInputs()
        let subject = try PrivateInferenceSubject(
            files: try await options.open().privateInferenceModel(reference), reference: reference)
        let result = try PrivateInferenceServer.evaluate(query, model: subject.model, keys: keys, context: context)
        try write(
            result, context: context,
            header: HEResultHeader(
                model: reference.description, labelNames: subject.labelNames,
                keyFingerprint: HEFiles.keyFingerprint(evaluationKeys: sections),
                transform: subject.transform == .builtIn ? nil : subject.transform))
    }

    /// The evaluation key file's sections, its context and keys, and the query, each checked.
    func loadInputs() throws -> ([Data], CKKSContext, EvaluationKeys, EncryptedQuery) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: HEFiles.url(evaluationKeys).path, isDirectory: &isDirectory),
            isDirectory.boolValue
        {
            // A directory would nudge the data owner to hand over the folder that also holds secret.key.
            throw CLIError(
                "--eval-keys takes the evaluation keys file (\(evaluationKeys)/\(HEFiles.evaluationKeys)), not the "
                    + "key directory, which holds the secret key", status: .usage)
        }
        let packed = try HEFiles.read(HEFiles.url(evaluationKeys), "the evaluation keys file \(evaluationKeys)")
        let sections = try HEFiles.unpack(packed, HEFiles.evaluationMagic, count: 3, what: "evaluation key file")
        let context = try HEFiles.context(parameters: sections[0])
        let keys = EvaluationKeys(
            publicKey: sections[2].isEmpty ? nil : try context.deserializePublicKey([UInt8](sections[2])),
            relinearization: sections[1].isEmpty
                ? nil : try context.deserializeRelinearizationKey([UInt8](sections[1])))
        let query = try context.deserializeQuery([UInt8](try HEFiles.read(HEFiles.url(self.query), "the query")))
        return (sections, context, keys, query)
    }

    /// Writes the result file `he decrypt` reads: the header, then the encrypted scores.
    func write(_ result: EncryptedResult, context: CKKSContext, header: HEResultHeader) throws {
        try AtomicFile.write(
            HEFiles.pack(HEFiles.resultMagic, [try JSONEncoder().encode(header), Data(context.serialize(result))]),
            to: HEFiles.url(output))
        progress("scored \(result.rowCount) encrypted rows")
    }
}

/// `modelvault he decrypt --keys KEYDIR RESULT [-o PREDICTIONS.csv]`.
struct HEDecrypt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decrypt", abstract: "Decrypt scores and apply the sigmoid/softmax: label and probabilities.",
        discussion: """
            A result computed for another key pair is refused (exit 5) rather than decrypted to noise.

            Examples:
              modelvault he decrypt --keys keys/ result.bin -o predictions.csv
            """)

    @Option(help: "The client key directory.") var keys: String
    @Argument(help: "The encrypted result file.") var result: String
    @Option(name: .shortAndLong, help: "Write the predictions here (atomically) instead of stdout.") var output: String?

    func run() async throws {
        let client = try loadClient(keys)
        let sections = try HEFiles.unpack(
            try HEFiles.read(HEFiles.url(result), "the result"), HEFiles.resultMagic, count: 2, what: "result file")
        guard let header = try? JSONDecoder().decode(HEResultHeader.self, from: sections[0]) else {
            throw CLIError("the result file's header is malformed", status: .invalidInput)
        }
        // Decrypting under another key gives noise that looks like predictions: refuse instead.
        let ownKeys = try HEFiles.unpack(
            try HEFiles.read(
                HEFiles.url(keys).appending(path: HEFiles.evaluationKeys), "the evaluation keys file in \(keys)"),
            HEFiles.evaluationMagic, count: 3, what: "evaluation key file")
        guard let bound = header.keyFingerprint else {
            throw CLIError(
                "the result \(result) names no key (made by an older `he infer`): run `he infer` again",
                status: .invalidInput)
        }
        guard bound == HEFiles.keyFingerprint(evaluationKeys: ownKeys) else {
            throw CLIError(
                "the result \(result) was computed for another key pair, not the one in \(keys)", status: .invalidInput)
        }
        let scores = try client.decrypt(try client.context.deserializeResult([UInt8](sections[1])))
        let transform = header.transform ?? .builtIn
        if transform == .regression {
            let text = CSVTable(header: ["prediction"], rows: scores.map { ["\($0.first ?? .nan)"] }).text()
            try write(text)
            return
        }
        var rows: [[String]] = []
        for row in scores {
            let probabilities = transform.apply(row)
            guard probabilities.count == header.labelNames.count else {
                throw CLIError("the result's scores do not match its label names")
            }
            let best = probabilities.indices.max { probabilities[$0] < probabilities[$1] } ?? 0
            rows.append([header.labelNames[best]] + probabilities.map { "\(Float($0))" })
        }
        let text = CSVTable(header: ["prediction"] + header.labelNames.map { "p_\($0)" }, rows: rows).text()
        try write(text)
    }

    private func write(_ text: String) throws {
        if let output {
            try AtomicFile.write(Data(text.utf8), to: HEFiles.url(output))
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
