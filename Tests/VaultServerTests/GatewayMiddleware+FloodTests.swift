import Foundation
import Testing

@testable import VaultServer

/// Defect 3 of issue #15: floods that bypassed the rate limit and grew the durable audit log.
@Suite struct GatewayMiddlewareFloodTests {
    static func randomToken() -> String {
        "mvt_" + (0..<40).map { _ in String("abcdefghijklmnopqrstuvwxyz0123456789".randomElement()!) }.joined()
    }

    /// Fresh random tokens each time: before the fix every request had its own bucket (keyed by the presented
    /// token), so all 30 got 401 and none 429. Before authentication the key is the client's address.
    @Test func freshTokensPerRequestAreRateLimitedByClientAddress() async throws {
        try await withServer(configure: { $0.rateLimit = .init(requestsPerSecond: 0.001, burst: 3) }) { live in
            var statuses: [Int] = []
            for _ in 0..<30 { statuses.append(try await live.send(.GET, "/v2", token: Self.randomToken()).status) }
            #expect(statuses.filter { $0 == 401 }.count <= 3, "\(statuses)")
            #expect(statuses.filter { $0 == 429 }.count >= 27, "\(statuses)")
            // No token at all is the same client.
            #expect(try await live.send(.GET, "/v2").status == 429)
            let metrics = try await live.send(.GET, "/metrics", token: "admin-token-0123456789")
            #expect(metrics.status == 429)  // the address is limited before any token is looked at
        }
    }

    /// After authentication the bucket is the principal's: two tokens of one principal share it.
    @Test func authenticatedRequestsAreLimitedPerPrincipal() async throws {
        let twoTokens = TableAuthenticator(grants: [
            "first-token-0123456789": ("bob", [.readServerMetadata]),
            "second-token-0123456789": ("bob", [.readServerMetadata]),
        ])
        try await withServer(
            configure: { $0.rateLimit = .init(requestsPerSecond: 0.001, burst: 2) }, authenticator: twoTokens
        ) { (live: InProcessServer) async throws in
            #expect(try await live.send(.GET, "/v2", token: "first-token-0123456789").status == 200)
            #expect(try await live.send(.GET, "/v2", token: "second-token-0123456789").status == 200)
            #expect(try await live.send(.GET, "/v2", token: "second-token-0123456789").status == 429)
        }
    }

    /// A flood of failed authentications costs one durable audit entry per client address and time window.
    @Test func failedAuthenticationIsAuditedOncePerClientAndWindow() async throws {
        try await withServer(configure: { $0.rateLimit = .init(requestsPerSecond: 1000, burst: 1000) }) { live in
            for _ in 0..<50 { #expect(try await live.send(.GET, "/v2", token: Self.randomToken()).status == 401) }
            let records = await live.audit.records
            #expect(records.count == 1, "\(records.count) entries for one client's failed authentications")
            #expect(records.first?.status == 401)
            let metrics = try await live.send(.GET, "/metrics", token: "admin-token-0123456789")
            #expect(
                String(decoding: metrics.body, as: UTF8.self)
                    .contains(#"modelvault_auth_failures_total{kind="unauthenticated"} 50"#))
        }
    }

    /// Health probes and other open routes are counted in metrics, not written to the audit log one per request
    /// (the generated Kubernetes probes alone wrote ~26,000 entries a day per replica).
    @Test func probesAndOpenRoutesAreCountedNotAudited() async throws {
        try await withServer { live in
            for path in ["/v2/health/live", "/v2/health/ready", "/v1/openapi.json", "/v2/nothing/here"] {
                for _ in 0..<5 { _ = try await live.send(.GET, path) }
            }
            #expect(await live.audit.records.isEmpty)
            let metrics = try await live.send(.GET, "/metrics", token: "admin-token-0123456789")
            let text = String(decoding: metrics.body, as: UTF8.self)
            #expect(text.contains(#"route="/v2/health/live""#))
            // Authenticated requests are still audited, one entry each.
            #expect(await live.audit.records.count == 1)
        }
    }

    /// An authenticator that takes its time (a catalog read), so concurrent requests overlap.
    struct SlowAuthenticator: Authenticator {
        func authorize(
            bearerToken: String, action: ServerAction, resource: ServerResource
        ) async -> AuthorizationDecision {
            try? await Task.sleep(for: .milliseconds(200))
            return .unauthenticated
        }
    }

    /// Review finding 5: the address bucket was checked before authentication but charged after it, so a
    /// concurrent burst of bad tokens all passed the check (each costing a catalog read) before any was charged.
    @Test func aConcurrentBurstOfBadTokensIsChargedBeforeAuthentication() async throws {
        try await withServer(
            configure: { $0.rateLimit = .init(requestsPerSecond: 0.001, burst: 3) },
            authenticator: SlowAuthenticator()
        ) { (live: InProcessServer) async throws in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await live.send(.GET, "/v2", token: Self.randomToken()).status }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 401 }.count <= 3, "\(statuses.sorted())")
            #expect(statuses.filter { $0 == 429 }.count >= 17, "\(statuses.sorted())")
        }
    }

    /// Open routes (the OpenAPI document) and unknown routes are rate-limited too: per client address and by one
    /// bucket shared by every client. The health probes are not charged to the shared bucket (review 3: a flood of
    /// 404s would starve the liveness probe), only to a per-address bucket of their own.
    @Test func openAndUnknownRoutesAreRateLimited() async throws {
        try await withServer(configure: {
            $0.openRouteRateLimit = .init(requestsPerSecond: 0.001, burst: 5)
        }) { live in
            var statuses: [Int] = []
            var probes: [Int] = []
            for path in Array(repeating: ["/v2/health/live", "/v1/openapi.json", "/v2/nothing/here"], count: 4).joined()
            {
                let status = try await live.send(.GET, path).status
                if path == "/v2/health/live" { probes.append(status) } else { statuses.append(status) }
            }
            #expect(statuses.filter { $0 == 429 }.count == 3, "\(statuses)")
            #expect(probes.allSatisfy { $0 == 200 }, "\(probes)")
            // Authenticated routes have their own buckets.
            #expect(try await live.send(.GET, "/v2", token: "admin-token-0123456789").status == 200)
        }
    }

    /// IPv6 clients are keyed by their /64: a host that owns a /64 cannot get a fresh bucket per address.
    @Test func ipv6ClientsAreKeyedByTheirSlash64() {
        let key = GatewayMiddleware.addressKey
        #expect(key("2001:db8:1:2::1") == key("2001:db8:1:2:ffff:ffff:ffff:fffe"))
        #expect(key("2001:db8:1:2::1") != key("2001:db8:1:3::1"))
        #expect(key("::ffff:192.0.2.7") == key("192.0.2.7"))
        #expect(key("192.0.2.7") != key("192.0.2.8"))
        #expect(key(nil) == key(nil))
    }
}
