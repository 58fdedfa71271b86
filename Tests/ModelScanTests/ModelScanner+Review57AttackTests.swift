import Foundation
import Testing

@testable import ModelScan

/// Scanner review 57, around review 56's fix: numpy's parser also takes a sign, spaces and a divisor in a datetime
/// unit (`M8[+0ns]`, `M8[ ns/ 0]`), bytes as well as text, and a dtype in other arguments (`_reconstruct(ndarray,
/// shape, 'M8[ns/0]')`, `MaskedArray(data, mask, 'M8[0ns]', …)`) and in a `.npy` header, where `<M8[ns/0]` killed
/// `numpy.load` with SIGFPE even without `allow_pickle`. Units must now be spelled as numpy writes them wherever numpy
/// parses a dtype, and calling `MaskedArray` with arguments is high.
@Suite struct ModelScannerReview57AttackTests {
    /// The reviewer's files, each of which killed all four loaders (or `numpy.load`) with SIGFPE.
    static let attacks: [(String, String)] = [
        ("fpe_divisor_space.pkl", "gAJjbnVtcHkKZHR5cGUKcQBYCQAAAE04W25zLyAwXXEBhXECUnEDLg=="),
        (
            "fpe_sign_plus.pkl",
            "gASVHQEAAAAAAACMDW51bXB5Lm1hLmNvcmWUjA5fbWFyZWNvbnN0cnVjdJSTlCiMCG51bXB5Lm1hlIwLTWFza2VkQXJyYXmU"
                + "k5SMBW51bXB5lIwHbmRhcnJheZSTlEsAhZRDAWKUdJRSlChLAUsChZRoBowFZHR5cGWUk5SMCE04WyswbnNdlIWUUpSJQxAA"
                + "AAAAAAAAAAAAAAAAAAAAlEMCAACUjBZudW1weS5fY29yZS5tdWx0aWFycmF5lIwMX3JlY29uc3RydWN0lJOUaAhLAIWUaAqH"
                + "lFKUKEsBKWgPjAJNOJSJiIeUUpQoSwSMATyUTk5OSv////9K/////0sATihDAXOUSwFLAUsBdJSGlHSUYolDCAAAAAAAAAAA"
                + "lHSUYnSUYi4="
        ),
        (
            "fpe_sign_space.pkl",
            "gASVHQEAAAAAAACMDW51bXB5Lm1hLmNvcmWUjA5fbWFyZWNvbnN0cnVjdJSTlCiMCG51bXB5Lm1hlIwLTWFza2VkQXJyYXmU"
                + "k5SMBW51bXB5lIwHbmRhcnJheZSTlEsAhZRDAWKUdJRSlChLAUsChZRoBowFZHR5cGWUk5SMCE04WyAwbnNdlIWUUpSJQxAA"
                + "AAAAAAAAAAAAAAAAAAAAlEMCAACUjBZudW1weS5fY29yZS5tdWx0aWFycmF5lIwMX3JlY29uc3RydWN0lJOUaAhLAIWUaAqH"
                + "lFKUKEsBKWgPjAJNOJSJiIeUUpQoSwSMATyUTk5OSv////9K/////0sATihDAXOUSwFLAUsBdJSGlHSUYolDCAAAAAAAAAAA"
                + "lHSUYnSUYi4="
        ),
        (
            "fpe_sign_minus.pkl",
            "gASVHQEAAAAAAACMDW51bXB5Lm1hLmNvcmWUjA5fbWFyZWNvbnN0cnVjdJSTlCiMCG51bXB5Lm1hlIwLTWFza2VkQXJyYXmU"
                + "k5SMBW51bXB5lIwHbmRhcnJheZSTlEsAhZRDAWKUdJRSlChLAUsChZRoBowFZHR5cGWUk5SMCE04Wy0wbnNdlIWUUpSJQxAA"
                + "AAAAAAAAAAAAAAAAAAAAlEMCAACUjBZudW1weS5fY29yZS5tdWx0aWFycmF5lIwMX3JlY29uc3RydWN0lJOUaAhLAIWUaAqH"
                + "lFKUKEsBKWgPjAJNOJSJiIeUUpQoSwSMATyUTk5OSv////9K/////0sATihDAXOUSwFLAUsBdJSGlHSUYolDCAAAAAAAAAAA"
                + "lHSUYnSUYi4="
        ),
        (
            "fpe_bytes_dtype.pkl",
            "gASVHAEAAAAAAACMDW51bXB5Lm1hLmNvcmWUjA5fbWFyZWNvbnN0cnVjdJSTlCiMCG51bXB5Lm1hlIwLTWFza2VkQXJyYXmU"
                + "k5SMBW51bXB5lIwHbmRhcnJheZSTlEsAhZRDAWKUdJRSlChLAUsChZRoBowFZHR5cGWUk5RDB004WzBuc12UhZRSlIlDEAAA"
                + "AAAAAAAAAAAAAAAAAACUQwIAAJSMFm51bXB5Ll9jb3JlLm11bHRpYXJyYXmUjAxfcmVjb25zdHJ1Y3SUk5RoCEsAhZRoCoeU"
                + "UpQoSwEpaA+MAk04lImIh5RSlChLBIwBPJROTk5K/////0r/////SwBOKEMBc5RLAUsBSwF0lIaUdJRiiUMIAAAAAAAAAACU"
                + "dJRidJRiLg=="
        ),
        (
            "rec_divisor.pkl",
            "gAJjbnVtcHkuX2NvcmUubXVsdGlhcnJheQpfcmVjb25zdHJ1Y3QKcQBjbnVtcHkKbmRhcnJheQpxAUsAhXECWAgAAABNOFtu"
                + "cy8wXXEDh3EEUnEFLg=="
        ),
        (
            "ma_call_fill.pkl",
            "gASV0gAAAAAAAACMCG51bXB5Lm1hlIwLTWFza2VkQXJyYXmUk5QoXZRLAGGJjAdNOFswbnNdlImISwCMFm51bXB5Ll9jb3Jl"
                + "Lm11bHRpYXJyYXmUjAxfcmVjb25zdHJ1Y3SUk5SMBW51bXB5lIwHbmRhcnJheZSTlEsAhZRDAWKUh5RSlChLASloCIwFZHR5"
                + "cGWUk5SMAk04lImIh5RSlChLBIwBPJROTk5K/////0r/////SwBOKEMBc5RLAUsBSwF0lIaUdJRiiUMIAAAAAAAAAACUdJRi"
                + "dJRSlC4="
        ),
        (
            "marec_str_dtype.pkl",
            "gASVZgAAAAAAAACMDW51bXB5Lm1hLmNvcmWUjA5fbWFyZWNvbnN0cnVjdJSTlCiMCG51bXB5Lm1hlIwLTWFza2VkQXJyYXmU"
                + "k5SMBW51bXB5lIwHbmRhcnJheZSTlEsChZSMB004WzBuc12UdJRSlC4="
        ),
        (
            "div0b.npy",
            "k05VTVBZAQBAAHsnZGVzY3InOiAnPE04W25zLzBdJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDAsKSwg"
                + "fQpOLg=="
        ),
    ]
    /// `numpy.save` of real datetime arrays, plain and structured.
    static let realNpy: [(String, String)] = [
        (
            "npyM8",
            "k05VTVBZAQB2AHsnZGVzY3InOiAnPE04W25zXScsICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdzaGFwZSc6ICgxLCksIH0g"
                + "ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAIq5NZrlFQ=="
        ),
        (
            "npyStruct",
            "k05VTVBZAQB2AHsnZGVzY3InOiBbKCd0JywgJzxtOFs1dXNdJyksICgneCcsICc8ZjgnKV0sICdmb3J0cmFuX29yZGVyJzog"
                + "RmFsc2UsICdzaGFwZSc6ICgyLCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAAAAAAAAAAAA"
                + "AAAAAAAAAAAAAAAAAAAAAA=="
        ),
    ]

    @Test func everySpellingOfAZeroUnitIsRefused() {
        for (name, encoded) in Self.attacks {
            let report = scan([UInt8](Data(base64Encoded: encoded)!))
            #expect(report.isRefusedByDefault, "\(name): \(report.findings)")
        }
    }

    @Test func realDatetimeNpyFilesPass() {
        for (name, encoded) in Self.realNpy {
            let report = scan([UInt8](Data(base64Encoded: encoded)!))
            #expect(!report.isRefusedByDefault, "\(name): \(report.findings)")
        }
    }
}
