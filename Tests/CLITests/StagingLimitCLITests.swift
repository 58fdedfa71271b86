import Foundation
import TestSupport
import Testing

/// Issue #15, configurable byte caps: `MODELVAULT_MAX_STAGED_BYTES` bounds what one `data add` or push may stage
/// (default 1 TiB); past it the command is refused, naming the limit, and nothing is staged.
@Suite(.serialized) struct StagingLimitCLITests {
    @Test func dataAddPastTheConfiguredStagingLimitIsRefused() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        var env = try CLI.makeVault(in: work)
        try Data(repeating: 0x41, count: 4096).write(to: work.appending(path: "big.csv"))
        env["MODELVAULT_MAX_STAGED_BYTES"] = "1000"
        let refused = try ModelVaultBinary.run(["data", "add", "big", "big.csv"], environment: env, in: work)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("staging limit of 1000 bytes"), "\(refused.stderr)")
        env["MODELVAULT_MAX_STAGED_BYTES"] = "8192"
        let added = try ModelVaultBinary.run(["data", "add", "big", "big.csv"], environment: env, in: work)
        #expect(added.status == 0, "\(added.stderr)")
    }
}
