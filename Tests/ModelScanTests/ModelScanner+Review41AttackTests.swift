import Foundation
import Testing

@testable import ModelScan

/// Scanner review 41, on session 19's allow-list changes: with `functools.partial(check_array, C,
/// accept_sparse=['csr'])` set as a `StandardScaler`'s `keys` attribute and `C` a `coo_matrix` whose row index points
/// far outside it, `builtins.dict(x)` called `x.keys()`, so `check_array` converted `C` with scipy's unchecked
/// sparsetools and wrote outside a heap buffer (SIGSEGV under all four loaders; 0 findings, strict too). Also through
/// `OrderedDict(x)` and `copyreg._reconstructor(dok_matrix, dict, x)`. Now a partial binds no positional argument and
/// only the keywords HistGradientBoosting binds (`pickle.partial-state`), a state may not set `keys`
/// (`pickle.build-class`), and a mapping made from an object is high (`pickle.mapping-from-object`).
@Suite struct ModelScannerReview41AttackTests {
    /// The reviewer's `b1.pkl` (`dict(x)`).
    static let dictOfScaler = [UInt8](
        Data(
            base64Encoded:
                "gASVeAIAAAAAAACMCGJ1aWx0aW5zlIwEZGljdJSTlIwbc2tsZWFybi5wcmVwcm9jZXNzaW5nLl9kYXRhlIwOU3RhbmRhcmRTY2Fs"
                + "ZXKUk5QpgZR9lCiMCXdpdGhfbWVhbpSIjAh3aXRoX3N0ZJSIjARjb3B5lIiMBGtleXOUjAlmdW5jdG9vbHOUjAdwYXJ0aWFslJOU"
                + "jBhza2xlYXJuLnV0aWxzLnZhbGlkYXRpb26UjAtjaGVja19hcnJheZSTlIWUUpQoaBGMEXNjaXB5LnNwYXJzZS5fY29vlIwKY29v"
                + "X21hdHJpeJSTlCmBlH2UKIwGX3NoYXBllEsCSwKGlIwIbWF4cHJpbnSUSzKMBmNvb3Jkc5SMFm51bXB5Ll9jb3JlLm11bHRpYXJy"
                + "YXmUjAxfcmVjb25zdHJ1Y3SUk5SMBW51bXB5lIwHbmRhcnJheZSTlEsAhZRDAWKUh5RSlChLAUsChZRoIIwFZHR5cGWUk5SMAmk0"
                + "lImIh5RSlChLA4wBPJROTk5K/////0r/////SwB0lGKJQwgAAAAAAOH1BZR0lGJoH2giSwCFlGgkh5RSlChLAUsChZRoLIlDCAAA"
                + "AAABAAAAlHSUYoaUjARkYXRhlGgfaCJLAIWUaCSHlFKUKEsBSwKFlGgpjAJmOJSJiIeUUpQoSwNoLU5OTkr/////Sv////9LAHSU"
                + "YolDEAAAAAAAAPA/AAAAAAAAAECUdJRijBRoYXNfY2Fub25pY2FsX2Zvcm1hdJSJdWKFlH2UjA1hY2NlcHRfc3BhcnNllF2UjANj"
                + "c3KUYXNOdJRijBBfc2tsZWFybl92ZXJzaW9ulIwFMS45LjGUdWKFlFKULg=="
        )!)
    /// The same through `collections.OrderedDict(x)`.
    static let orderedDictOfScaler = [UInt8](
        Data(
            base64Encoded:
                "gASVggIAAAAAAACMC2NvbGxlY3Rpb25zlIwLT3JkZXJlZERpY3SUk5SMG3NrbGVhcm4ucHJlcHJvY2Vzc2luZy5fZGF0YZSMDlN0"
                + "YW5kYXJkU2NhbGVylJOUKYGUfZQojAl3aXRoX21lYW6UiIwId2l0aF9zdGSUiIwEY29weZSIjARrZXlzlIwJZnVuY3Rvb2xzlIwH"
                + "cGFydGlhbJSTlIwYc2tsZWFybi51dGlscy52YWxpZGF0aW9ulIwLY2hlY2tfYXJyYXmUk5SFlFKUKGgRjBFzY2lweS5zcGFyc2Uu"
                + "X2Nvb5SMCmNvb19tYXRyaXiUk5QpgZR9lCiMBl9zaGFwZZRLAksChpSMCG1heHByaW50lEsyjAZjb29yZHOUjBZudW1weS5fY29y"
                + "ZS5tdWx0aWFycmF5lIwMX3JlY29uc3RydWN0lJOUjAVudW1weZSMB25kYXJyYXmUk5RLAIWUQwFilIeUUpQoSwFLAoWUaCCMBWR0"
                + "eXBllJOUjAJpNJSJiIeUUpQoSwOMATyUTk5OSv////9K/////0sAdJRiiUMIAAAAAADh9QWUdJRiaB9oIksAhZRoJIeUUpQoSwFL"
                + "AoWUaCyJQwgAAAAAAQAAAJR0lGKGlIwEZGF0YZRoH2giSwCFlGgkh5RSlChLAUsChZRoKYwCZjiUiYiHlFKUKEsDaC1OTk5K////"
                + "/0r/////SwB0lGKJQxAAAAAAAADwPwAAAAAAAABAlHSUYowUaGFzX2Nhbm9uaWNhbF9mb3JtYXSUiXVihZR9lIwNYWNjZXB0X3Nw"
                + "YXJzZZRdlIwDY3NylGFzTnSUYowQX3NrbGVhcm5fdmVyc2lvbpSMBTEuOS4xlHVihZRSlC4="
        )!)
    /// The same through `copyreg._reconstructor(scipy.sparse._dok.dok_matrix, builtins.dict, x)`.
    static let dokOfScaler = [UInt8](
        Data(
            base64Encoded:
                "gASVuAIAAAAAAACMB2NvcHlyZWeUjA5fcmVjb25zdHJ1Y3RvcpSTlIwRc2NpcHkuc3BhcnNlLl9kb2uUjApkb2tfbWF0cml4lJOU"
                + "jAhidWlsdGluc5SMBGRpY3SUk5SMG3NrbGVhcm4ucHJlcHJvY2Vzc2luZy5fZGF0YZSMDlN0YW5kYXJkU2NhbGVylJOUKYGUfZQo"
                + "jAl3aXRoX21lYW6UiIwId2l0aF9zdGSUiIwEY29weZSIjARrZXlzlIwJZnVuY3Rvb2xzlIwHcGFydGlhbJSTlIwYc2tsZWFybi51"
                + "dGlscy52YWxpZGF0aW9ulIwLY2hlY2tfYXJyYXmUk5SFlFKUKGgXjBFzY2lweS5zcGFyc2UuX2Nvb5SMCmNvb19tYXRyaXiUk5Qp"
                + "gZR9lCiMBl9zaGFwZZRLAksChpSMCG1heHByaW50lEsyjAZjb29yZHOUjBZudW1weS5fY29yZS5tdWx0aWFycmF5lIwMX3JlY29u"
                + "c3RydWN0lJOUjAVudW1weZSMB25kYXJyYXmUk5RLAIWUQwFilIeUUpQoSwFLAoWUaCaMBWR0eXBllJOUjAJpNJSJiIeUUpQoSwOM"
                + "ATyUTk5OSv////9K/////0sAdJRiiUMIAAAAAADh9QWUdJRiaCVoKEsAhZRoKoeUUpQoSwFLAoWUaDKJQwgAAAAAAQAAAJR0lGKG"
                + "lIwEZGF0YZRoJWgoSwCFlGgqh5RSlChLAUsChZRoL4wCZjiUiYiHlFKUKEsDaDNOTk5K/////0r/////SwB0lGKJQxAAAAAAAADw"
                + "PwAAAAAAAABAlHSUYowUaGFzX2Nhbm9uaWNhbF9mb3JtYXSUiXVihZR9lIwNYWNjZXB0X3NwYXJzZZRdlIwDY3NylGFzTnSUYowQ"
                + "X3NrbGVhcm5fdmVyc2lvbpSMBTEuOS4xlHVih5RSlC4="
        )!)

