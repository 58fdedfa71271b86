import Foundation
import TestSupport
import Testing

/// `modelvault scan`: exit codes 0 clean, 3 findings at or above the threshold, 4 scan failed, 2 usage.
@Suite struct ScanCommandTests {
    /// `cos\nsystem\n(S'id'\ntR.`: a protocol 0 pickle calling `os.system('id')`.
    private static let evil = Data("cos\nsystem\n(S'id'\ntR.".utf8)
    /// A pickle followed by a byte that starts no pickle: a medium finding (unknown globals are high since review 4).
    private static let unknown = Data([0x80, 0x04, 0x4E, 0x2E, 0x00])
    private static let clean = Data([0x80, 0x04, 0x4E, 0x2E])

    @Test func exitCodesFollowThePolicy() throws {
        let work = try TemporaryDirectory()
        try Self.evil.write(to: work.url.appending(path: "evil.bin"))
        try Self.unknown.write(to: work.url.appending(path: "model.joblib"))
        try Self.clean.write(to: work.url.appending(path: "clean.pkl"))

        let clean = try ModelVaultBinary.run(["scan", "clean.pkl"], in: work.url)
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        let evil = try ModelVaultBinary.run(["scan", "evil.bin"], in: work.url)
        #expect(evil.status == 7)
        #expect(evil.stdout.contains("pickle.global.dangerous@0"))
        let medium = try ModelVaultBinary.run(["scan", "model.joblib"], in: work.url)
        #expect(medium.status == 0)
        let strict = try ModelVaultBinary.run(["scan", "--policy", "strict", "model.joblib"], in: work.url)
        #expect(strict.status == 7)
        let missing = try ModelVaultBinary.run(["scan", "clean.pkl", "absent.pt"], in: work.url)
        #expect(missing.status == 1)
        let usage = try ModelVaultBinary.run(["scan", "--json", "--sarif", "clean.pkl"], in: work.url)
        #expect(usage.status == 2)
    }

    @Test func symbolicLinkIsNotFollowed() throws {
        let work = try TemporaryDirectory()
        try Self.clean.write(to: work.url.appending(path: "clean.pkl"))
        try FileManager.default.createSymbolicLink(
            atPath: work.url.appending(path: "link.pkl").path, withDestinationPath: "clean.pkl")
        let result = try ModelVaultBinary.run(["scan", "link.pkl"], in: work.url)
        #expect(result.status == 1)
        #expect(result.stderr.contains("symbolic link"))
    }

    @Test func jsonAndSarifAreParseable() throws {
        let work = try TemporaryDirectory()
        try Self.evil.write(to: work.url.appending(path: "evil.bin"))
        let json = try ModelVaultBinary.run(["scan", "--json", "."], in: work.url)
        #expect(json.status == 7)
        let document = try JSONSerialization.jsonObject(with: json.stdoutData) as? [String: Any]
        let files = document?["files"] as? [[String: Any]]
        #expect(files?.first?["refused"] as? Bool == true)
        let sarif = try ModelVaultBinary.run(["scan", "--sarif", "evil.bin"], in: work.url)
        let log = try JSONSerialization.jsonObject(with: sarif.stdoutData) as? [String: Any]
        #expect(log?["version"] as? String == "2.1.0")
        let results = (log?["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]]
        #expect(results?.first?["ruleId"] as? String == "pickle.global.dangerous")
    }
}
