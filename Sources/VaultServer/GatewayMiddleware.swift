import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The shared state the gateway and the handlers use.
struct GatewayState: Sendable {
    var configuration: VaultServerConfiguration
    var authenticator: any Authenticator
    var audit: any AuditSink
    var limiter: TokenBucketLimiter
    /// One bucket shared by every client for open and unknown routes (`openRouteRateLimit`).
    var openRoutes: TokenBucketLimiter
    var failureAudit: FailureAuditWindows
    var metrics: ServerMetrics
    var logger: Logger
}

/// Runs around every request: assigns the request id, classifies the route, rate-limits, authenticates and
/// authorises, turns every error into a safe `{"error": ...}` body, adds the security headers, records
/// metrics, audits and logs. Nothing is logged of the Authorization header but the principal it names.
struct GatewayMiddleware: RouterMiddleware {
    typealias Context = VaultRequestContext

    let state: GatewayState

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let clock = ContinuousClock()
        let start = clock.now
        let arrived = Date()
        var context = context
        context.requestID = UUID().uuidString.lowercased()
        let classified = RouteClassifier.classify(
            method: request.method, path: request.uri.path,
            routes: ServerRoute.routes(for: state.configuration.routes))
        var route: RouteClass?
        var response: Response
        do {
            if case .route(let matched) = classified { route = matched }
            if let action = route?.action, let resource = route?.resource {
                context.principal = try await authorize(request, context: context, action: action, resource: resource)
            } else {
                try await limitOpenRoute(context: context, probe: Self.isProbe(route))
            }
            switch classified {
            case .notFound: throw APIError.notFound("not found")
            case .methodNotAllowed: throw APIError(status: .methodNotAllowed, message: "method not allowed")
            case .route: break
            }
            // File-stream routes take bodies past the JSON cap; `FileStream` bounds them by `maxStreamBytes`.
            let cap =
                route.map { ServerRoute.fileStreamTemplates.contains($0.template) } == true
                ? state.configuration.maxStreamBytes : Int64(state.configuration.maxBodySize)
            if let length = request.headers[.contentLength].flatMap(Int64.init), length > cap {
                throw APIError.bodyTooLarge
            }
            response = try await next(request, context)
        } catch let error as ForbiddenError {
            context.principal = error.principal
            response = Self.errorResponse(.forbidden)
        } catch let error as PrincipalError {
            context.principal = error.principal
            response = Self.errorResponse(error.error)
        } catch {
            response = Self.errorResponse(APIError.from(error))
            if response.status == .internalServerError {
                state.logger.error(
                    "request failed", metadata: ["request_id": .string(context.requestID), "error": "\(error)"])
            }
        }

        let record = RequestAuditRecord(
            requestID: context.requestID, time: arrived, principal: context.principal,
            method: request.method.rawValue, route: route?.template ?? "unmatched", action: route?.action,
            resource: route.flatMap { Self.resourceName($0.resource) }, status: Int(response.status.code),
            clientAddress: context.clientAddress)
        do {
            // Durable entries for what a principal did or was refused, and for failed authentication once per
            // client address and window. Open routes, unknown routes and refusals before authentication are
            // counted in metrics only: otherwise anyone who can reach the port could grow the log without bound.
            if context.principal != nil && response.status != .tooManyRequests {
                try await state.audit.record(record)
            } else if response.status == .unauthorized,
                await state.failureAudit.shouldAudit(context.clientAddress ?? "unknown")
            {
                try await state.audit.record(record)
            }
        } catch {
            state.logger.error(
                "audit record failed; refusing the request", metadata: ["request_id": .string(context.requestID)])
            response = Self.errorResponse(.auditUnavailable)
        }

