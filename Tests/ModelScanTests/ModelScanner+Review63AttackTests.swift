import Foundation
import Testing

@testable import ModelScan

/// Scanner review 63. (1) The depth bound of review 62 counted each memo key's depth when it was written, so deques and
/// numpy object arrays memoised empty and filled later through a memo read nested 60,000 levels deep as 5, and freeing
/// the loaded object (neither type is freed under CPython's trashcan guard) killed all four loaders with SIGSEGV. A fill
/// or `BUILD` through a second reference now adds its item's depth to a running total (`pickle.deep-nesting`). (2)
/// scikit-learn's `Tree.__setstate__` keeps `node_count` as given and clamps it to the node array only while the tree
/// has no nodes yet: a fitted tree whose state says -1 crashed on `feature_importances_` under all four loaders
/// (`sklearn.tree-state`).
@Suite struct ModelScannerReview63AttackTests {
    /// The reviewer's `gen_mixed.py`: a deque holding a numpy object array holding a fresh deque, memoised empty and
    /// filled on the next level through `LONG_BINGET`, `levels` deep.
    static func mixedChain(levels: Int) -> [UInt8] {
        func put(_ key: UInt32) -> [UInt8] { [0x72] + withUnsafeBytes(of: key.littleEndian) { Array($0) } }
        func get(_ key: UInt32) -> [UInt8] { [0x6A] + withUnsafeBytes(of: key.littleEndian) { Array($0) } }
        var bytes: [UInt8] = [0x80, 0x04]
        bytes += Array("ccollections\ndeque\n".utf8) + put(0)
        bytes += Array("cnumpy._core.multiarray\n_reconstruct\n".utf8) + put(1)
        bytes += Array("cnumpy\nndarray\n".utf8) + put(2)
        bytes += Array("cnumpy\ndtype\n".utf8) + [0x8C, 0x02] + Array("O8".utf8) + [0x89, 0x88, 0x87, 0x52]
        bytes += [0x28, 0x4B, 0x03, 0x8C, 0x01, 0x7C, 0x4E, 0x4E, 0x4E, 0x4A, 0xFF, 0xFF, 0xFF, 0xFF, 0x4A]
        bytes += [0xFF, 0xFF, 0xFF, 0xFF, 0x4B, 0x3F, 0x74, 0x62] + put(3) + [0x30]
        bytes += [0x4B, 0x01, 0x85] + put(4) + [0x30]
        bytes += [0x4B, 0x00, 0x85] + put(5) + [0x30]
        bytes += [0x43, 0x01, 0x62] + put(6) + [0x30]
        var key: UInt32 = 100
        bytes += get(0) + [0x29, 0x52] + put(key)
        for _ in 0..<levels {
            bytes += get(key) + get(1) + get(2) + get(5) + get(6) + [0x87, 0x52]
            bytes += [0x28, 0x4B, 0x01] + get(4) + get(3) + [0x89]
            bytes += [0x5D] + get(0) + [0x29, 0x52] + put(key + 1) + [0x61]
            bytes += [0x74, 0x62, 0x61, 0x30]
            key += 1
        }
        return bytes + [0x2E]
    }

