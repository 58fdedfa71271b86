import Foundation
import Testing

@testable import VaultServer

/// Review 3: the health probes share one server-wide bucket (`openRouteRateLimit`) with every unknown path. An
/// unauthenticated client that spreads a flood of 404s over a few addresses (11 addresses at the default 100/s each
/// exhaust the default 1,000/s; a single IPv6 /56 holds 256 /64 keys) empties that bucket, and the kubelet's
/// `/v2/health/live` probe, from its own address, gets 429: the liveness probe fails and Kubernetes restarts the pod,
/// again and again, without the attacker holding any token.
@Suite struct GatewayMiddlewareProbeStarvationTests {
    @Test func aFloodOfUnknownPathsStarvesTheLivenessProbe() async throws {
        try await withServer(configure: {
            // Each address's own bucket is generous (the attacker's requests come from many addresses); only the
            // shared open-route bucket is small, so that the test needs few requests.
            $0.rateLimit = .init(requestsPerSecond: 1000, burst: 1000)
            $0.openRouteRateLimit = .init(requestsPerSecond: 0.001, burst: 20)
        }) { live in
            for index in 0..<20 { _ = try await live.send(.GET, "/no/such/path/\(index)") }
            let probe = try await live.send(.GET, "/v2/health/live")
            #expect(probe.status == 200, "the liveness probe was refused after a flood of 404s: \(probe.status)")
            let ready = try await live.send(.GET, "/v2/health/ready")
            #expect(ready.status != 429, "the readiness probe was refused after a flood of 404s")
        }
    }
}
