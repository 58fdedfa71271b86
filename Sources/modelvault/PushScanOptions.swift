import ArgumentParser
import ModelScan
import Vault

/// The scanner flags of `model push` and `model import-fernet`.
struct PushScanOptions: ParsableArguments {
    @Option(name: .customLong("scan-policy"), help: "default: refuse high and critical findings; strict: medium too.")
    var policy: String = ScanPolicy.default.rawValue

    @Option(
        name: .customLong("accept"),
        help: "Admit a finding the scanner refuses (FILE#FINDING-ID or FINDING-ID); admins and security engineers only."
    )
    var accept: [String] = []

    func validate() throws {
        if ScanPolicy(rawValue: policy) == nil { throw ValidationError("--scan-policy must be default or strict") }
    }

    var options: ModelScanOptions {
        ModelScanOptions(policy: ScanPolicy(rawValue: policy) ?? .default, accept: accept)
    }
}