    @Test(arguments: [dictOfScaler, orderedDictOfScaler, dokOfScaler])
    func theReviewersFilesAreRefusedByEachRule(_ bytes: [UInt8]) {
        let report = ModelScanner().scan(bytes: bytes, name: "model.pkl")
        #expect(report.isRefusedByDefault, "\(report.findings)")
        #expect(report.has("pickle.partial-state"), "\(report.findings)")
        #expect(report.has("pickle.build-class"), "\(report.findings)")
        #expect(report.has("pickle.mapping-from-object"), "\(report.findings)")
    }

    /// `dict(x)` of an estimator whose `keys` is a plain allowed value: the mapping rule alone.
    @Test func aMappingMadeFromAnEstimatorIsHigh() {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("builtins", "dict")
        p.global("sklearn.preprocessing._data", "StandardScaler")
        p.emptyTuple()
        p.newObj()
        p.tuple1()
        p.reduce()
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("pickle.mapping-from-object", "builtins.dict"), "\(report.findings)")
    }

    /// A partial with a positional argument, or a keyword HistGradientBoosting does not bind (`accept_sparse` lets
    /// sparse input reach scipy's conversions), is high.
    @Test(arguments: [true, false])
    func aPartialBindsNoPositionalAndOnlyHistGradientBoostingsKeywords(_ positional: Bool) {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("functools", "partial")
        p.global("sklearn.utils.validation", "check_array")
        p.tuple1()
        p.reduce()
        p.mark()
        p.global("sklearn.utils.validation", "check_array")
        if positional {
            p.binInt1(1)
            p.tuple1()
            p.none()
        } else {
            p.emptyTuple()
            p.emptyDict()
            p.shortUnicode("accept_sparse")
            p.newTrue()
            p.setItem()
        }
        p.none()
        p.tuple()
        p.build()
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("pickle.partial-state"), "\(report.findings)")
    }
}

/// scipy.stats distributions (what `RandomizedSearchCV` holds as its parameter distributions) run code on load:
/// `rv_generic.__setstate__` calls `exec` on `_parse_arg_template`, text the pickled state carries. A `uniform`
/// whose template starts with `import os; os.system(…)` ran it under `pickle.load`; every scipy.stats global is
/// critical.
@Suite struct ModelScannerScipyStatsTests {
    @Test(arguments: [
        ("scipy.stats._continuous_distns", "uniform_gen"),
        ("scipy.stats._distn_infrastructure", "rv_continuous_frozen"),
        ("scipy.stats._discrete_distns", "poisson_gen"),
    ])
    func aScipyStatsGlobalIsCritical(_ module: String, _ name: String) {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global(module, name)
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("pickle.global.dangerous", "\(module).\(name)"), "\(report.findings)")
    }
}
