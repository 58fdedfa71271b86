import Foundation
import Testing

@testable import ModelScan

/// Scanner review 35: an import of an uncommon module in the `pickle.load` reading of joblib array bytes was medium
/// and ended that reading, on the premise that the import fails on an ordinary machine; `functorch` (installed by
/// the torch wheel), `isympy` (by sympy) and `decorator` are importable here, and the `os.system` after the import
/// went unread (0 high findings; `pickle.load`, `numpy.load` and `torch.load` ran it). And `numpy.matrix` dumps were
/// refused.
@Suite struct ModelScannerReview35AttackTests {
    /// The reviewer's `evil3.joblib`: `joblib.dump({"weights": uint8 array})` to a non-seekable stream (no padding),
    /// the array bytes `GLOBAL functorch vmap; POP; os.system('touch /tmp/rev35/pwned-functorch')`.
    static let importThenSystem = [UInt8](
        Data(
            base64Encoded:
                "gASV3AAAAAAAAAB9lIwHd2VpZ2h0c5SME2pvYmxpYi5udW1weV9waWNrbGWUjBFOdW1weUFycmF5V3JhcHBlcpSTlCmBlH2UKIwI"
                + "c3ViY2xhc3OUjAVudW1weZSMB25kYXJyYXmUk5SMBXNoYXBllEtChZSMBW9yZGVylIwBQ5SMBWR0eXBllGgIjAVkdHlwZZSTlIwC"
                + "dTGUiYiHlFKUKEsDjAF8lE5OTkr/////Sv////9LAHSUYowKYWxsb3dfbW1hcJSIjBtudW1weV9hcnJheV9hbGlnbm1lbnRfYnl0"
                + "ZXOUTnViY2Z1bmN0b3JjaAp2bWFwCjBjb3MKc3lzdGVtCihWdG91Y2ggL3RtcC9yZXYzNS9wd25lZC1mdW5jdG9yY2gKdFIwcy4="
        )!)

