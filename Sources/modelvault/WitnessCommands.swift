import ArgumentParser
import AsyncHTTPClient
import AuditLog
import Crypto
import Foundation
import Logging
import NIOCore
import NIOSSL
import Vault
import VaultCrypto
import VaultServer

/// `modelvault witness`: run a C2SP tlog-witness for vault audit logs.
struct WitnessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "witness", abstract: "Run a witness that cosigns vault audit checkpoints (C2SP tlog-witness).",
        subcommands: [WitnessServe.self])
}

/// `modelvault witness serve --state DIR --log-key FILE ...`.
struct WitnessServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve POST /add-checkpoint over TLS: cosign each log's checkpoints, refusing rollback and forks.",
        discussion: """
            The witness keeps its Ed25519 key (witness.key, 0600, made on first start) and the latest checkpoint it \
            cosigned for each log (state.json, replaced atomically and fsynced before it answers) in --state. It \
            prints its verifier key and fingerprint: pin them in each vault with `modelvault audit witness add URL \
            --key VKEY`. Each --log-key is a vault's public audit/verifier.vkey: a copy handed over by the vault's \
            operator, or the file itself pinned with --log-key-fingerprint (the fingerprint `modelvault audit verify` \
            prints), since whoever can write the vault directory can replace it. It prints each log key's \
            fingerprint. SIGTERM or SIGINT stops it.
            """)

    @Option(name: .customLong("state"), help: "The witness's directory (its key and state).") var state: String
    @Option(name: .customLong("name"), help: "The witness name in its key and cosignatures (made on first start).")
    var name = "modelvault-witness"
    @Option(name: .customLong("log-key"), help: "A log's verifier key file (a vault's audit/verifier.vkey).")
    var logKeys: [String] = []
    @Option(
        name: .customLong("adopt-log-key"),
        help: """
            A --log-key to take as the log's newest key at once, with no handover naming it: for a rotation made \
            before handovers named their successor, or a head that names a successor you will not give. Adopt only \
            the vault's current key, checked against the fingerprint `modelvault audit verify` prints \
            (--log-key-fingerprint): an adopted retired or planted key can move the log.
            """)
    var adoptedLogKeys: [String] = []
    @Option(
        name: .customLong("log-key-fingerprint"),
        help: "Pins the log keys: each --log-key and --adopt-log-key must have one of these SHA-256 fingerprints.")
    var logKeyFingerprints: [String] = []
    @Option(help: "The address to bind; plain HTTP is only allowed on loopback.") var host = "127.0.0.1"
    @Option(help: "The port to bind (0 picks a free one).") var port = 8444
    @Option(name: .customLong("tls-cert"), help: "The certificate chain, PEM.") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "The certificate's private key, PEM (0400 or 0600).") var tlsKey:
        String?
    @Flag(
        name: .customLong("self-signed"),
        help: "Use a self-signed certificate kept in --state (made on first start; clients pin its CA with --ca).")
    var selfSigned = false
    @Option(name: .customLong("cert-out"), help: "With --self-signed: write its certificate here for clients (--ca).")
    var certOut: String?

    func validate() throws {
        guard selfSigned != (tlsCert != nil || tlsKey != nil) else {
            throw ValidationError("choose one of --tls-cert/--tls-key or --self-signed")
        }
        if tlsCert != nil || tlsKey != nil, tlsCert == nil || tlsKey == nil {
            throw ValidationError("--tls-cert and --tls-key go together")
        }
        if certOut != nil && !selfSigned { throw ValidationError("--cert-out needs --self-signed") }
        guard !logKeys.isEmpty else { throw ValidationError("name at least one log with --log-key") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let directory = URL(filePath: state, directoryHint: .isDirectory, relativeTo: .currentDirectory())
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CLIError("cannot create the witness directory \(state)")
        }
        let signer = try WitnessKeyFile.loadOrCreate(in: directory, name: name)
        let logs = try logKeys.map { path in
            do {
                return try AuditVerifierKey.read(file: URL(filePath: path, relativeTo: .currentDirectory()))
            } catch {
                throw CLIError("cannot read the log verifier key \(path)", status: .invalidInput)
            }
        }
        let adopted = try adoptedLogKeys.map { path in
            do {
                return try AuditVerifierKey.read(file: URL(filePath: path, relativeTo: .currentDirectory()))
            } catch {
                throw CLIError("cannot read the log verifier key \(path)", status: .invalidInput)
            }
        }
        if !logKeyFingerprints.isEmpty {
            let pinned = Set(logKeyFingerprints.map { $0.lowercased().filter { $0 != ":" } })
            for key in logs + adopted where !pinned.contains(key.fingerprint) {
                throw CLIError(
                    "the log key \(key.name) does not have a fingerprint given with --log-key-fingerprint",
                    status: .integrity)
            }
        }
        let witness: Witness
        do {
            witness = try Witness(
                signer: signer, logs: logs + adopted, stateFile: directory.appending(path: "state.json"),
                adopting: adopted)
        } catch let error as Witness.ConfigurationError {
            throw CLIError("\(error.description): give each --log-key oldest first", status: .usage)
        } catch {
            throw CLIError("state.json in \(state) is damaged", status: .integrity)
        }
        var configuration = VaultServerConfiguration()
        configuration.host = host
        configuration.port = port
        if let tlsCert, let tlsKey {
            configuration.transport = .tls(certificatePath: tlsCert, privateKeyPath: tlsKey)
        } else {
            // Kept in --state: a restarted witness keeps the certificate vaults pinned with --ca.
            let files = try WitnessServer.persistentSelfSignedCertificate(in: directory, host: host)
            configuration.transport = .tls(certificatePath: files.certificate, privateKeyPath: files.privateKey)
            if let certOut {
                let url = URL(filePath: certOut, relativeTo: .currentDirectory()).absoluteURL
                guard let pem = FileManager.default.contents(atPath: files.authority),
                    (try? AtomicFile.write(pem, to: url, permissions: 0o644)) != nil
                else { throw CLIError("cannot write \(certOut)") }
            }
        }
        let server = try WitnessServer(configuration: configuration) { body in
            let (status, reply) = (try? await witness.addCheckpoint(body)) ?? (500, Data("internal error\n".utf8))
            return WitnessServer.Reply(
                status: status, contentType: status == 409 ? Witness.sizeContentType : "text/plain; charset=utf-8",
                body: reply)
        }
        // Written unbuffered: whoever started the witness reads these lines while it runs.
        var lines = ["witness key: \(signer.verifier.vkey)", "witness key fingerprint: \(signer.verifier.fingerprint)"]
        lines += (logs + adopted).map { "witnessing log: \($0.name) (key fingerprint \($0.fingerprint))" }
        FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.runUntilSignalled() }
            group.addTask {
                let bound = await server.boundPort()
                guard bound != 0 else { return }
                FileHandle.standardOutput.write(Data("listening on https://\(host):\(bound)\n".utf8))
            }
            try await group.waitForAll()
        }
    }
}

