import Foundation
import TestSupport
import Testing

/// `model push` refuses what the scanner refuses (exit 7), `--accept` is for admins and security engineers
/// (exit 3 otherwise), and `model scan` / `model show` report the stored record.
@Suite struct ModelPushScanningCLITests {
    /// `cos\nsystem\n(S'id'\ntR.`: a protocol 0 pickle calling `os.system('id')`.
    private static let evil = Data("cos\nsystem\n(S'id'\ntR.".utf8)

    @Test func pushRefusesFindingsAndOnlyAnAdminMayAcceptThem() throws {
        let work = try TemporaryDirectory()
        var environment = try CLI.makeVault(in: work.url)
        let admin = environment["MODELVAULT_TOKEN"]!
        try Self.evil.write(to: work.url.appending(path: "model.bin"))

        let refused = try ModelVaultBinary.run(
            ["model", "push", "evil", "model.bin"], environment: environment, in: work.url)
        #expect(refused.status == 7, "\(refused.stderr)")
        #expect(refused.stderr.contains("model.bin#pickle.global.dangerous@0"))
        let finding = "model.bin#pickle.global.dangerous@0"

        #expect(
            try ModelVaultBinary.run(
                ["user", "add", "dana", "--role", "data-scientist"], environment: environment, in: work.url
            )
            .status == 0)
        let issued = try ModelVaultBinary.run(["token", "create", "dana"], environment: environment, in: work.url)
        let dana = try #require(
            issued.stdout.split(whereSeparator: \.isNewline).map(String.init).first { $0.hasPrefix("mvt_") })
        environment["MODELVAULT_TOKEN"] = dana
        let denied = try ModelVaultBinary.run(
            ["model", "push", "evil", "model.bin", "--accept", finding], environment: environment, in: work.url)
        #expect(denied.status == 3, "\(denied.stderr)")
        let rescanDenied = try ModelVaultBinary.run(["model", "scan", "--all"], environment: environment, in: work.url)
        #expect(rescanDenied.status == 3, "\(rescanDenied.stderr)")

        environment["MODELVAULT_TOKEN"] = admin
        let accepted = try ModelVaultBinary.run(
            ["model", "push", "evil", "model.bin", "--accept", finding], environment: environment, in: work.url)
        #expect(accepted.status == 0, "\(accepted.stderr)")
        let shown = try ModelVaultBinary.run(["model", "show", "evil@1"], environment: environment, in: work.url)
        #expect(shown.stdout.contains("1 accepted") && shown.stdout.contains("accepted: \(finding)"), "\(shown.stdout)")
        let rescan = try ModelVaultBinary.run(["model", "scan", "evil@1"], environment: environment, in: work.url)
        #expect(rescan.status == 7, "\(rescan.stdout)\(rescan.stderr)")
        #expect(rescan.stdout.contains("REFUSED critical model.bin#pickle.global.dangerous@0"))
        let audit = try ModelVaultBinary.run(["audit", "export"], environment: environment, in: work.url)
        #expect(audit.status == 0, "\(audit.stderr)")
        let accepts = audit.stdout.split(whereSeparator: \.isNewline).filter { $0.contains("model.scan.accept") }
        #expect(accepts.contains { $0.contains("denied") && $0.contains("dana") })
        #expect(accepts.contains { $0.contains("allowed") && $0.contains(finding) })
    }
}
