public import Foundation

/// Who asks for a vault operation, and under which request.
///
/// Every mutating operation takes a context so that access control and the audit log (a later layer) can plug
/// in without changing signatures; today the principal is recorded beside what it created.
public struct RequestContext: Sendable, Equatable {
    /// The principal's name (a user, a service account or a token's owner).
    public var principal: String
    /// An identifier that ties log lines and audit entries of one request together.
    public var requestID: String

    /// A context for `principal` with a fresh request identifier.
    public init(principal: String, requestID: String = UUID().uuidString) {
        self.principal = principal
        self.requestID = requestID
    }

    /// The local operating-system user, as the CLI runs without a token.
    public static var local: RequestContext {
        let environment = ProcessInfo.processInfo.environment
        return RequestContext(principal: "local:" + (environment["USER"] ?? environment["LOGNAME"] ?? "unknown"))
    }
}
