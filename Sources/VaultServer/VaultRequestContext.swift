import Hummingbird
import NIOCore
import NIOSSL

/// The per-request context: the request id and the principal established by the gateway middleware.
struct VaultRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The server-assigned request id.
    var requestID = ""
    /// The authenticated principal, set before the route handler runs.
    var principal: String?
    /// The client's IP address, when the transport has one.
    let clientAddress: String?
    /// The connection, for the client certificate its TLS handshake verified (`nil` in process, without a socket).
    let channel: (any Channel)?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.clientAddress = source.channel.remoteAddress?.ipAddress
        self.channel = source.channel
    }

    /// SHA-256 (lowercase hex) of the SubjectPublicKeyInfo of the client certificate this connection's TLS
    /// handshake verified, or `nil` (plain HTTP, no client CA configured, or no certificate).
    func verifiedClientCertificateSPKI() async -> String? {
        guard let channel, let certificate = try? await channel.nioSSL_peerCertificate().get() else { return nil }
        return try? ClientCertificate.spkiSHA256(of: certificate)
    }
}
