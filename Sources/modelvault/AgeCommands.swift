import ArgumentParser
import Foundation
import VaultCrypto

#if canImport(Glibc)
import Glibc
#endif

/// `modelvault keygen`: creates an age identity, or prints the recipient of one (`-y`), as `age-keygen` does.
struct Keygen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate an age identity, or print the recipient of an identity file with -y.")

    @Flag(name: .customLong("pq"), help: "Generate a post-quantum hybrid (ML-KEM-768 + X25519) identity.")
    var postQuantum = false

    @Flag(name: .customShort("y"), help: "Print the recipients of the identity file INPUT (default stdin).")
    var printRecipient = false

    @Option(name: .shortAndLong, help: "Write the result to FILE instead of stdout.")
    var output: String?

    @OptionGroup var passphrase: PassphraseOptions

    @Argument(help: "The identity file to read with -y (default stdin).")
    var input: String?

    func validate() throws {
        if input != nil && !printRecipient { throw ValidationError("an input file is only read with -y") }
    }

    func run() async throws {
        if printRecipient {
            let identities = try AgeIO.readIdentityFile(input ?? "-", passphrase: passphrase)
            let lines = identities.compactMap { AgeKeys.recipient(of: $0).flatMap(AgeKeys.encoded) }
            try AgeIO.writeResult(Data(lines.map { $0 + "\n" }.joined().utf8), to: output, permissions: 0o644)
            return
        }
        let secret: String
        let recipient: String
        if postQuantum {
            let identity = AgeHybridIdentity.generate()
            (secret, recipient) = (identity.encoded, identity.recipient.encoded)
        } else {
            let identity = AgeX25519Identity.generate()
            (secret, recipient) = (identity.encoded, identity.recipient.encoded)
        }
        let created = ISO8601DateFormatter().string(from: Date())
        let text = "# created: \(created)\n# public key: \(recipient)\n\(secret)\n"
        if let output, output != "-" {
            guard !FileManager.default.fileExists(atPath: output) else {
                throw CLIError("the output file already exists")
            }
        }
        try AgeIO.writeResult(Data(text.utf8), to: output, permissions: 0o600)
        FileHandle.standardError.write(Data("Public key: \(recipient)\n".utf8))
    }
}

/// `modelvault encrypt`: encrypts to recipients or a passphrase, streaming in constant memory.
struct Encrypt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encrypt INPUT (default stdin) to age recipients or a passphrase.")

    @Option(name: [.customShort("r"), .customLong("recipient")], help: "A recipient (age1… or age1pq1…).")
    var recipients: [String] = []

    @Option(name: [.customShort("R"), .customLong("recipients-file")], help: "A file of recipients, one per line.")
    var recipientFiles: [String] = []

    @Flag(name: [.customShort("p"), .customLong("passphrase")], help: "Encrypt with a passphrase (scrypt).")
    var usePassphrase = false

    @Flag(name: [.customShort("a"), .customLong("armor")], help: "Write PEM-style ASCII armor.")
    var armor = false

    @Option(name: .shortAndLong, help: "Write to FILE instead of stdout (created atomically).")
    var output: String?

    @OptionGroup var passphrase: PassphraseOptions

    @Argument(help: "The file to encrypt (default stdin).")
    var input: String?

    func validate() throws {
        let hasRecipients = !recipients.isEmpty || !recipientFiles.isEmpty
        if usePassphrase && hasRecipients { throw ValidationError("-p cannot be combined with -r or -R") }
        if !usePassphrase && !hasRecipients { throw ValidationError("give at least one -r, -R, or -p") }
    }

    func run() async throws {
        var targets: [any AgeRecipient] = []
        if usePassphrase {
            targets = [AgeScryptRecipient(passphrase: try passphrase.read(confirm: true))]
        } else {
            targets = try recipients.map { try AgeKeys.parseRecipient($0) }
            for path in recipientFiles {
                targets += try AgeKeys.parseRecipients(try AgeIO.readText(path, what: "recipients file"))
            }
        }
        let source = try AgeIO.openInput(input)
        try AgeIO.withOutput(output, binary: !armor, permissions: 0o644) { sink in
            try Age.encrypt(from: source, to: sink, recipients: targets, armored: armor)
        }
    }
}

/// `modelvault decrypt`: decrypts with identity files, or a passphrase for passphrase-encrypted files.
struct Decrypt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decrypt INPUT (default stdin) with identity files, or a passphrase if it was encrypted with one.")

    @Option(name: [.customShort("i"), .customLong("identity")], help: "An identity file (may be repeated).")
    var identityFiles: [String] = []

    @Option(name: .shortAndLong, help: "Write to FILE instead of stdout (appears only once fully authenticated).")
    var output: String?

    @OptionGroup var passphrase: PassphraseOptions

    @Argument(help: "The file to decrypt (default stdin).")
    var input: String?

    func run() async throws {
        var identities: [any AgeIdentity] = []
        for path in identityFiles {
            identities += try AgeIO.readIdentityFile(path, passphrase: passphrase)
        }
        if identities.isEmpty {
            let options = passphrase
            identities = [AgePassphrasePrompt { try options.read() }]
        }
        let source = try AgeIO.openInput(input)
        try AgeIO.withOutput(output, binary: false, permissions: 0o600) { sink in
            try Age.decrypt(from: source, to: sink, using: identities)
        }
    }
}

/// File plumbing shared by the age commands: `-` or absent means stdin/stdout.
enum AgeIO {
    static func openInput(_ path: String?) throws -> FileHandle {
        guard let path, path != "-" else { return FileHandle.standardInput }
        do { return try FileHandle(forReadingFrom: URL(fileURLWithPath: path)) } catch {
            throw CLIFiles.unreadable("input file", path)
        }
    }

    static func readData(_ path: String, what: String) throws -> Data {
        if path == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
        // A FileHandle also reads pipes such as `<(...)`.
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CLIFiles.unreadable(what, path) }
        defer { try? handle.close() }
        return handle.readDataToEndOfFile()
    }

    static func readText(_ path: String, what: String) throws -> String {
        guard let text = String(data: try readData(path, what: what), encoding: .utf8) else {
            throw CLIError("the \(what) is not text")
        }
        return text
    }

    /// Reads an identity file, asking for its passphrase if it is itself age-encrypted.
    static func readIdentityFile(_ path: String, passphrase: PassphraseOptions) throws -> [any AgeIdentity] {
        let data = try readData(path, what: "identity file")
        return try AgeKeys.parseIdentities(data) {
            try passphrase.read(prompt: "Passphrase for the identity file: ")
        }
    }

    /// Runs `body` against stdout or an atomically created file.
    static func withOutput(
        _ path: String?, binary: Bool, permissions: Int, _ body: (FileHandle) throws -> Void
    ) throws {
        guard let path, path != "-" else {
            if binary && isatty(STDOUT_FILENO) == 1 {
                throw CLIError("refusing to write binary output to a terminal: use -a or -o")
            }
            try body(FileHandle.standardOutput)
            return
        }
        try AtomicFile.write(to: URL(fileURLWithPath: path), permissions: permissions, body)
    }

    static func writeResult(_ data: Data, to path: String?, permissions: Int) throws {
        try withOutput(path, binary: false, permissions: permissions) { handle in
            try handle.write(contentsOf: data)
        }
    }
}
