import Deployment
import Foundation
import TestSupport
import Testing

/// Artifacts written to a temporary directory and read back with PyYAML.
struct Rendered {
    let directory: URL
    let artifacts: DeploymentArtifacts
    /// Every document of every YAML file, keyed by the file's path relative to `directory`.
    let documents: [String: [Any]]

    /// Renders `spec`, writes it and parses every YAML file; ends the test (skipped, or failed in CI) when PyYAML
    /// is not there.
    static func make(_ spec: DeploymentSpec) throws -> Rendered {
        guard Interop.pythonCanImport("yaml") else {
            try Interop.skipOrFail("python3 with PyYAML")
        }
        let artifacts = try DeploymentArtifacts(rendering: spec)
        let directory = try Fixtures.temporaryDirectory().appendingPathComponent("out")
        try artifacts.write(to: directory)
        let yamlFiles = artifacts.files.map(\.path).filter { $0.hasSuffix(".yaml") }
        let parsed = try PyYAML.documents(in: yamlFiles.map { directory.appendingPathComponent($0) })
        var documents: [String: [Any]] = [:]
        for path in yamlFiles {
            documents[path] = parsed[directory.appendingPathComponent(path).path]
        }
        return Rendered(directory: directory, artifacts: artifacts, documents: documents)
    }

    /// The single object in the file at `path`.
    func object(_ path: String) throws -> JSON {
        let documents = try #require(documents[path])
        try #require(documents.count == 1)
        return JSON(documents[0])
    }

    /// Every Kubernetes object, files in path order.
    func kubernetesObjects() throws -> [JSON] {
        try documents.keys.filter { $0.hasPrefix("kubernetes/") }.sorted().flatMap { path in
            try #require(documents[path]).map(JSON.init)
        }
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory.deletingLastPathComponent())
    }
}

/// Navigation through parsed JSON-shaped values: `object["spec"]["replicas"].int`.
struct JSON {
    let value: Any?

    init(_ value: Any?) { self.value = value }

    subscript(key: String) -> JSON { JSON((value as? [String: Any])?[key]) }
    subscript(index: Int) -> JSON {
        guard let array = value as? [Any], array.indices.contains(index) else { return JSON(nil) }
        return JSON(array[index])
    }

    var string: String? { value as? String }
    var int: Int? { (value as? NSNumber).flatMap { isBoolean ? nil : $0.intValue } }
    var bool: Bool? { isBoolean ? (value as? NSNumber)?.boolValue : nil }
    var array: [JSON] { (value as? [Any])?.map(JSON.init) ?? [] }
    var dictionary: [String: JSON] { (value as? [String: Any])?.mapValues(JSON.init) ?? [:] }
    var exists: Bool { value != nil && !(value is NSNull) }

    private var isBoolean: Bool {
        guard let number = value as? NSNumber else { return false }
        #if canImport(Darwin)
        return CFGetTypeID(number) == CFBooleanGetTypeID()
        #else
        return type(of: value!) == Bool.self || String(cString: number.objCType) == "c"
        #endif
    }
}
