import Foundation
import TestSupport
import Testing

/// Issue #20 point 11: `audit tail` filters by principal, action prefix and outcome, and follows the log as it
/// grows (before: `-n` and `--json` only, so `--follow` and the filters were unknown options, exit 2).
@Suite struct AuditTailCLITests {
    @Test(.timeLimit(.minutes(5))) func tailFiltersAndFollows() async throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        func run(_ arguments: [String]) throws -> ChildProcess.Output {
            try ModelVaultBinary.run(arguments, environment: env, in: work)
        }
        #expect(try run(["model", "list"]).status == 0)
        #expect(try run(["keys", "list"]).status == 0)

        let listed = try run(["audit", "tail", "--action", "model.", "--json"])
        try #require(listed.status == 0, "\(listed.stderr)")
        let entries = try #require(
            try JSONSerialization.jsonObject(with: listed.stdoutData) as? [[String: Any]], "\(listed.stdout)")
        #expect(!entries.isEmpty)
        #expect(entries.allSatisfy { ($0["action"] as? String)?.hasPrefix("model.") == true }, "\(entries)")
        let nobody = try run(["audit", "tail", "--principal", "nobody-at-all", "--json"])
        #expect(nobody.status == 0)
        #expect(
            (try JSONSerialization.jsonObject(with: nobody.stdoutData) as? [Any])?.isEmpty == true, "\(nobody.stdout)")
        let allowed = try run(["audit", "tail", "--outcome", "allowed", "-n", "3", "--json"])
        let three = try JSONSerialization.jsonObject(with: allowed.stdoutData) as? [[String: Any]] ?? []
        #expect(three.count == 3 && three.allSatisfy { $0["outcome"] as? String == "allowed" }, "\(allowed.stdout)")
        #expect(try run(["audit", "tail", "--outcome", "maybe"]).status == 2)

        // Following: nothing printed for the old entries (-n 0), then the next command's entry as a JSON line.
        let follower = try BackgroundProcess(
            ["audit", "tail", "--follow", "-n", "0", "--action", "keys.list", "--json"], in: work,
            environment: ModelVaultBinary.environment(adding: env))
        try await Task.sleep(for: .seconds(2))
        #expect(try run(["keys", "list"]).status == 0)
        let line = try await follower.line(startingWith: "{", timeout: .seconds(60))
        #expect(line?.contains(#""action":"keys.list""#) == true, "\(follower.output)")
        try await follower.stop()
    }
}
