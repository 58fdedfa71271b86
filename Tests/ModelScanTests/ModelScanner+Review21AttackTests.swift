import Foundation
import Testing

@testable import ModelScan

/// The bypass of the twenty-first adversarial review of the scanner (2026-12-05): the trial that decides whether a
/// file without `PROTO` (or one another format took) is a pickle read it only as `pickle.load` does, which breaks at
/// a joblib array's bytes, so a joblib dump without its `PROTO` and a call after the array passed while
/// `joblib.load` ran it. The files are kept as raw DEFLATE; their payloads run `touch /nonexistent/review21-N`.
@Suite struct ModelScannerReview21AttackTests {
    /// 1a: `joblib.dump(numpy.arange(4.))` without `PROTO`, then `POP` and `os.system(...)`.
    static let joblibWithoutProto = ModelScannerReview20AttackTests.file(
        "VY6/TsMwEMZTSmmVCcTIwhgGWsrEgEQRG5EydIAxshNDDP4n26FkYGBALdJtHA/Gm/AGxU1g4Bvufnf6Pt19fkWdYP9BU8HpWNXS"
            + "NLnhxaNgCHvZZry0ljS3lhjDLH7g0Su+YAIjV9NCEOcQBm0KYahKsvEGEwxcRQzDdPstsLZliELvKnDpm7Cvdv4oeLfuzvB9tcQ5"
            + "JmkfeueYZdn1OqgtaeSRQkyE0ItcSmJwBQfdn+21nAh+ryRTPqeNZw7T3Zr2QzD6p++LX5h1bTQ7KbSLXeM8k3Fy43VdVIcTpRV7"
            + "5mGn/MSyJ84Wp9Pjaezn4x8=")

    /// 1b: a tar whose header opens with a `BINBYTES` that swallows it; the member is 1a.
    static let tarAlsoJoblib = ModelScannerReview20AttackTests.file(
        "7Y8xT8MwFIQTSqHKBGJk6RgG2lCSigGJAhuRMnSAMXISQwKJHdkObQYGBkSRvPH4YfwTZhZwk4IEOwyQb/A7n+707KNXXftpLMXQ"
            + "tqup+D4t23E+de0PnV1L61raL1BwgZhaqf1LrKfnhZIblzRIk6BHiiwv/TwJr1IMct2bXw8ZQ+UZQ3mOGTzC1i3cgCk7vAjCFHEO"
            + "sl21QK6SCM2zKiTbPEY5Bnf5TmnKIlWV+rHSkSiVH698KJVdOt+Dh9k9jMF0W1LfB8/zTt4U1eFqAgJpoDSlEz/LUA4zuVm/s9rm"
            + "ozS5IBkmwg9KgTm4a0XQUsWvn305WIhRPTojK6Tc4CUXODPMU0GLMO72CSV4miiPiD7D1wmeDHa2B4YY97SGhoaGv8M7")

    /// 1c: 1b gzip-compressed, as `joblib.dump(..., compress=...)` writes.
    static let gzipTarAlsoJoblib = ModelScannerReview20AttackTests.file(
        "ATgBx/4fiwgAAAAAAAID7Y8xT8MwFIQTSqHKBGJk6RgG2kCTigGJAhuRMnSAMXISQwKJHdkObQYGBkSRvPH4YfwTZhZwk4IEOwyQ"
            + "b/A7n+707KNXXftpLMXQtqup+D4t23E+de0PnYGldS3tFyi4QEyt1P4l1tPzQsmNSxqkSdAjRZaXfp6EVykGue7Nr4eMofKMoTzH"
            + "DB5h6xZuwJQdXgRhijgH2a5aIFdJhOZZFZJtHqMcg7t8pzRlkapK/VjpSJTKj1c+lMoune/Bw+wexmC6Lanvg+d5J2+K6nA1AYE0"
            + "UJrSiZ9lKIeZ3KzfWW3zUZpckAwT4QelwBzctSJoqeLXz74cLMSoHp2RFVJu8JILnBnmqaBFGHf7hBI8TZRHRJ/h6wRPdne2B4YY"
            + "97SGhoaGv8M74SgLbQAIAAA=")

    @Test(arguments: [
        ("no PROTO, .dat", joblibWithoutProto, "model.dat"), ("no PROTO, .bin", joblibWithoutProto, "model.bin"),
        ("tar + joblib", tarAlsoJoblib, "model.joblib"), ("gzip(tar + joblib)", gzipTarAlsoJoblib, "model.joblib.gz"),
    ])
    func aJoblibPickleWithoutProtoIsReadAsJoblibReadsIt(_ label: String, _ bytes: [UInt8], _ name: String) {
        #expect(bytes.count > 200, "\(label): the fixture inflates")
        let report = ModelScanner().scan(bytes: bytes, name: name)
        #expect(report.has("pickle.global.dangerous", "system"), "\(label): \(report.findings)")
        #expect(report.isRefusedByDefault, "\(label)")
    }
}