    /// The reviewer's `evil4.pt`: a `torch.save` zip whose `data.pkl` is that joblib pickle (`torch.load` runs it).
    static let importThenSystemInATorchZip = [UInt8](
        Data(
            base64Encoded:
                "UEsDBAAAAAAAAAAAAACa4gLNKwEAACsBAAAOAAAAYmFzZTQvZGF0YS5wa2yABJXcAAAAAAAAAH2UjAd3ZWlnaHRzlIwTam9ibGli"
                + "Lm51bXB5X3BpY2tsZZSMEU51bXB5QXJyYXlXcmFwcGVylJOUKYGUfZQojAhzdWJjbGFzc5SMBW51bXB5lIwHbmRhcnJheZSTlIwF"
                + "c2hhcGWUS0KFlIwFb3JkZXKUjAFDlIwFZHR5cGWUaAiMBWR0eXBllJOUjAJ1MZSJiIeUUpQoSwOMAXyUTk5OSv////9K/////0sA"
                + "dJRijAphbGxvd19tbWFwlIiMG251bXB5X2FycmF5X2FsaWdubWVudF9ieXRlc5ROdWJjZnVuY3RvcmNoCnZtYXAKMGNvcwpzeXN0"
                + "ZW0KKFZ0b3VjaCAvdG1wL3JldjM1L3B3bmVkLWZ1bmN0b3JjaAp0UjBzLlBLAwQAAAAAAAAAAAAAt+/cgwEAAAABAAAAFQAAAGJh"
                + "c2U0Ly5mb3JtYXRfdmVyc2lvbjFQSwMEAAAAAAAAAAAAAD93cekCAAAAAgAAABgAAABiYXNlNC8uc3RvcmFnZV9hbGlnbm1lbnQ2"
                + "NFBLAwQAAAAAAAAAAAAAhT3jGQYAAAAGAAAADwAAAGJhc2U0L2J5dGVvcmRlcmxpdHRsZVBLAwQAAAAAAAAAAAAAad8iZQgAAAAI"
                + "AAAADAAAAGJhc2U0L2RhdGEvMAAAAAAAAAAAUEsDBAAAAAAAAAAAAADRnmdVAgAAAAIAAAANAAAAYmFzZTQvdmVyc2lvbjMKUEsD"
                + "BAAAAAAAAAAAAABNUZsnKAAAACgAAAAcAAAAYmFzZTQvLmRhdGEvc2VyaWFsaXphdGlvbl9pZDE1NzI4MTk5NTExODU0NjQzMDI2"
                + "MDUzODUzMzk4OTI5Njg3NzQwOThQSwECAAAAAAAAAAAAAAAAmuICzSsBAAArAQAADgAAAAAAAAAAAAAAgAEAAAAAYmFzZTQvZGF0"
                + "YS5wa2xQSwECAAAAAAAAAAAAAAAAt+/cgwEAAAABAAAAFQAAAAAAAAAAAAAAgAFXAQAAYmFzZTQvLmZvcm1hdF92ZXJzaW9uUEsB"
                + "AgAAAAAAAAAAAAAAAD93cekCAAAAAgAAABgAAAAAAAAAAAAAAIABiwEAAGJhc2U0Ly5zdG9yYWdlX2FsaWdubWVudFBLAQIAAAAA"
                + "AAAAAAAAAACFPeMZBgAAAAYAAAAPAAAAAAAAAAAAAACAAcMBAABiYXNlNC9ieXRlb3JkZXJQSwECAAAAAAAAAAAAAAAAad8iZQgA"
                + "AAAIAAAADAAAAAAAAAAAAAAAgAH2AQAAYmFzZTQvZGF0YS8wUEsBAgAAAAAAAAAAAAAAANGeZ1UCAAAAAgAAAA0AAAAAAAAAAAAA"
                + "AIABKAIAAGJhc2U0L3ZlcnNpb25QSwECAAAAAAAAAAAAAAAATVGbJygAAAAoAAAAHAAAAAAAAAAAAAAAgAFVAgAAYmFzZTQvLmRh"
                + "dGEvc2VyaWFsaXphdGlvbl9pZFBLBQYAAAAABwAHAMEBAAC3AgAAAAA=")!)

    @Test func aCallAfterAnUncommonImportInArrayBytesIsStillCritical() {
        for (name, bytes) in [
            ("model.joblib", Self.importThenSystem), ("model.pt", Self.importThenSystemInATorchZip),
        ] {
            let report = ModelScanner().scan(bytes: bytes, name: name)
            #expect(report.has("pickle.global.dangerous", "os.system"), "\(name): \(report.findings)")
            #expect(report.isRefusedByDefault, "\(name)")
        }
    }

    /// Only `dtype` (what numpy's nested pickle imports) is medium: any other name from an uncommon module, such as
    /// an installed package's entry point, is high.
    @Test(arguments: [("functorch", "vmap"), ("isympy", "main"), ("decorator", "decorate"), ("nosuchmodule", "x")])
    func anUncommonModulesOtherNamesAreHigh(_ module: String, _ name: String) {
        let report = ModelScanner().scan(
            bytes: ModelScannerUncommonModuleTests.importInArrayBytes(module, name), name: "model.joblib")
        #expect(report.has("pickle.global.unknown", "\(module).\(name)"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// `pickle.dumps(np.matrix([[1, 2], [3, 4]]), protocol=2)`: `_reconstruct(numpy.matrix, …)` and its state.
    @Test func aNumpyMatrixPasses() {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("numpy._core.multiarray", "_reconstruct")
        p.global("numpy", "matrix")
        p.raw([0x4B, 0x00, 0x85])  // BININT1 0, TUPLE1
        p.raw([0x43, 0x01, 0x62])  // SHORT_BINBYTES b'b'
        p.raw([0x87, 0x52])  // TUPLE3, REDUCE
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.findings.isEmpty, "\(report.findings)")
    }
}
