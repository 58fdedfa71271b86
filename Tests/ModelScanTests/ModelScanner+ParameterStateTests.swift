import Foundation
import Testing

@testable import ModelScan

/// A torch tensor or `nn.Parameter` carrying a Python attribute (`p.note = 'x'`): torch writes
/// `_rebuild_parameter_with_state(data, requires_grad, OrderedDict(), state)` or `_rebuild_from_type_v2(func, Tensor,
/// args, state)`, whose `state` (a memoised dict) `_set_obj_state` sets key by key with `setattr`. Two readings made
/// them high: the identity the scanner gives a memoised dict counted as a key it cannot read, and the backward hooks
/// (`OrderedDict()`, assigned whole to `param._backward_hooks`) counted as a mapping whose keys are set. The state's
/// own keys, a copy of it changed through the memo, and any other value in the hooks' place stay high.
@Suite struct ModelScannerParameterStateTests {
    /// `p = torch.nn.Parameter(torch.ones(3)); p.note = 'x'; torch.save({'p': p}, f,
    /// _use_new_zipfile_serialization=False)`, torch 2.13.0+cpu.
    static let parameterWithAttribute = [UInt8](
        Data(
            base64Encoded:
                "gAKKCmz8nEb5IGqoUBkugAJN6QMugAJ9cQAoWBAAAABwcm90b2NvbF92ZXJzaW9ucQFN6QNYDQAAAGxpdHRsZV9lbmRpYW5xAohY"
                + "CgAAAHR5cGVfc2l6ZXNxA31xBChYBQAAAHNob3J0cQVLAlgDAAAAaW50cQZLBFgEAAAAbG9uZ3EHSwR1dS6AAn1xAFgBAAAAcHEB"
                + "Y3RvcmNoLl91dGlscwpfcmVidWlsZF9wYXJhbWV0ZXJfd2l0aF9zdGF0ZQpxAihjdG9yY2guX3V0aWxzCl9yZWJ1aWxkX3RlbnNv"
                + "cl92MgpxAygoWAcAAABzdG9yYWdlcQRjdG9yY2gKRmxvYXRTdG9yYWdlCnEFWA4AAAA5NDI1OTc5MjAyNzc2MHEGWAMAAABjcHVx"
                + "B0sDTnRxCFFLAEsDhXEJSwGFcQqJY2NvbGxlY3Rpb25zCk9yZGVyZWREaWN0CnELKVJxDHRxDVJxDohoCylScQ99cRBYBAAAAG5v"
                + "dGVxEVgBAAAAeHESc3RxE1JxFHMugAJdcQBYDgAAADk0MjU5NzkyMDI3NzYwcQFhLgMAAAAAAAAAAACAPwAAgD8AAIA/")!)

    /// `t = torch.ones(2); t.note = 'x'; torch.save({'t': t}, f, _use_new_zipfile_serialization=False)`.
    static let tensorWithAttribute = [UInt8](
        Data(
            base64Encoded:
                "gAKKCmz8nEb5IGqoUBkugAJN6QMugAJ9cQAoWBAAAABwcm90b2NvbF92ZXJzaW9ucQFN6QNYDQAAAGxpdHRsZV9lbmRpYW5xAohY"
                + "CgAAAHR5cGVfc2l6ZXNxA31xBChYBQAAAHNob3J0cQVLAlgDAAAAaW50cQZLBFgEAAAAbG9uZ3EHSwR1dS6AAn1xAFgBAAAAdHEB"
                + "Y3RvcmNoLl90ZW5zb3IKX3JlYnVpbGRfZnJvbV90eXBlX3YyCnECKGN0b3JjaC5fdXRpbHMKX3JlYnVpbGRfdGVuc29yX3YyCnED"
                + "Y3RvcmNoClRlbnNvcgpxBCgoWAcAAABzdG9yYWdlcQVjdG9yY2gKRmxvYXRTdG9yYWdlCnEGWA4AAAA5NDI1OTc5MTcyNzM0NHEH"
                + "WAMAAABjcHVxCEsCTnRxCVFLAEsChXEKSwGFcQuJY2NvbGxlY3Rpb25zCk9yZGVyZWREaWN0CnEMKVJxDXRxDn1xD1gEAAAAbm90"
                + "ZXEQWAEAAAB4cRFzdHESUnETcy6AAl1xAFgOAAAAOTQyNTk3OTE3MjczNDRxAWEuAgAAAAAAAAAAAIA/AACAPw==")!)

