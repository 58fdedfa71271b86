public import Foundation

/// One handled request, as recorded in the audit log.
public struct RequestAuditRecord: Sendable, Equatable {
    /// The server-assigned request id, also returned to the client as `X-Request-ID`.
    public var requestID: String
    /// When the request arrived.
    public var time: Date
    /// The authenticated principal, or `nil` when none was established.
    public var principal: String?
    /// The HTTP method.
    public var method: String
    /// The route template, for example `/v2/models/{model}/infer` (never the raw query string).
    public var route: String
    /// The action checked for the route, if it needs authorisation.
    public var action: ServerAction?
    /// The model or dataset the request addressed, if any.
    public var resource: String?
    /// The HTTP status returned.
    public var status: Int
    /// The client's address, when known.
    public var clientAddress: String?

    /// A short outcome word: "ok", "unauthenticated", "forbidden", "rejected" or "failed".
    public var outcome: String {
        switch status {
        case 200..<400: "ok"
        case 401: "unauthenticated"
        case 403: "forbidden"
        case 400..<500: "rejected"
        default: "failed"
        }
    }

    /// Creates a record.
    public init(
        requestID: String, time: Date, principal: String?, method: String, route: String, action: ServerAction?,
        resource: String?, status: Int, clientAddress: String?
    ) {
        self.requestID = requestID
        self.time = time
        self.principal = principal
        self.method = method
        self.route = route
        self.action = action
        self.resource = resource
        self.status = status
        self.clientAddress = clientAddress
    }
}

/// Where the server records every request; the vault integration appends to its Merkle-tree audit log.
public protocol AuditSink: Sendable {
    /// Records one request durably. A thrown error fails the request closed (HTTP 503).
    func record(_ record: RequestAuditRecord) async throws

    /// Extra Prometheus text appended to `GET /metrics` (for example an audit forwarder's counters).
    func metricsExposition() async -> String
}

extension AuditSink {
    /// No extra metrics.
    public func metricsExposition() async -> String { "" }
}