/// The witness's Ed25519 key: `witness.key` (the name and the hex private key, 0600) and `witness.vkey` (public).
enum WitnessKeyFile {
    static func loadOrCreate(in directory: URL, name: String) throws -> CosignatureSigner {
        let file = directory.appending(path: "witness.key")
        if FileManager.default.fileExists(atPath: file.path) {
            let text = try TokenOptions.readPrivate(file.path)
            let parts = text.split(whereSeparator: \.isWhitespace)
            guard parts.count == 2, let raw = [UInt8](hexString: String(parts[1])),
                let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw),
                let signer = try? CosignatureSigner(name: String(parts[0]), key: key)
            else { throw CLIError("witness.key in \(directory.lastPathComponent) is damaged", status: .integrity) }
            return signer
        }
        let key = Curve25519.Signing.PrivateKey()
        let signer: CosignatureSigner
        do {
            signer = try CosignatureSigner(name: name, key: key)
        } catch {
            throw ValidationError("--name must be a note key name (no spaces or '+')")
        }
        let hex = key.rawRepresentation.map { String(format: "%02x", $0) }.joined()
        try writeSecret("\(name) \(hex)", to: file.path)
        try? Data((signer.verifier.vkey + "\n").utf8).write(to: directory.appending(path: "witness.vkey"))
        return signer
    }
}

