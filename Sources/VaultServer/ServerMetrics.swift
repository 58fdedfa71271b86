import Prometheus

/// The server's Prometheus metrics, in a registry of its own (no global bootstrap, so several servers can
/// run in one process, as the tests do).
struct ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    private static let latencyBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10),
    ]

    private static var requests: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "modelvault", metricName: "http_requests", unitName: "total",
            helpText: "HTTP requests by route template, method and status.")
    }
    private static var requestDuration: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "modelvault", metricName: "http_request_duration", unitName: "seconds",
            helpText: "HTTP request latency by route template.")
    }
    private static var inferences: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "modelvault", metricName: "inferences", unitName: "total",
            helpText: "Successful inferences by model and version.")
    }
    private static var inferenceDuration: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "modelvault", metricName: "inference_duration", unitName: "seconds",
            helpText: "Model compute time by model.")
    }
    private static var rateLimitedRequests: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "modelvault", metricName: "rate_limited", unitName: "total",
            helpText:
                "Requests refused by the rate limit (per client address before authentication, per principal after).")
    }
    private static var authFailures: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "modelvault", metricName: "auth_failures", unitName: "total",
            helpText: "Requests refused for missing or invalid credentials (401) or missing permission (403).")
    }
    private static var rejectedInferences: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "modelvault", metricName: "inferences_rejected", unitName: "total",
            helpText: "Inferences refused at the concurrency bound.")
    }
    private static var served: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "modelvault", metricName: "served_models", unitName: "",
            helpText: "Model versions currently served.")
    }

    /// Records one finished request by route template, method and status.
    func request(route: String, method: String, status: Int, duration: Duration) {
        registry.makeCounter(
            descriptor: Self.requests, labels: [("route", route), ("method", method), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: Self.requestDuration, labels: [("route", route)], buckets: Self.latencyBuckets
        ).record(duration)
    }

    /// Records one successful inference.
    func inference(model: String, version: String, duration: Duration) {
        registry.makeCounter(descriptor: Self.inferences, labels: [("model", model), ("version", version)])
            .increment()
        registry.makeDurationHistogram(
            descriptor: Self.inferenceDuration, labels: [("model", model)], buckets: Self.latencyBuckets
        ).record(duration)
    }

    /// Records a request refused by the rate limiter.
    func rateLimited() {
        registry.makeCounter(descriptor: Self.rateLimitedRequests).increment()
    }

    /// Records an authentication (401) or authorisation (403) failure.
    func authFailure(kind: String) {
        registry.makeCounter(descriptor: Self.authFailures, labels: [("kind", kind)]).increment()
    }

    /// Records an inference refused because the concurrency bound was reached.
    func inferenceRejected() {
        registry.makeCounter(descriptor: Self.rejectedInferences).increment()
    }

    private static var build: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "modelvault", metricName: "build_info", unitName: "",
            helpText: "Always 1; the labels say what the server was built from.")
    }

    /// Publishes the build information as the labels of a constant gauge.
    func buildInfo(_ info: BuildInfo) {
        registry.makeGauge(
            descriptor: Self.build,
            labels: [
                ("version", info.version), ("commit", info.commit), ("build_date", info.buildDate),
                ("toolchain", info.toolchain),
            ]
        ).set(Double(1))
    }

    /// Sets the number of served model versions.
    func servedModels(_ count: Int) {
        registry.makeGauge(descriptor: Self.served).set(Double(count))
    }

    /// The Prometheus text exposition.
    func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}
