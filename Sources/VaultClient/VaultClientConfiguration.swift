public import Foundation

/// Where the server is, how to trust it and who is calling.
///
/// A token is a bearer credential: whoever reads it off the wire can use it. So the configuration refuses plain
/// `http://` to anything but the loopback interface, where no one else is on the wire.
public struct VaultClientConfiguration: Sendable {
    /// The server's base URL, e.g. `https://vault.example:8443`.
    public let server: URL
    /// PEM certificates to trust instead of the system's roots: a private CA or the server's self-signed
    /// certificate. `nil` trusts the system's roots.
    public let trustedCertificatesPEM: String?
    /// The caller's API token. Never printed.
    public let token: String
    /// The most bytes a response held in memory may have (JSON answers, reports, exports).
    public var maxResponseBytes = 256 << 20
    /// How long one request may take, end to end.
    public var timeout: Duration = .seconds(600)

    /// Checks `server` and keeps the rest.
    ///
    /// - Throws: `VaultClientError` (`invalidInput`) for a URL that is not `http(s)://HOST[:PORT][/PATH]`, or
    ///   (`insecure`) for plain `http://` to a host other than loopback.
    public init(server: String, trustedCertificatesPEM: String? = nil, token: String) throws {
        guard let url = URL(string: server), let scheme = url.scheme?.lowercased(),
            scheme == "https" || scheme == "http",
            let host = url.host(percentEncoded: false), !host.isEmpty, url.user == nil, url.password == nil,
            url.query == nil, url.fragment == nil
        else {
            throw VaultClientError(
                .invalidInput, "the server URL must be https://HOST[:PORT] (no user, query or fragment)")
        }
        if scheme == "http", !Self.isLoopback(host) {
            throw VaultClientError(
                .insecure,
                "refusing to send an API token over plain http:// to \(host): use https:// (plain http is allowed "
                    + "only to loopback)")
        }
        var text = url.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        guard let base = URL(string: text) else {
            throw VaultClientError(.invalidInput, "the server URL must be https://HOST[:PORT]")
        }
        self.server = base
        self.trustedCertificatesPEM = trustedCertificatesPEM
        self.token = token
    }

    /// Whether `host` is the loopback interface: `localhost`, an address in 127.0.0.0/8, or `::1`.
    public static func isLoopback(_ host: String) -> Bool {
        var name = host.lowercased()
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name == "localhost" || name == "::1" || name == "0:0:0:0:0:0:0:1" { return true }
        let octets = name.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ $0.count <= 3 && UInt8($0) != nil }) else { return false }
        return octets[0] == "127"
    }
}
