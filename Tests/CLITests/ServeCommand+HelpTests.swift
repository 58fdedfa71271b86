import Foundation
import TestSupport
import Testing

/// Defect 14 of issue #15: `--max-inferences` help said extra requests wait, while the server answers 503.
@Suite struct ServeCommandHelpTests {
    @Test func maxInferencesHelpSaysExtraRequestsAreRefused() throws {
        let work = try TemporaryDirectory()
        let help = try ModelVaultBinary.run(["serve", "--help"], in: work.url)
        let text = (help.stdout + help.stderr).replacingOccurrences(of: "\n", with: " ")
            .split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        #expect(text.contains("more are refused with 503"), "\(text)")
        #expect(!text.contains("more wait"))
    }
}