extension [UInt8] {
    fileprivate init?(hexString: String) {
        guard hexString.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = hexString.startIndex
        while index < hexString.endIndex {
            let next = hexString.index(index, offsetBy: 2)
            guard let byte = UInt8(hexString[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self = bytes
    }
}

/// Reaches a witness over HTTPS: `POST <url>/add-checkpoint`, a few seconds at most, so an unreachable witness only
/// delays a command briefly (its cosignature ages; `audit verify --max-cosignature-age` can make that fatal).
struct HTTPSWitnessTransport: WitnessTransport {
    let witness: VaultWitness
    let timeout: TimeAmount

    /// The connector the CLI opens vaults with.
    static let connector: WitnessConnector = { witness in
        HTTPSWitnessTransport(witness: witness, timeout: .seconds(5))
    }

    func addCheckpoint(_ body: Data) async throws -> (status: Int, body: Data) {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let pem = witness.certificateAuthorityPEM {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        do {
            var request = HTTPClientRequest(url: witness.url + "/add-checkpoint")
            request.method = .POST
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await client.execute(request, timeout: timeout)
            let bytes = try await response.body.collect(upTo: 64 << 10)
            var status = Int(response.status.code)
            // The spec's 409 carries the witness's size only under its own content type.
            if status == 409, response.headers.first(name: "Content-Type") != Witness.sizeContentType { status = 400 }
            try await client.shutdown()
            return (status, Data(buffer: bytes))
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}

/// `modelvault audit witness add|list|remove`.
struct AuditWitness: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "witness", abstract: "Configure the witnesses that cosign this vault's audit checkpoints.",
        subcommands: [AuditWitnessAdd.self, AuditWitnessList.self, AuditWitnessRemove.self])
}

/// `modelvault audit witness add URL --key VKEY [--ca FILE]`.
struct AuditWitnessAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Pin a witness (its verifier key, shown as a fingerprint) and send it the current checkpoint.",
        discussion: """
            Compare the fingerprint printed here with the one `modelvault witness serve` printed (out of band): \
            pinning is the only moment the witness key is taken on trust. From then on every command asks the \
            witness whether it holds a newer checkpoint (a rolled-back vault directory is refused) and sends it its \
            final checkpoint. The witness must witness this vault's log: start it with --log-key \
            VAULT/audit/verifier.vkey and --log-key-fingerprint (the fingerprint `modelvault audit verify` prints).
            """)

    @OptionGroup var options: VaultOptions
    @Argument(help: "The witness URL, https://HOST:PORT.") var url: String
    @Option(name: .customLong("key"), help: "The witness's verifier key (<name>+<key id>+<key>) or a file holding it.")
    var key: String
    @Option(name: .customLong("ca"), help: "A PEM CA certificate the witness's TLS certificate must chain to.")
    var ca: String?
    @Flag(name: .long, help: "Print JSON.") var json = false

    /// `--json`'s shape.
    struct Output: Encodable {
        var name: String
        var fingerprint: String
        /// When the witness cosigned the current checkpoint; nil when it did not (yet).
        var cosignedAt: String?
    }

    func run() async throws {
        var vkey = key
        if !key.contains("+"), let data = FileManager.default.contents(atPath: key) {
            vkey = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var pem: String?
        if let ca {
            guard let data = FileManager.default.contents(atPath: ca) else {
                throw CLIError("cannot read the CA certificate \(ca)", status: .notFound)
            }
            pem = String(decoding: data, as: UTF8.self)
            guard (try? NIOSSLCertificate.fromPEMBytes(Array(data))).map({ !$0.isEmpty }) == true else {
                throw CLIError("\(ca) holds no PEM certificate", status: .invalidInput)
            }
        }
        let witness: VaultWitness
        do {
            witness = try VaultWitness(url: url, key: vkey, certificateAuthorityPEM: pem)
        } catch let error as VaultError {
            throw CLIError(error.description, status: .invalidInput)
        }
        let outcome = try await options.open().addWitness(witness)
        if !json { print("witness \(witness.name) pinned: key fingerprint \(witness.fingerprint)") }
        var cosignedAt: String?
        switch outcome {
        case .cosigned(_, let timestamp)?:
            cosignedAt = "\(timestamp)"
            if !json { print("cosigned the current checkpoint (at \(timestamp))") }
        case .witnessAhead(let size)?:
            throw CLIError(
                "the witness holds a checkpoint of size \(size), ahead of this log: the vault was rolled back",
                status: .integrity)
        case .inconsistent?:
            throw CLIError("the witness holds another tree than this log (forked)", status: .integrity)
        case .keyRefused?:
            throw CLIError(
                "the witness refuses this log's audit key: restart it with this vault's audit/verifier.vkey added as another --log-key (keep the old one)",
                status: .integrity)
        case .unavailable(let status)?:
            let detail = status.map { "HTTP \($0)" } ?? "unreachable"
            FileHandle.standardError.write(
                Data(
                    "modelvault: note: the witness did not cosign yet (\(detail)); is this vault's audit/verifier.vkey among its --log-key files?\n"
                        .utf8))
        case nil: break
        }
        if json { try printJSON(Output(name: witness.name, fingerprint: witness.fingerprint, cosignedAt: cosignedAt)) }
    }
}

/// `modelvault audit witness list`.
struct AuditWitnessList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the pinned witnesses.")

    @OptionGroup var options: VaultOptions
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        let witnesses = try await options.open().witnesses()
        if json {
            struct Output: Encodable { var name: String, url: String, fingerprint: String }
            return try printJSON(
                witnesses.map { Output(name: $0.name, url: "\($0.url)", fingerprint: $0.fingerprint) })
        }
        printTable(
            ["NAME", "URL", "FINGERPRINT"], witnesses.map { [$0.name, "\($0.url)", $0.fingerprint] })
    }
}

/// `modelvault audit witness remove --key VKEY`.
struct AuditWitnessRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Unpin a witness.")

    @OptionGroup var options: VaultOptions
    @Option(name: .customLong("key"), help: "The witness's verifier key as pinned.") var key: String
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        guard try await options.open().removeWitness(key: key) else {
            throw CLIError("no witness with that key is pinned", status: .notFound)
        }
        if json { return try printJSON(["removed": true]) }
        print("witness removed")
    }
}