    /// ``parameterWithAttribute`` with the state `{'__class__': torch.nn.parameter.Buffer}`: `torch.load` returns
    /// a `Buffer`.
    static let stateSettingTheClass = [UInt8](
        Data(
            base64Encoded:
                "gAKKCmz8nEb5IGqoUBkugAJN6QMugAJ9cQAoWBAAAABwcm90b2NvbF92ZXJzaW9ucQFN6QNYDQAAAGxpdHRsZV9lbmRpYW5xAohY"
                + "CgAAAHR5cGVfc2l6ZXNxA31xBChYBQAAAHNob3J0cQVLAlgDAAAAaW50cQZLBFgEAAAAbG9uZ3EHSwR1dS6AAn1xAFgBAAAAcHEB"
                + "Y3RvcmNoLl91dGlscwpfcmVidWlsZF9wYXJhbWV0ZXJfd2l0aF9zdGF0ZQpxAihjdG9yY2guX3V0aWxzCl9yZWJ1aWxkX3RlbnNv"
                + "cl92MgpxAygoWAcAAABzdG9yYWdlcQRjdG9yY2gKRmxvYXRTdG9yYWdlCnEFWA4AAAA5NDI1OTc5MjAyNzc2MHEGWAMAAABjcHVx"
                + "B0sDTnRxCFFLAEsDhXEJSwGFcQqJY2NvbGxlY3Rpb25zCk9yZGVyZWREaWN0CnELKVJxDHRxDVJxDohoCylScQ99cRBYCQAAAF9f"
                + "Y2xhc3NfX3ERY3RvcmNoLm5uLnBhcmFtZXRlcgpCdWZmZXIKcRJzdHETUnEUcy6AAl1xAFgOAAAAOTQyNTk3OTIwMjc3NjBxAWEu"
                + "AwAAAAAAAAAAAIA/AACAPwAAgD8=")!)

    /// The state memoised empty, then `__class__` set through a `BINGET` copy that is popped: the tuple the call
    /// receives holds the same dict, and `torch.load` returns a `Buffer`.
    static let stateChangedThroughTheMemo = [UInt8](
        Data(
            base64Encoded:
                "gAKKCmz8nEb5IGqoUBkugAJN6QMugAJ9cQAoWBAAAABwcm90b2NvbF92ZXJzaW9ucQFN6QNYDQAAAGxpdHRsZV9lbmRpYW5xAohY"
                + "CgAAAHR5cGVfc2l6ZXNxA31xBChYBQAAAHNob3J0cQVLAlgDAAAAaW50cQZLBFgEAAAAbG9uZ3EHSwR1dS6AAn1xAFgBAAAAcHEB"
                + "Y3RvcmNoLl91dGlscwpfcmVidWlsZF9wYXJhbWV0ZXJfd2l0aF9zdGF0ZQpxAihjdG9yY2guX3V0aWxzCl9yZWJ1aWxkX3RlbnNv"
                + "cl92MgpxAygoWAcAAABzdG9yYWdlcQRjdG9yY2gKRmxvYXRTdG9yYWdlCnEFWA4AAAA5NDI1OTc5MjAyNzc2MHEGWAMAAABjcHVx"
                + "B0sDTnRxCFFLAEsDhXEJSwGFcQqJY2NvbGxlY3Rpb25zCk9yZGVyZWREaWN0CnELKVJxDHRxDVJxDohoCylScQ99cRBoEFgJAAAA"
                + "X19jbGFzc19fcRFjdG9yY2gubm4ucGFyYW1ldGVyCkJ1ZmZlcgpxEnMwdHETUnEUcy6AAl1xAFgOAAAAOTQyNTk3OTIwMjc3NjBx"
                + "AWEuAwAAAAAAAAAAAIA/AACAPwAAgD8=")!)

    /// The state `OrderedDict([('__class__', Buffer)])`, a mapping made by a call: `torch.load` returns a `Buffer`.
    static let stateMadeByACall = [UInt8](
        Data(
            base64Encoded:
                "gAKKCmz8nEb5IGqoUBkugAJN6QMugAJ9cQAoWBAAAABwcm90b2NvbF92ZXJzaW9ucQFN6QNYDQAAAGxpdHRsZV9lbmRpYW5xAohY"
                + "CgAAAHR5cGVfc2l6ZXNxA31xBChYBQAAAHNob3J0cQVLAlgDAAAAaW50cQZLBFgEAAAAbG9uZ3EHSwR1dS6AAn1xAFgBAAAAcHEB"
                + "Y3RvcmNoLl91dGlscwpfcmVidWlsZF9wYXJhbWV0ZXJfd2l0aF9zdGF0ZQpxAihjdG9yY2guX3V0aWxzCl9yZWJ1aWxkX3RlbnNv"
                + "cl92MgpxAygoWAcAAABzdG9yYWdlcQRjdG9yY2gKRmxvYXRTdG9yYWdlCnEFWA4AAAA5NDI1OTc5MjAyNzc2MHEGWAMAAABjcHVx"
                + "B0sDTnRxCFFLAEsDhXEJSwGFcQqJY2NvbGxlY3Rpb25zCk9yZGVyZWREaWN0CnELKVJxDHRxDVJxDohoCylScQ9oCygoWAkAAABf"
                + "X2NsYXNzX19jdG9yY2gubm4ucGFyYW1ldGVyCkJ1ZmZlcgp0bIVSdHETUnEUcy6AAl1xAFgOAAAAOTQyNTk3OTIwMjc3NjBxAWEu"
                + "AwAAAAAAAAAAAIA/AACAPwAAgD8=")!)

