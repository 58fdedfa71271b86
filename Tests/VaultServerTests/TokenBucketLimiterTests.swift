import Testing

@testable import VaultServer

@Suite struct TokenBucketLimiterTests {
    @Test func allowsTheBurstThenLimitsPerKey() async {
        let limiter = TokenBucketLimiter(requestsPerSecond: 0.5, burst: 3)
        for _ in 0..<3 { #expect(await limiter.acquire("a") == .allowed) }
        guard case .limited(let retryAfter) = await limiter.acquire("a") else {
            Issue.record("fourth request in the burst was allowed")
            return
        }
        #expect(retryAfter >= 1 && retryAfter <= 2)
        #expect(await limiter.acquire("b") == .allowed)
    }

    @Test func boundsConcurrentInferences() async {
        let gate = InferenceGate(limit: 2)
        #expect(await gate.tryAcquire())
        #expect(await gate.tryAcquire())
        #expect(await !gate.tryAcquire())
        await gate.release()
        #expect(await gate.tryAcquire())
    }
}
