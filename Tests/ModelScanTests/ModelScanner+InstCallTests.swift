import Foundation
import Testing

@testable import ModelScan

/// `INST` calls its class or function with the arguments above its mark, as `REDUCE` does (`klass(*args)` in the
/// unpicklers' `_instantiate`), but the scanner made its value without the checks every other call goes through: the
/// argument callers (review 30's fix), instance makers of computed classes (review 17), joblib's wrapper handed on
/// (review 8), array coercion (review 39) and mappings whose keys are attributes (review 37). Review 30's scorer chain
/// with its three torch rebuilds written as `INST` passed (0 high findings) and ran `os.system` under `pickle.load`.
@Suite struct ModelScannerInstCallTests {
    /// Review 30's file with each `GLOBAL torch._tensor _rebuild_from_type_v2 … TUPLE REDUCE` rewritten as
    /// `MARK … INST torch._tensor _rebuild_from_type_v2` (its command touches `/tmp/inst-proof-rev-41a`).
    static let scorerChainByInst = [UInt8](
        Data(
            base64Encoded:
                "gAIoY251bXB5Cm9iamVjdF8KY3NrbGVhcm4ucHJlcHJvY2Vzc2luZy5fZGF0YQpTdGFuZGFyZFNjYWxlcgooY3NrbGVhcm4ucHJl"
                + "cHJvY2Vzc2luZy5fZGF0YQpNaW5NYXhTY2FsZXIKKHRSfShYCwAAAGFzX3N1YmNsYXNzY251bXB5Cm9iamVjdF8KdWJ0fShYDgAA"
                + "AGVzdGltYXRvcl90eXBlWAQAAABub25ldWl0b3JjaC5fdGVuc29yCl9yZWJ1aWxkX2Zyb21fdHlwZV92MgowKGNudW1weQpvYmpl"
                + "Y3RfCmNjb3B5cmVnCl9yZWNvbnN0cnVjdG9yCihjc2tsZWFybi5wcmVwcm9jZXNzaW5nLl9kYXRhClN0YW5kYXJkU2NhbGVyCih0"
                + "Un0oWAsAAABhc19zdWJjbGFzc2NudW1weQpvYmplY3RfCnVidH0oWBAAAABfX3NrbGVhcm5fdGFnc19fY3NrbGVhcm4ucHJlcHJv"
                + "Y2Vzc2luZy5fZGF0YQpTdGFuZGFyZFNjYWxlcgp1aXRvcmNoLl90ZW5zb3IKX3JlYnVpbGRfZnJvbV90eXBlX3YyCjBjc2tsZWFy"
                + "bi51dGlscy5fYnVuY2gKQnVuY2gKKHRSKFgQAAAAX19za2xlYXJuX3RhZ3NfX2Nza2xlYXJuLnByZXByb2Nlc3NpbmcuX2RhdGEK"
                + "U3RhbmRhcmRTY2FsZXIKdXEBMChjbnVtcHkKb2JqZWN0Xwpjc2tsZWFybi5tZXRyaWNzLl9zY29yZXIKX1Bhc3N0aHJvdWdoU2Nv"
                + "cmVyCihjc2tsZWFybi5wcmVwcm9jZXNzaW5nLl9kYXRhCk1pbk1heFNjYWxlcgoodFJ9KFgLAAAAYXNfc3ViY2xhc3NjbnVtcHkK"
                + "b2JqZWN0Xwp1YnR9KFgIAAAAX19pbml0X19jc2tsZWFybi5tZXRyaWNzLl9zY29yZXIKX1Njb3JlcgooY3NrbGVhcm4ubWV0cmlj"
                + "cy5fc2NvcmVyCl9TY29yZXIKKGNza2xlYXJuLm1ldHJpY3MuX3Njb3JlcgpfU2NvcmVyCihjc2tsZWFybi5tZXRyaWNzLl9zY29y"
                + "ZXIKX1Njb3JlcgooY2NvcHlyZWcKX3JlY29uc3RydWN0b3IKSwF9WAQAAABldmFsdFJLAX0oWAYAAAB5X3RydWVLAHVYAwAAAGdl"
                + "dHRSSwF9KFgGAAAAeV90cnVlaAF1WAYAAAB1cGRhdGV0UksBfShYBgAAAHlfdHJ1ZWNza2xlYXJuLnV0aWxzLl9idW5jaApCdW5j"
                + "aAoodFIoTlg4AAAAX19pbXBvcnRfXygnb3MnKS5zeXN0ZW0oJ3RvdWNoIC90bXAvaW5zdC1wcm9vZi1yZXYtNDFhJylYEAAAAF9f"
                + "c2tsZWFybl90YWdzX19jc2tsZWFybi5wcmVwcm9jZXNzaW5nLl9kYXRhClN0YW5kYXJkU2NhbGVyCnV1WBAAAABfX2dldGF0dHJp"
                + "YnV0ZV9fdFJ1aXRvcmNoLl90ZW5zb3IKX3JlYnVpbGRfZnJvbV90eXBlX3YyCjBjc2tsZWFybi5tZXRyaWNzLl9zY29yZXIKX1Bh"
                + "c3N0aHJvdWdoU2NvcmVyCihjY29weXJlZwpfcmVjb25zdHJ1Y3RvcgpYDAAAAF9fYnVpbHRpbnNfX2gBdFIu"
        )!)

    @Test func reviewThirtysChainWrittenWithInstIsRefused() {
        let report = ModelScanner().scan(bytes: Self.scorerChainByInst, name: "model.pkl")
        #expect(report.has("joblib.wrapper-indirect"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    @Test func aReductionCalledByInstIsHigh() {
        var p = PickleAssembler()
        p.mark()
        p.binInt1(1)
        p.inst("numpy", "mean")
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("pickle.call-array-coercion", "numpy.mean"), "\(report.findings)")
    }

    @Test func anInstanceMakerGivenAComputedClassByInstIsHigh() {
        var p = PickleAssembler()
        p.mark()
        p.global("builtins", "dict")
        p.emptyTuple()
        p.reduce()
        p.inst("sklearn.neighbors._kd_tree", "newObj")
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("joblib.wrapper-indirect", "sklearn.neighbors._kd_tree.newObj"), "\(report.findings)")
    }

    @Test func anInstOfAnAllowedClassStillPasses() {
        var p = PickleAssembler()
        p.mark()
        p.inst("collections", "OrderedDict")
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(!report.isRefusedByDefault, "\(report.findings)")
    }
}
