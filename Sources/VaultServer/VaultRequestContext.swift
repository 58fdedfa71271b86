import Hummingbird

/// The per-request context: the request id and the principal established by the gateway middleware.
struct VaultRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The server-assigned request id.
    var requestID = ""
    /// The authenticated principal, set before the route handler runs.
    var principal: String?
    /// The client's IP address, when the transport has one.
    let clientAddress: String?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.clientAddress = source.channel.remoteAddress?.ipAddress
    }
}
