import Foundation
import Testing

@testable import ModelScan

/// The bypass of the thirtieth adversarial review of the scanner (2026-12-05): `_rebuild_from_type_v2(numpy.object_,
/// C, (x,), state)` returned `x.as_subclass(C)`, where `x` was a fresh scaler whose BUILD state set `as_subclass` to
/// `numpy.object_`, so the call handed back the imported class `C` and torch's `_set_obj_state` set its attributes
/// (`_PassthroughScorer.__init__` became a chain of scorers that reached `eval`). 0 findings before; the payload ran
/// `touch /nonexistent/review30-1` under `pickle.load`, `joblib.load`, `torch.load` and `numpy.load`.
@Suite struct ModelScannerReview30AttackTests {
    static let scorerChain = [UInt8](
        Data(
            base64Encoded:
                "gAJjdG9yY2guX3RlbnNvcgpfcmVidWlsZF9mcm9tX3R5cGVfdjIKKGNudW1weQpvYmplY3RfCmNza2xlYXJuLnByZXByb2Nlc3Np"
                + "bmcuX2RhdGEKU3RhbmRhcmRTY2FsZXIKKGNza2xlYXJuLnByZXByb2Nlc3NpbmcuX2RhdGEKTWluTWF4U2NhbGVyCih0Un0oWAsA"
                + "AABhc19zdWJjbGFzc2NudW1weQpvYmplY3RfCnVidH0oWA4AAABlc3RpbWF0b3JfdHlwZVgEAAAAbm9uZXV0UjBjdG9yY2guX3Rl"
                + "bnNvcgpfcmVidWlsZF9mcm9tX3R5cGVfdjIKKGNudW1weQpvYmplY3RfCmNjb3B5cmVnCl9yZWNvbnN0cnVjdG9yCihjc2tsZWFy"
                + "bi5wcmVwcm9jZXNzaW5nLl9kYXRhClN0YW5kYXJkU2NhbGVyCih0Un0oWAsAAABhc19zdWJjbGFzc2NudW1weQpvYmplY3RfCnVi"
                + "dH0oWBAAAABfX3NrbGVhcm5fdGFnc19fY3NrbGVhcm4ucHJlcHJvY2Vzc2luZy5fZGF0YQpTdGFuZGFyZFNjYWxlcgp1dFIwY3Nr"
                + "bGVhcm4udXRpbHMuX2J1bmNoCkJ1bmNoCih0UihYEAAAAF9fc2tsZWFybl90YWdzX19jc2tsZWFybi5wcmVwcm9jZXNzaW5nLl9k"
                + "YXRhClN0YW5kYXJkU2NhbGVyCnVxATBjdG9yY2guX3RlbnNvcgpfcmVidWlsZF9mcm9tX3R5cGVfdjIKKGNudW1weQpvYmplY3Rf"
                + "CmNza2xlYXJuLm1ldHJpY3MuX3Njb3JlcgpfUGFzc3Rocm91Z2hTY29yZXIKKGNza2xlYXJuLnByZXByb2Nlc3NpbmcuX2RhdGEK"
                + "TWluTWF4U2NhbGVyCih0Un0oWAsAAABhc19zdWJjbGFzc2NudW1weQpvYmplY3RfCnVidH0oWAgAAABfX2luaXRfX2Nza2xlYXJu"
                + "Lm1ldHJpY3MuX3Njb3JlcgpfU2NvcmVyCihjc2tsZWFybi5tZXRyaWNzLl9zY29yZXIKX1Njb3JlcgooY3NrbGVhcm4ubWV0cmlj"
                + "cy5fc2NvcmVyCl9TY29yZXIKKGNza2xlYXJuLm1ldHJpY3MuX3Njb3JlcgpfU2NvcmVyCihjY29weXJlZwpfcmVjb25zdHJ1Y3Rv"
                + "cgpLAX1YBAAAAGV2YWx0UksBfShYBgAAAHlfdHJ1ZUsAdVgDAAAAZ2V0dFJLAX0oWAYAAAB5X3RydWVoAXVYBgAAAHVwZGF0ZXRS"
                + "SwF9KFgGAAAAeV90cnVlY3NrbGVhcm4udXRpbHMuX2J1bmNoCkJ1bmNoCih0UihOWDgAAABfX2ltcG9ydF9fKCdvcycpLnN5c3Rl"
                + "bSgndG91Y2ggL25vbmV4aXN0ZW50L3JldmlldzMwLTEnKVgQAAAAX19za2xlYXJuX3RhZ3NfX2Nza2xlYXJuLnByZXByb2Nlc3Np"
                + "bmcuX2RhdGEKU3RhbmRhcmRTY2FsZXIKdXVYEAAAAF9fZ2V0YXR0cmlidXRlX190UnV0UjBjc2tsZWFybi5tZXRyaWNzLl9zY29y"
                + "ZXIKX1Bhc3N0aHJvdWdoU2NvcmVyCihjY29weXJlZwpfcmVjb25zdHJ1Y3RvcgpYDAAAAF9fYnVpbHRpbnNfX2gBdFIu"
        )!)

    @Test func torchsRebuildsMayOnlyCallTorchsTensorRebuilds() {
        let report = ModelScanner().scan(bytes: Self.scorerChain, name: "model.pkl")
        #expect(report.has("joblib.wrapper-indirect"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }
}
