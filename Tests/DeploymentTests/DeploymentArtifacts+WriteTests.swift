import Deployment
import Foundation
import Testing

@Suite struct WriteTests {
    private let fileManager = FileManager.default

    private func contents(of directory: URL) throws -> [String: String] {
        var result: [String: String] = [:]
        let enumerator = try #require(fileManager.enumerator(at: directory, includingPropertiesForKeys: nil))
        for case let url as URL in enumerator {
            var isDirectory: ObjCBool = false
            if fileManager.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                let relative = String(
                    url.standardizedFileURL.path.dropFirst(directory.standardizedFileURL.path.count + 1))
                result[relative] = try String(contentsOf: url, encoding: .utf8)
            }
        }
        return result
    }

    @Test func writesEveryFileIntoANewNestedDirectory() throws {
        let root = try Fixtures.temporaryDirectory()
        defer { try? fileManager.removeItem(at: root) }
        let artifacts = try DeploymentArtifacts(rendering: Fixtures.spec())
        let destination = root.appendingPathComponent("models/deployed/model/3")
        try artifacts.write(to: destination)
        let written = try contents(of: destination)
        #expect(written == Dictionary(uniqueKeysWithValues: artifacts.files.map { ($0.path, $0.contents) }))
        // No staging directory is left beside it.
        #expect(try fileManager.contentsOfDirectory(atPath: destination.deletingLastPathComponent().path) == ["3"])
    }

    @Test func anEmptyDirectoryIsFilled() throws {
        let root = try Fixtures.temporaryDirectory()
        defer { try? fileManager.removeItem(at: root) }
        let artifacts = try DeploymentArtifacts(rendering: Fixtures.spec())
        try artifacts.write(to: root)
        #expect(try contents(of: root).count == artifacts.files.count)
    }

    @Test func aNonEmptyDirectoryIsRefusedAndLeftAlone() throws {
        let root = try Fixtures.temporaryDirectory()
        defer { try? fileManager.removeItem(at: root) }
        let destination = root.appendingPathComponent("out")
        try fileManager.createDirectory(at: destination, withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: destination.appendingPathComponent("notes.txt"))
        let artifacts = try DeploymentArtifacts(rendering: Fixtures.spec())
        #expect(throws: DeploymentError.destinationNotEmpty) { try artifacts.write(to: destination) }
        #expect(try contents(of: destination) == ["notes.txt": "keep me"])
        #expect(try fileManager.contentsOfDirectory(atPath: root.path) == ["out"], "no staging left behind")
    }

    @Test func aFileInTheWayIsRefused() throws {
        let root = try Fixtures.temporaryDirectory()
        defer { try? fileManager.removeItem(at: root) }
        let destination = root.appendingPathComponent("out")
        try Data("x".utf8).write(to: destination)
        let artifacts = try DeploymentArtifacts(rendering: Fixtures.spec())
        #expect(throws: DeploymentError.self) { try artifacts.write(to: destination, replacingExisting: true) }
        #expect(try fileManager.contentsOfDirectory(atPath: root.path) == ["out"])
        #expect(try String(contentsOf: destination, encoding: .utf8) == "x")
    }

    @Test func replacingSwapsTheWholeSet() throws {
        let root = try Fixtures.temporaryDirectory()
        defer { try? fileManager.removeItem(at: root) }
        let destination = root.appendingPathComponent("out")
        try fileManager.createDirectory(at: destination, withIntermediateDirectories: true)
        try Data("stale".utf8).write(to: destination.appendingPathComponent("stale.yaml"))
        var spec = Fixtures.spec()
        spec.server.replicas = 2
        let artifacts = try DeploymentArtifacts(rendering: spec)
        try artifacts.write(to: destination, replacingExisting: true)
        let written = try contents(of: destination)
        #expect(written["stale.yaml"] == nil)
        #expect(written == Dictionary(uniqueKeysWithValues: artifacts.files.map { ($0.path, $0.contents) }))
        #expect(try fileManager.contentsOfDirectory(atPath: root.path) == ["out"], "the old set is removed")
    }

    @Test func anUnwritableParentFailsWithoutOutput() throws {
        let root = try Fixtures.temporaryDirectory()
        defer { try? fileManager.removeItem(at: root) }
        // A regular file where the parent directory should be.
        let blocker = root.appendingPathComponent("blocker")
        try Data().write(to: blocker)
        let artifacts = try DeploymentArtifacts(rendering: Fixtures.spec())
        #expect(throws: DeploymentError.writeFailed) { try artifacts.write(to: blocker.appendingPathComponent("out")) }
        #expect(try fileManager.contentsOfDirectory(atPath: root.path) == ["blocker"])
    }
}