    @Test func aChainFilledThroughTheMemoIsRefused() {
        let report = ModelScanner().scan(bytes: Self.mixedChain(levels: 300), name: "mixed.pkl")
        #expect(report.findings.contains { $0.rule == "pickle.deep-nesting" }, "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// Control: a few such levels (a real object array of deques, filled once) pass.
    @Test func aShallowChainFilledThroughTheMemoPasses() {
        let report = ModelScanner().scan(bytes: Self.mixedChain(levels: 3), name: "mixed3.pkl")
        #expect(!report.findings.contains { $0.rule == "pickle.deep-nesting" }, "\(report.findings)")
    }

    /// The reviewer's `gen_tree.py 3`: a fitted `DecisionTreeClassifier` on four points (protocol 4), untouched.
    static let tree = [UInt8](
        Data(
            base64Encoded:
                "gASVVwUAAAAAAACMFXNrbGVhcm4udHJlZS5fY2xhc3Nlc5SMFkRlY2lzaW9uVHJlZUNsYXNzaWZpZXKUk5QpgZR9lCiMCWNyaXRl"
                + "cmlvbpSMBGdpbmmUjAhzcGxpdHRlcpSMBGJlc3SUjAltYXhfZGVwdGiUTowRbWluX3NhbXBsZXNfc3BsaXSUSwKMEG1pbl9zYW1w"
                + "bGVzX2xlYWaUSwGMGG1pbl93ZWlnaHRfZnJhY3Rpb25fbGVhZpRHAAAAAAAAAACMDG1heF9mZWF0dXJlc5ROjA5tYXhfbGVhZl9u"
                + "b2Rlc5ROjAxyYW5kb21fc3RhdGWUSwCMFW1pbl9pbXB1cml0eV9kZWNyZWFzZZRHAAAAAAAAAACMDGNsYXNzX3dlaWdodJROjAlj"
                + "Y3BfYWxwaGGURwAAAAAAAAAAjA1tb25vdG9uaWNfY3N0lE6MDm5fZmVhdHVyZXNfaW5flEsBjApuX291dHB1dHNflEsBjAhjbGFz"
                + "c2VzX5SMFm51bXB5Ll9jb3JlLm11bHRpYXJyYXmUjAxfcmVjb25zdHJ1Y3SUk5SMBW51bXB5lIwHbmRhcnJheZSTlEsAhZRDAWKU"
                + "h5RSlChLAUsChZRoGowFZHR5cGWUk5SMAmk4lImIh5RSlChLA4wBPJROTk5K/////0r/////SwB0lGKJQxAAAAAAAAAAAAEAAAAA"
                + "AAAAlHSUYowKbl9jbGFzc2VzX5RoF4wGc2NhbGFylJOUaCZDCAIAAAAAAAAAlIaUUpSMDW1heF9mZWF0dXJlc1+USwGMBXRyZWVf"
                + "lIwSc2tsZWFybi50cmVlLl90cmVllIwEVHJlZZSTlEsBaBloHEsAhZRoHoeUUpQoSwFLAYWUaCaJQwgCAAAAAAAAAJR0lGJLAYeU"
                + "UpR9lChoCUsBjApub2RlX2NvdW50lEsDjAVub2Rlc5RoGWgcSwCFlGgeh5RSlChLAUsDhZRoI4wDVjY0lImIh5RSlChLA4wBfJRO"
                + "KIwKbGVmdF9jaGlsZJSMC3JpZ2h0X2NoaWxklIwHZmVhdHVyZZSMCXRocmVzaG9sZJSMCGltcHVyaXR5lIwObl9ub2RlX3NhbXBs"
                + "ZXOUjBd3ZWlnaHRlZF9uX25vZGVfc2FtcGxlc5SMEm1pc3NpbmdfZ29fdG9fbGVmdJR0lH2UKGhJaCOMAmk4lImIh5RSlChLA2gn"
                + "Tk5OSv////9K/////0sAdJRiSwCGlGhKaFVLCIaUaEtoVUsQhpRoTGgjjAJmOJSJiIeUUpQoSwNoJ05OTkr/////Sv////9LAHSU"
                + "YksYhpRoTWhcSyCGlGhOaFVLKIaUaE9oXEswhpRoUGgjjAJ1MZSJiIeUUpQoSwNoSE5OTkr/////Sv////9LAHSUYks4hpR1S0BL"
                + "AUsQdJRiiUPAAQAAAAAAAAACAAAAAAAAAAAAAAAAAAAAAAAAAAAA+D8AAAAAAADgPwQAAAAAAAAAAAAAAAAAEEAAAAAAAAAAAP//"
                + "///////////////////+/////////wAAAAAAAADAAAAAAAAAAAACAAAAAAAAAAAAAAAAAABAAAAAAAAAAAD/////////////////"
                + "/////v////////8AAAAAAAAAwAAAAAAAAAAAAgAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAlHSUYowGdmFsdWVzlGgZaBxLAIWUaB6H"
                + "lFKUKEsBSwNLAUsCh5RoXIlDMAAAAAAAAOA/AAAAAAAA4D8AAAAAAADwPwAAAAAAAAAAAAAAAAAAAAAAAAAAAADwP5R0lGJ1YowQ"
                + "X3NrbGVhcm5fdmVyc2lvbpSMBTEuOS4xlHViLg=="
        )!)

    /// `gen_tree.py -1`: the same tree with its state's `node_count` set to -1.
    static let negativeTree = [UInt8](
        Data(
            base64Encoded:
                "gASVWgUAAAAAAACMFXNrbGVhcm4udHJlZS5fY2xhc3Nlc5SMFkRlY2lzaW9uVHJlZUNsYXNzaWZpZXKUk5QpgZR9lCiMCWNyaXRl"
                + "cmlvbpSMBGdpbmmUjAhzcGxpdHRlcpSMBGJlc3SUjAltYXhfZGVwdGiUTowRbWluX3NhbXBsZXNfc3BsaXSUSwKMEG1pbl9zYW1w"
                + "bGVzX2xlYWaUSwGMGG1pbl93ZWlnaHRfZnJhY3Rpb25fbGVhZpRHAAAAAAAAAACMDG1heF9mZWF0dXJlc5ROjA5tYXhfbGVhZl9u"
                + "b2Rlc5ROjAxyYW5kb21fc3RhdGWUSwCMFW1pbl9pbXB1cml0eV9kZWNyZWFzZZRHAAAAAAAAAACMDGNsYXNzX3dlaWdodJROjAlj"
                + "Y3BfYWxwaGGURwAAAAAAAAAAjA1tb25vdG9uaWNfY3N0lE6MDm5fZmVhdHVyZXNfaW5flEsBjApuX291dHB1dHNflEsBjAhjbGFz"
                + "c2VzX5SMFm51bXB5Ll9jb3JlLm11bHRpYXJyYXmUjAxfcmVjb25zdHJ1Y3SUk5SMBW51bXB5lIwHbmRhcnJheZSTlEsAhZRDAWKU"
                + "h5RSlChLAUsChZRoGowFZHR5cGWUk5SMAmk4lImIh5RSlChLA4wBPJROTk5K/////0r/////SwB0lGKJQxAAAAAAAAAAAAEAAAAA"
                + "AAAAlHSUYowKbl9jbGFzc2VzX5RoF4wGc2NhbGFylJOUaCZDCAIAAAAAAAAAlIaUUpSMDW1heF9mZWF0dXJlc1+USwGMBXRyZWVf"
                + "lIwSc2tsZWFybi50cmVlLl90cmVllIwEVHJlZZSTlEsBaBloHEsAhZRoHoeUUpQoSwFLAYWUaCaJQwgCAAAAAAAAAJR0lGJLAYeU"
                + "UpR9lChoCUsBjApub2RlX2NvdW50lEr/////jAVub2Rlc5RoGWgcSwCFlGgeh5RSlChLAUsDhZRoI4wDVjY0lImIh5RSlChLA4wB"
                + "fJROKIwKbGVmdF9jaGlsZJSMC3JpZ2h0X2NoaWxklIwHZmVhdHVyZZSMCXRocmVzaG9sZJSMCGltcHVyaXR5lIwObl9ub2RlX3Nh"
                + "bXBsZXOUjBd3ZWlnaHRlZF9uX25vZGVfc2FtcGxlc5SMEm1pc3NpbmdfZ29fdG9fbGVmdJR0lH2UKGhJaCOMAmk4lImIh5RSlChL"
                + "A2gnTk5OSv////9K/////0sAdJRiSwCGlGhKaFVLCIaUaEtoVUsQhpRoTGgjjAJmOJSJiIeUUpQoSwNoJ05OTkr/////Sv////9L"
                + "AHSUYksYhpRoTWhcSyCGlGhOaFVLKIaUaE9oXEswhpRoUGgjjAJ1MZSJiIeUUpQoSwNoSE5OTkr/////Sv////9LAHSUYks4hpR1"
                + "S0BLAUsQdJRiiUPAAQAAAAAAAAACAAAAAAAAAAAAAAAAAAAAAAAAAAAA+D8AAAAAAADgPwQAAAAAAAAAAAAAAAAAEEAAAAAAAAAA"
                + "AP/////////////////////+/////////wAAAAAAAADAAAAAAAAAAAACAAAAAAAAAAAAAAAAAABAAAAAAAAAAAD/////////////"
                + "/////////v////////8AAAAAAAAAwAAAAAAAAAAAAgAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAlHSUYowGdmFsdWVzlGgZaBxLAIWU"
                + "aB6HlFKUKEsBSwNLAUsCh5RoXIlDMAAAAAAAAOA/AAAAAAAA4D8AAAAAAADwPwAAAAAAAAAAAAAAAAAAAAAAAAAAAADwP5R0lGJ1"
                + "YowQX3NrbGVhcm5fdmVyc2lvbpSMBTEuOS4xlHViLg=="
        )!)

    @Test func aTreeWithANegativeNodeCountIsRefusedAndTheFittedOnePasses() {
        let refused = scan(Self.negativeTree)
        #expect(refused.has("sklearn.tree-state", "sklearn.tree._tree.Tree"), "\(refused.findings)")
        #expect(refused.isRefusedByDefault)
        let fitted = scan(Self.tree)
        #expect(!fitted.isRefusedByDefault, "\(fitted.findings)")
        #expect(!fitted.has("sklearn.tree-state"))
    }

    /// A second state, or one applied through a memo read, skips the clamp: any `node_count` then stands.
    @Test func aSecondTreeStateIsRefused() {
        #expect(PickleInterpreter.treeStateProblem(.dict([(.string("node_count"), .int(3))]), flags: []) == nil)
        #expect(PickleInterpreter.treeStateProblem(.dict([(.string("node_count"), .int(3))]), flags: .built) != nil)
        #expect(
            PickleInterpreter.treeStateProblem(.dict([(.string("node_count"), .int(3))]), flags: .secondReference)
                != nil)
        #expect(PickleInterpreter.treeStateProblem(.dict([(.string("node_count"), .int(-1))]), flags: []) != nil)
        #expect(PickleInterpreter.treeStateProblem(.unknown, flags: []) != nil)
        var twice = PickleAssembler(protocol: 4)
        twice.global("sklearn.tree._tree", "Tree")
        twice.binInt1(1)
        twice.binInt1(1)
        twice.binInt1(1)
        twice.tuple3()
        twice.reduce()
        for count: UInt8 in [1, 200] {
            twice.emptyDict()
            twice.shortUnicode("node_count")
            twice.binInt1(count)
            twice.setItem()
            twice.build()
        }
        twice.stop()
        let report = scan(twice.bytes)
        #expect(report.has("sklearn.tree-state", "sklearn.tree._tree.Tree"), "\(report.findings)")
    }

