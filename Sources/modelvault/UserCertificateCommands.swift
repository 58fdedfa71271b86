import ArgumentParser
import Foundation
import Vault
import VaultServer

/// `modelvault user cert add|list|remove`: client certificates that authenticate a principal over mutual TLS.
struct UserCertificate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cert",
        abstract: "Client certificates that authenticate a principal over mutual TLS (serve --client-ca).",
        discussion: """
            A certificate is mapped by the SHA-256 of its public key (SubjectPublicKeyInfo). When `serve` runs with \
            --client-ca, a client whose certificate that CA verified, and whose key is mapped here, is the mapped \
            principal with no bearer token. An unmapped certificate authenticates nobody (a token still may), a \
            mapping ends at the certificate's expiry, and a certificate and a token naming different principals are \
            refused. Mappings are authenticated catalog rows: one written into the vault directory by hand is refused.
            """,
        subcommands: [UserCertificateAdd.self, UserCertificateList.self, UserCertificateRemove.self])
}

/// `modelvault user cert add NAME CERT.pem`.
struct UserCertificateAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Map a client certificate's public key to a principal.")

    @OptionGroup var options: VaultOptions
    @Argument(help: "The principal's name.") var name: String
    @Argument(help: "The client certificate (PEM).") var certificate: String
    @Flag(name: .long, help: "Print JSON (the mapping recorded).") var json = false

    func run() async throws {
        let parsed: ClientCertificate
        do {
            parsed = try ClientCertificate(pemFile: certificate)
        } catch {
            throw CLIError("cannot read the client certificate \(certificate) (PEM)", status: .invalidInput)
        }
        guard parsed.notValidAfter > Date() else {
            throw CLIError("the client certificate has expired", status: .invalidInput)
        }
        let mapping = try ClientCertificateMapping(
            spkiSHA256: parsed.spkiSHA256, principal: name, subject: parsed.subject, notAfter: parsed.notValidAfter)
        try await options.open().addClientCertificate(mapping)
        if json { return try printJSON(mapping) }
        print("mapped \(parsed.subject) (public key SHA-256 \(parsed.spkiSHA256)) to \(name)")
    }
}

/// `modelvault user cert list`.
struct UserCertificateList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List client certificate mappings.")

    @OptionGroup var options: VaultOptions
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        let mappings = try await options.open().clientCertificates()
        if json { return try printJSON(mappings) }
        for mapping in mappings {
            let expiry = mapping.notAfter.map { "until \($0.ISO8601Format())" } ?? "no expiry"
            print("\(mapping.spkiSHA256)  \(mapping.principal)  \(mapping.subject ?? "-")  \(expiry)")
        }
    }
}

/// `modelvault user cert remove SHA256`.
struct UserCertificateRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove a client certificate mapping: the certificate authenticates nobody.")

    @OptionGroup var options: VaultOptions
    @Argument(help: "The public key's SHA-256 (as `user cert list` shows it) or the certificate (PEM).")
    var certificate: String
    @Flag(name: .long, help: "Print JSON (the public key SHA-256 removed).") var json = false

    /// `--json`'s shape.
    struct Output: Encodable { var removed: String }

    func run() async throws {
        var hash = certificate
        if FileManager.default.fileExists(atPath: certificate) {
            guard let parsed = try? ClientCertificate(pemFile: certificate) else {
                throw CLIError("cannot read the client certificate \(certificate) (PEM)", status: .invalidInput)
            }
            hash = parsed.spkiSHA256
        }
        try await options.open().removeClientCertificate(spkiSHA256: hash)
        if json { return try printJSON(Output(removed: hash.lowercased())) }
        print("removed the client certificate mapping \(hash.lowercased())")
    }
}
