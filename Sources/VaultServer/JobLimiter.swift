import Hummingbird

/// Bounds the server-side ML jobs (train, evaluate, predict) each principal runs at once: one principal cannot
/// take every core, and a job over the limit is refused at once (429 with `Retry-After`) rather than queued.
actor JobLimiter {
    private let limit: Int
    private var running: [String: Int] = [:]

    init(limit: Int) {
        self.limit = limit
    }

    /// Runs `job` if `principal` has fewer than `limit` jobs running, else throws ``APIError`` 429.
    func run<T: Sendable>(
        for principal: String, _ job: @Sendable () async throws -> T
    ) async throws -> T {
        let current = running[principal, default: 0]
        guard current < limit else { throw APIError.tooManyJobs }
        running[principal] = current + 1
        defer {
            let left = running[principal, default: 1] - 1
            running[principal] = left > 0 ? left : nil
        }
        return try await job()
    }
}

extension APIError {
    /// A principal already runs its limit of server-side ML jobs.
    static var tooManyJobs: APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = "1"
        return APIError(
            status: .tooManyRequests, message: "too many concurrent jobs for this principal", headers: headers)
    }
}