        addSecurityHeaders(to: &response.headers, requestID: context.requestID)
        let elapsed = clock.now - start
        state.metrics.request(
            route: record.route, method: record.method, status: Int(response.status.code), duration: elapsed)
        // Built only when the line is logged: this runs on every request.
        if state.logger.logLevel <= .info {
            var metadata: Logger.Metadata = [
                "request_id": .string(context.requestID), "method": .string(record.method),
                "route": .string(record.route), "status": .stringConvertible(response.status.code),
                "duration_ms": .string(Self.milliseconds(elapsed)),
            ]
            // Path parameters are percent-decoded and come from anyone, before authentication: escaped, so that
            // they cannot forge a line, a `key=value` field or send terminal escapes to whoever reads the log
            // (review 4, F7; review 5, F5).
            let text = LogText.metadataValue
            if let principal = context.principal { metadata["principal"] = .string(text(principal)) }
            if let resource = record.resource { metadata["resource"] = .string(text(resource)) }
            if let client = context.clientAddress { metadata["client"] = .string(text(client)) }
            state.logger.info("request", metadata: metadata)
        }
        return response
    }

    /// `duration` in milliseconds with two decimals.
    static func milliseconds(_ duration: Duration) -> String {
        let parts = duration.components
        let hundredths = parts.seconds * 100_000 + parts.attoseconds / 10_000_000_000_000
        let fraction = hundredths % 100
        return "\(hundredths / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }

    /// Rate-limits by client address before authentication and by principal after it, then checks the
    /// token's permission. Keying on the presented token let a client with a fresh random token per request
    /// escape the limit; the address bucket is charged for each failed authentication, the principal's for
    /// each authenticated request.
    ///
    /// The address bucket is charged before the token is looked at and refunded once it authenticates: checking
    /// first and charging after let a concurrent burst of bad tokens through, each costing a catalog read.
    private func authorize(
        _ request: Request, context: Context, action: ServerAction, resource: ServerResource
    ) async throws -> String {
        let addressKey = Self.addressKey(context.clientAddress)
        if case .limited(let retryAfter) = await state.limiter.acquire(addressKey) {
            state.metrics.rateLimited()
            throw APIError.rateLimited(retryAfter: retryAfter)
        }
        let token = Self.bearerToken(request.headers[.authorization])
        // A client certificate counts only when the handshake verified it against the configured client CA.
        let certificate = state.configuration.clientCAPath == nil ? nil : await context.verifiedClientCertificateSPKI()
        var byCertificate: AuthorizationDecision?
        if let certificate {
            byCertificate = await state.authenticator.authorize(
                clientCertificateSPKI: certificate, action: action, resource: resource)
        }
        var byToken: AuthorizationDecision?
        if let token {
            byToken = await state.authenticator.authorize(bearerToken: token, action: action, resource: resource)
        }
        let decision = Self.combine(certificate: byCertificate, token: byToken)
        let principal: String
        switch decision {
        case .allowed(let name), .forbidden(let name): principal = name
        case .unauthenticated:
            state.metrics.authFailure(kind: "unauthenticated")
            throw APIError.unauthenticated
        }
        await state.limiter.refund(addressKey)
        if case .limited(let retryAfter) = await state.limiter.acquire("p:" + principal) {
            state.metrics.rateLimited()
            throw PrincipalError(principal: principal, error: .rateLimited(retryAfter: retryAfter))
        }
        switch decision {
        case .allowed, .unauthenticated:
            return principal
        case .forbidden(let principal):
            state.metrics.authFailure(kind: "forbidden")
            // Keep the principal for the audit record of the refusal.
            throw ForbiddenError(principal: principal)
        }
    }

    /// One decision from a client certificate's and a bearer token's. A mapped certificate alone, or a token alone
    /// (an unmapped certificate only got the client past the TLS handshake), authenticates; a mapped certificate
    /// and a token must name the same principal, and a token that fails refuses the request even with a good
    /// certificate: two credentials that disagree authenticate nobody.
    static func combine(certificate: AuthorizationDecision?, token: AuthorizationDecision?) -> AuthorizationDecision {
        let certified: String? =
            switch certificate {
            case .allowed(let name), .forbidden(let name): name
            case .unauthenticated, nil: nil
            }
        guard let certified else { return token ?? .unauthenticated }
        guard let token else { return certificate ?? .unauthenticated }
        switch token {
        case .allowed(let name), .forbidden(let name): return name == certified ? token : .unauthenticated
        case .unauthenticated: return .unauthenticated
        }
    }

    /// Open and unknown routes (the OpenAPI document, 404s): the client address's bucket and one bucket shared by
    /// every client (`openRouteRateLimit`), so a spread of addresses cannot make them unbounded work.
    ///
    /// The health probes are charged to a bucket of their own per client address and never to the shared one: a
    /// flood of 404s from many addresses would otherwise empty it and fail the kubelet's liveness probe (a restart
    /// loop any stranger could cause). A probe does constant work, so a per-address bound is enough.
    private func limitOpenRoute(context: Context, probe: Bool) async throws {
        let address = Self.addressKey(context.clientAddress)
        let buckets =
            probe
            ? [(state.limiter, "probe:" + address)] : [(state.limiter, address), (state.openRoutes, "all")]
        for (limiter, key) in buckets {
            if case .limited(let retryAfter) = await limiter.acquire(key) {
                state.metrics.rateLimited()
                throw APIError.rateLimited(retryAfter: retryAfter)
            }
        }
    }

    /// Whether `route` is a health probe (liveness or readiness).
    static func isProbe(_ route: RouteClass?) -> Bool {
        guard let route, route.action == nil else { return false }
        return route.template == ServerRoute.healthLive.template || route.template == ServerRoute.healthReady.template
    }

    /// The rate-limit key of a client address: IPv4 by address; IPv6 by its /64 (one host usually holds a
    /// whole /64, so per-address keys would give it 2^64 buckets); an IPv4-mapped IPv6 address as its IPv4.
    static func addressKey(_ address: String?) -> String {
        guard let address else { return "a:unknown" }
        var bytes = [UInt8](repeating: 0, count: 16)
        guard address.contains(":"), inet_pton(AF_INET6, address, &bytes) == 1 else { return "a:" + address }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return "a:" + bytes[12..<16].map(String.init).joined(separator: ".")
        }
        return "a6:" + bytes[0..<8].map { String($0, radix: 16) }.joined(separator: ":") + "::/64"
    }

    /// The wait to report for a refused request (at least a second).
    static func retryAfter(_ decision: TokenBucketLimiter.Decision) -> Int {
        if case .limited(let seconds) = decision { return seconds }
        return 1
    }

    /// The token of `Authorization: Bearer TOKEN` (scheme case-insensitive), or `nil`.
    static func bearerToken(_ header: String?) -> String? {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { return nil }
        let token = header.dropFirst(7).trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    private static func resourceName(_ resource: ServerResource) -> String? {
        switch resource {
        case .global: nil
        case .model(let name): name
        case .dataset(let name): name
        }
    }

    static func errorResponse(_ error: APIError) -> Response {
        var headers = error.headers
        headers[.contentType] = "application/json"
        return Response(status: error.status, headers: headers, body: .init(byteBuffer: error.body))
    }

    private func addSecurityHeaders(to headers: inout HTTPFields, requestID: String) {
        headers[Self.requestIDField] = requestID
        headers[Self.contentTypeOptionsField] = "nosniff"
        headers[.cacheControl] = "no-store"
        headers[Self.frameOptionsField] = "DENY"
        headers[Self.contentSecurityPolicyField] = "default-src 'none'; frame-ancestors 'none'"
        headers[Self.referrerPolicyField] = "no-referrer"
        if state.configuration.usesTLS {
            headers[Self.strictTransportSecurityField] = "max-age=31536000; includeSubDomains"
        }
    }

    static let requestIDField = HTTPField.Name("X-Request-ID")!
    static let contentTypeOptionsField = HTTPField.Name("X-Content-Type-Options")!
    static let contentSecurityPolicyField = HTTPField.Name("Content-Security-Policy")!
    static let strictTransportSecurityField = HTTPField.Name("Strict-Transport-Security")!
    static let frameOptionsField = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicyField = HTTPField.Name("Referrer-Policy")!
}

/// A refusal after authentication that keeps the principal for metrics and logs.
struct PrincipalError: Error {
    var principal: String
    var error: APIError
}

/// A 403 that still carries the principal, so that the audit record names who was refused.
struct ForbiddenError: Error {
    var principal: String
}