    /// t-SNE's `_QuadTree` keeps `cell_count` unchecked; fitted models never hold one.
    @Test func makingAQuadTreeIsRefused() {
        var maker = PickleAssembler(protocol: 4)
        maker.global("sklearn.neighbors._quad_tree", "_QuadTree")
        maker.binInt1(2)
        maker.binInt1(0)
        maker.tuple2()
        maker.reduce()
        maker.stop()
        #expect(scan(maker.bytes).has("sklearn.fit-time-class", "sklearn.neighbors._quad_tree._QuadTree"))
    }

    /// Scanner review 64: the same negative `node_count` with the class imported as `sklearn.tree._classes.Tree`
    /// (a re-export of the same class, protocol 2), which the check keyed on one exact name did not see.
    static let aliasedTree = [UInt8](
        Data(
            base64Encoded:
                "gAJjc2tsZWFybi50cmVlLl9jbGFzc2VzCkRlY2lzaW9uVHJlZUNsYXNzaWZpZXIKcQApgXEBfXECKFgJAAAAY3JpdGVyaW9ucQNY"
                + "BAAAAGdpbmlxBFgIAAAAc3BsaXR0ZXJxBVgEAAAAYmVzdHEGWAkAAABtYXhfZGVwdGhxB05YEQAAAG1pbl9zYW1wbGVzX3NwbGl0"
                + "cQhLAlgQAAAAbWluX3NhbXBsZXNfbGVhZnEJSwFYGAAAAG1pbl93ZWlnaHRfZnJhY3Rpb25fbGVhZnEKRwAAAAAAAAAAWAwAAABt"
                + "YXhfZmVhdHVyZXNxC05YDgAAAG1heF9sZWFmX25vZGVzcQxOWAwAAAByYW5kb21fc3RhdGVxDUsAWBUAAABtaW5faW1wdXJpdHlf"
                + "ZGVjcmVhc2VxDkcAAAAAAAAAAFgMAAAAY2xhc3Nfd2VpZ2h0cQ9OWAkAAABjY3BfYWxwaGFxEEcAAAAAAAAAAFgNAAAAbW9ub3Rv"
                + "bmljX2NzdHERTlgOAAAAbl9mZWF0dXJlc19pbl9xEksBWAoAAABuX291dHB1dHNfcRNLAVgIAAAAY2xhc3Nlc19xFGNudW1weS5f"
                + "Y29yZS5tdWx0aWFycmF5Cl9yZWNvbnN0cnVjdApxFWNudW1weQpuZGFycmF5CnEWSwCFcRdjX2NvZGVjcwplbmNvZGUKcRhYAQAA"
                + "AGJxGVgGAAAAbGF0aW4xcRqGcRtScRyHcR1ScR4oSwFLAoVxH2NudW1weQpkdHlwZQpxIFgCAAAAaThxIYmIh3EiUnEjKEsDWAEA"
                + "AAA8cSROTk5K/////0r/////SwB0cSViiWgYWBAAAAAAAAAAAAAAAAEAAAAAAAAAcSZoGoZxJ1JxKHRxKWJYCgAAAG5fY2xhc3Nl"
                + "c19xKmNudW1weS5fY29yZS5tdWx0aWFycmF5CnNjYWxhcgpxK2gjaBhYCAAAAAIAAAAAAAAAcSxoGoZxLVJxLoZxL1JxMFgNAAAA"
                + "bWF4X2ZlYXR1cmVzX3ExSwFYBQAAAHRyZWVfcTJjc2tsZWFybi50cmVlLl9jbGFzc2VzClRyZWUKcTNLAWgVaBZLAIVxNGgch3E1"
                + "UnE2KEsBSwGFcTdoI4loGFgIAAAAAgAAAAAAAABxOGgahnE5UnE6dHE7YksBh3E8UnE9fXE+KGgHSwdYCgAAAG5vZGVfY291bnRx"
                + "P0r/////WAUAAABub2Rlc3FAaBVoFksAhXFBaByHcUJScUMoSwFLD4VxRGggWAMAAABWNjRxRYmIh3FGUnFHKEsDWAEAAAB8cUhO"
                + "KFgKAAAAbGVmdF9jaGlsZHFJWAsAAAByaWdodF9jaGlsZHFKWAcAAABmZWF0dXJlcUtYCQAAAHRocmVzaG9sZHFMWAgAAABpbXB1"
                + "cml0eXFNWA4AAABuX25vZGVfc2FtcGxlc3FOWBcAAAB3ZWlnaHRlZF9uX25vZGVfc2FtcGxlc3FPWBIAAABtaXNzaW5nX2dvX3Rv"
                + "X2xlZnRxUHRxUX1xUihoSWggWAIAAABpOHFTiYiHcVRScVUoSwNoJE5OTkr/////Sv////9LAHRxVmJLAIZxV2hKaFVLCIZxWGhL"
                + "aFVLEIZxWWhMaCBYAgAAAGY4cVqJiIdxW1JxXChLA2gkTk5OSv////9K/////0sAdHFdYksYhnFeaE1oXEsghnFfaE5oVUsohnFg"
                + "aE9oXEswhnFhaFBoIFgCAAAAdTFxYomIh3FjUnFkKEsDaEhOTk5K/////0r/////SwB0cWViSziGcWZ1S0BLAUsQdHFnYoloGFik"
                + "BAAAAQAAAAAAAAACAAAAAAAAAAAAAAAAAAAAAAAAAAAAw6A/AAAAAAAAw6A/CAAAAAAAAAAAAAAAAAAgQAAAAAAAAAAAw7/Dv8O/"
                + "w7/Dv8O/w7/Dv8O/w7/Dv8O/w7/Dv8O/w7/DvsO/w7/Dv8O/w7/Dv8O/AAAAAAAAAMOAAAAAAAAAAAABAAAAAAAAAAAAAAAAAMOw"
                + "PwAAAAAAAAAAAwAAAAAAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAw7g/w5bCh8OGw7rDkFjDnz8HAAAAAAAAAAAAAAAAABxAAAAA"
                + "AAAAAADDv8O/w7/Dv8O/w7/Dv8O/w7/Dv8O/w7/Dv8O/w7/Dv8O+w7/Dv8O/w7/Dv8O/w78AAAAAAAAAw4AAAAAAAAAAAAEAAAAA"
                + "AAAAAAAAAAAAw7A/AAAAAAAAAAAFAAAAAAAAAAYAAAAAAAAAAAAAAAAAAAAAAAAAAAAEQAAAAAAAAMOgPwYAAAAAAAAAAAAAAAAA"
                + "GEAAAAAAAAAAAMO/w7/Dv8O/w7/Dv8O/w7/Dv8O/w7/Dv8O/w7/Dv8O/w77Dv8O/w7/Dv8O/w7/DvwAAAAAAAADDgAAAAAAAAAAA"
                + "AQAAAAAAAAAAAAAAAADDsD8AAAAAAAAAAAcAAAAAAAAACAAAAAAAAAAAAAAAAAAAAAAAAAAAAAxAwrgewoXDq1HCuMOePwUAAAAA"
                + "AAAAAAAAAAAAFEAAAAAAAAAAAMO/w7/Dv8O/w7/Dv8O/w7/Dv8O/w7/Dv8O/w7/Dv8O/w77Dv8O/w7/Dv8O/w7/DvwAAAAAAAADD"
                + "gAAAAAAAAAAAAQAAAAAAAAAAAAAAAADDsD8AAAAAAAAAAAkAAAAAAAAACgAAAAAAAAAAAAAAAAAAAAAAAAAAABJAAAAAAAAAw6A/"
                + "BAAAAAAAAAAAAAAAAAAQQAAAAAAAAAAAw7/Dv8O/w7/Dv8O/w7/Dv8O/w7/Dv8O/w7/Dv8O/w7/DvsO/w7/Dv8O/w7/Dv8O/AAAA"
                + "AAAAAMOAAAAAAAAAAAABAAAAAAAAAAAAAAAAAMOwPwAAAAAAAAAACwAAAAAAAAAMAAAAAAAAAAAAAAAAAAAAAAAAAAAAFkAcw4dx"
                + "HMOHccOcPwMAAAAAAAAAAAAAAAAACEAAAAAAAAAAAMO/w7/Dv8O/w7/Dv8O/w7/Dv8O/w7/Dv8O/w7/Dv8O/w77Dv8O/w7/Dv8O/"
                + "w7/DvwAAAAAAAADDgAAAAAAAAAAAAQAAAAAAAAAAAAAAAADDsD8AAAAAAAAAAA0AAAAAAAAADgAAAAAAAAAAAAAAAAAAAAAAAAAA"
                + "ABpAAAAAAAAAw6A/AgAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAw7/Dv8O/w7/Dv8O/w7/Dv8O/w7/Dv8O/w7/Dv8O/w7/DvsO/w7/D"
                + "v8O/w7/Dv8O/AAAAAAAAAMOAAAAAAAAAAAABAAAAAAAAAAAAAAAAAMOwPwAAAAAAAAAAw7/Dv8O/w7/Dv8O/w7/Dv8O/w7/Dv8O/"
                + "w7/Dv8O/w7/DvsO/w7/Dv8O/w7/Dv8O/AAAAAAAAAMOAAAAAAAAAAAABAAAAAAAAAAAAAAAAAMOwPwAAAAAAAAAAcWhoGoZxaVJx"
                + "anRxa2JYBgAAAHZhbHVlc3FsaBVoFksAhXFtaByHcW5ScW8oSwFLD0sBSwKHcXBoXIloGFgSAQAAAAAAAAAAw6A/AAAAAAAAw6A/"
                + "AAAAAAAAw7A/AAAAAAAAAADDm8K2bcObwrZtw5s/wpIkScKSJEnDoj8AAAAAAAAAAAAAAAAAAMOwPwAAAAAAAMOgPwAAAAAAAMOg"
                + "PwAAAAAAAMOwPwAAAAAAAAAAwprCmcKZwpnCmcKZw5k/MzMzMzMzw6M/AAAAAAAAAAAAAAAAAADDsD8AAAAAAADDoD8AAAAAAADD"
                + "oD8AAAAAAADDsD8AAAAAAAAAAFVVVVVVVcOVP1VVVVVVVcOlPwAAAAAAAAAAAAAAAAAAw7A/AAAAAAAAw6A/AAAAAAAAw6A/AAAA"
                + "AAAAw7A/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAMOwP3FxaBqGcXJScXN0cXRidWJYEAAAAF9za2xlYXJuX3ZlcnNpb25xdVgFAAAA"
                + "MS45LjFxdnViLg=="
        )!)

    @Test func aTreeImportedUnderAReExportNameIsCheckedToo() {
        let report = scan(Self.aliasedTree)
        #expect(report.has("sklearn.tree-state", "sklearn.tree._classes.Tree"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }
}