    /// The hooks `builtins.dict([('__class__', Buffer)])` instead of `OrderedDict()` (torch assigns them whole, so
    /// the class stays; refused because torch never writes it).
    static let hooksOtherThanAnEmptyOrderedDict = [UInt8](
        Data(
            base64Encoded:
                "gAKKCmz8nEb5IGqoUBkugAJN6QMugAJ9cQAoWBAAAABwcm90b2NvbF92ZXJzaW9ucQFN6QNYDQAAAGxpdHRsZV9lbmRpYW5xAohY"
                + "CgAAAHR5cGVfc2l6ZXNxA31xBChYBQAAAHNob3J0cQVLAlgDAAAAaW50cQZLBFgEAAAAbG9uZ3EHSwR1dS6AAn1xAFgBAAAAcHEB"
                + "Y3RvcmNoLl91dGlscwpfcmVidWlsZF9wYXJhbWV0ZXJfd2l0aF9zdGF0ZQpxAihjdG9yY2guX3V0aWxzCl9yZWJ1aWxkX3RlbnNv"
                + "cl92MgpxAygoWAcAAABzdG9yYWdlcQRjdG9yY2gKRmxvYXRTdG9yYWdlCnEFWA4AAAA5NDI1OTc5MjAyNzc2MHEGWAMAAABjcHVx"
                + "B0sDTnRxCFFLAEsDhXEJSwGFcQqJY2NvbGxlY3Rpb25zCk9yZGVyZWREaWN0CnELKVJxDHRxDVJxDohjYnVpbHRpbnMKZGljdAoo"
                + "KFgJAAAAX19jbGFzc19fY3RvcmNoLm5uLnBhcmFtZXRlcgpCdWZmZXIKdGyFUnEPfXEQWAQAAABub3RlcRFYAQAAAHhxEnN0cRNS"
                + "cRRzLoACXXEAWA4AAAA5NDI1OTc5MjAyNzc2MHEBYS4DAAAAAAAAAAAAgD8AAIA/AACAPw==")!)

    @Test func aParameterOrTensorWithAnAttributePasses() {
        for (name, bytes) in [("parameter", Self.parameterWithAttribute), ("tensor", Self.tensorWithAttribute)] {
            let report = ModelScanner().scan(bytes: bytes, name: "model.pt")
            #expect(report.formats.contains("pytorch-legacy"), "\(name): \(report.formats)")
            #expect(report.refused(by: .default).isEmpty, "\(name): \(report.findings)")
        }
    }

    @Test func aStateThatSetsTheClassIsHigh() {
        for (name, bytes) in [
            ("literal", Self.stateSettingTheClass), ("changed through the memo", Self.stateChangedThroughTheMemo),
            ("made by a call", Self.stateMadeByACall),
        ] {
            let report = ModelScanner().scan(bytes: bytes, name: "model.pt")
            #expect(report.isRefusedByDefault, "\(name): \(report.findings)")
            #expect(
                report.has("pickle.build-class", "_rebuild_parameter_with_state")
                    || report.has("pickle.build-opaque-state", "_rebuild_parameter_with_state"),
                "\(name): \(report.findings)")
        }
    }

    @Test func hooksOtherThanAnEmptyOrderedDictAreHigh() {
        let report = ModelScanner().scan(bytes: Self.hooksOtherThanAnEmptyOrderedDict, name: "model.pt")
        #expect(report.has("pickle.build-class", "_rebuild_parameter_with_state"), "\(report.findings)")
    }

    /// A `BUILD` slot state that is a memoised dict is read by its keys: `__class__` there, or set through a `BINGET`
    /// copy, is high (both turn a `MethodMapping` into a `MetadataRouter` under `pickle.load`).
    @Test func aMemoisedSlotStateIsReadByItsKeys() {
        let literal = [UInt8](
            Data(
                base64Encoded:
                    "gAJjc2tsZWFybi51dGlscy5fbWV0YWRhdGFfcmVxdWVzdHMKTWV0aG9kTWFwcGluZwopUnEATn1xAVgJAAAAX19jbGFzc19f"
                    + "Y3NrbGVhcm4udXRpbHMuX21ldGFkYXRhX3JlcXVlc3RzCk1ldGFkYXRhUm91dGVyCnOGYi4=")!)
        let changedThroughTheMemo = [UInt8](
            Data(
                base64Encoded:
                    "gAJjc2tsZWFybi51dGlscy5fbWV0YWRhdGFfcmVxdWVzdHMKTWV0aG9kTWFwcGluZwopUnEATn1xAWgBWAkAAABfX2NsYXNz"
                    + "X19jc2tsZWFybi51dGlscy5fbWV0YWRhdGFfcmVxdWVzdHMKTWV0YWRhdGFSb3V0ZXIKczCGYi4=")!)
        for bytes in [literal, changedThroughTheMemo] {
            let report = ModelScanner().scan(bytes: bytes, name: "model.pkl")
            #expect(report.has("pickle.build-class"), "\(report.findings)")
        }
    }
}
