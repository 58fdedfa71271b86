import Logging
import ServiceLifecycle

/// The models being served now: an immutable snapshot swapped whenever the catalog changes.
struct ServedModelSnapshot: Sendable {
    /// Name → versions, the default (alias) version first.
    private(set) var models: [String: [any ServedModel]] = [:]
    /// Name → versions the catalog reported but that failed verification.
    private(set) var unverified: [String: Set<String>] = [:]

    init() {}

    init(entries: [CatalogEntry]) {
        for entry in entries {
            switch entry {
            case .verified(let model):
                guard !(models[model.name] ?? []).contains(where: { $0.version == model.version }) else { continue }
                models[model.name, default: []].append(model)
            case .unverified(let name, let version):
                unverified[name, default: []].insert(version)
            }
        }
    }

    /// The model addressed by name and optional version; `nil` when not served (unknown or unverified).
    func model(named name: String, version: String?) -> (any ServedModel)? {
        guard let versions = models[name] else { return nil }
        guard let version else { return versions.first }
        return versions.first { $0.version == version }
    }

    /// Whether every model the catalog reported has a verified version being served (readiness).
    var servesEverySelectedModel: Bool { unverified.keys.allSatisfy { models[$0] != nil } }

    /// The number of served model versions.
    var count: Int { models.values.reduce(0) { $0 + $1.count } }

    /// A comparable summary (name → versions), to log changes only.
    var summary: [String: [String]] { models.mapValues { $0.map(\.version) } }
}

/// Holds the current snapshot and whether the catalog has loaded at least once.
actor ServedModelTable {
    private(set) var snapshot = ServedModelSnapshot()
    private(set) var isLoaded = false

    func replace(with snapshot: ServedModelSnapshot) {
        self.snapshot = snapshot
        isLoaded = true
    }
}

/// Polls the catalog so that alias moves and newly verified versions are served within one interval.
struct CatalogPoller: Service {
    let catalog: any ModelCatalog
    let table: ServedModelTable
    let interval: Duration
    let metrics: ServerMetrics
    let logger: Logger

    /// Loads the catalog once; a failure keeps the previous snapshot.
    func refresh() async throws {
        let entries = try await catalog.currentModels()
        let next = ServedModelSnapshot(entries: entries)
        let previous = await table.snapshot
        let wasLoaded = await table.isLoaded
        if previous.summary != next.summary || !wasLoaded {
            let listing = next.summary.sorted { $0.key < $1.key }.map { name, versions in
                "\(name)@\(versions.joined(separator: ","))"
            }
            logger.info("serving models", metadata: ["models": .string(listing.joined(separator: " "))])
        }
        for (name, versions) in next.unverified where previous.unverified[name] != versions {
            logger.warning(
                "refusing to serve model versions that failed verification",
                metadata: ["model": .string(name), "versions": .string(versions.sorted().joined(separator: ","))])
        }
        await table.replace(with: next)
        metrics.servedModels(next.count)
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
                do {
                    try await refresh()
                } catch {
                    logger.warning("model catalog poll failed; keeping the current models")
                }
            }
        }
    }
}
