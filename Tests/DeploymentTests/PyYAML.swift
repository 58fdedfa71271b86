import Foundation
import TestSupport
import Testing

/// An independent YAML reader for the tests: Python's PyYAML (a YAML 1.1 reader, the stricter choice for
/// quoting, since it reads `yes`, `on` and `0777` as non-strings).
enum PyYAML {
    /// Reads every document of each file and returns them as JSON-shaped values, keyed by path.
    static func documents(in files: [URL]) throws -> [String: [Any]] {
        let script = """
            import json, sys, yaml
            out = {}
            for path in sys.argv[1:]:
                with open(path, encoding="utf-8") as f:
                    out[path] = list(yaml.safe_load_all(f))
            json.dump(out, sys.stdout)
            """
        let result = try ChildProcess.python(script, arguments: files.map(\.path)).run()
        guard result.status == 0 else {
            throw ParseFailure(message: result.stderr)
        }
        let object = try JSONSerialization.jsonObject(with: result.stdoutData)
        return try #require(object as? [String: [Any]])
    }

    /// Whether PyYAML reads `yaml` as exactly `expectedJSON` (types compared strictly: `1` is not `true`).
    static func reads(_ yaml: String, as expectedJSON: Data) throws -> (equal: Bool, detail: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pyyaml-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let yamlURL = folder.appendingPathComponent("value.yaml")
        let jsonURL = folder.appendingPathComponent("expected.json")
        try Data(yaml.utf8).write(to: yamlURL)
        try expectedJSON.write(to: jsonURL)
        let script = """
            import json, sys, yaml
            def same(a, b):
                if type(a) is not type(b):
                    return False
                if isinstance(a, dict):
                    return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
                if isinstance(a, list):
                    return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
                return a == b
            got = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
            want = json.load(open(sys.argv[2], encoding="utf-8"))
            if not same(got, want):
                print(repr(got)); print(repr(want)); sys.exit(1)
            """
        let result = try ChildProcess.python(script, arguments: [yamlURL.path, jsonURL.path]).run()
        let detail = result.stdout + result.stderr
        return (result.status == 0, detail)
    }

    struct ParseFailure: Error, CustomStringConvertible {
        let message: String
        var description: String { "PyYAML could not read a document: \(message)" }
    }
}
