import Foundation
import Testing

@testable import ModelScan

/// Scanner review 48: a memoised dict filled through a memo read after it was placed in another value. The scanner's
/// copy inside that value kept its old pairs while Python saw the change, and only a copy that was the value itself
/// or a tuple's item read back unknown. Now a stale copy reads back unknown at any depth, in `BUILD` states and in a
/// call's arguments.
@Suite struct ModelScannerReview48AttackTests {
    /// The reviewer's `ma_read.pkl`: `copyreg._reconstructor(Bunch, dict, M)` with `M` given `__array_interface__`
    /// after the argument tuple was built, as a MaskedArray's `fill_value`: numpy read 8 bytes at 0x4141414141410000
    /// while loading (SIGSEGV under all four loaders; at a live address, it returned that memory).
    static let bunchFilledThroughTheMemo = [UInt8](
        Data(
            base64Encoded:
                "gAJjbnVtcHkKZHR5cGUKKIwCZjiJiHRSKEsDjAE8Tk5OSv////9K/////0sAdGJyAQAAADBjbnVtcHkubWEuY29yZQpfbWFyZWNv"
                + "bnN0cnVjdAooY251bXB5Lm1hLmNvcmUKTWFza2VkQXJyYXkKY251bXB5Cm5kYXJyYXkKSwCFjAFidFIoSwFLAYVqAQAAAIlDCAAA"
                + "AAAAAAAAQwEAY2NvcHlyZWcKX3JlY29uc3RydWN0b3IKY3NrbGVhcm4udXRpbHMuX2J1bmNoCkJ1bmNoCmNidWlsdGlucwpkaWN0"
                + "Cn1yhAMAAIdqhAMAAIwTX19hcnJheV9pbnRlcmZhY2VfX30ojAVzaGFwZSmMB3R5cGVzdHKMAzxmOIwEZGF0YYoIAABBQUFBQUGJ"
                + "howHdmVyc2lvbksDdXMwUnRiLg=="
        )!)

    @Test func aBunchFilledAfterItWasPassedIsRefused() {
        let report = scan(Self.bunchFilledThroughTheMemo)
        #expect(report.isRefusedByDefault, "\(report.findings)")
        #expect(report.has("pickle.mapping-from-object") || report.has("pickle.fill-attribute-key"))
    }

    /// The reviewer's `mt_nested_stale.pkl`, with a one-word key: MT19937's inner state dict, placed in the outer
    /// state with `pos` 0, then given `pos` 2^30 through a memo read (SIGSEGV on the first draw).
    @Test(arguments: [Int32(1 << 30), 0])
    func aPositionChangedThroughTheMemoIsRead(_ position: Int32) {
        var p = PickleAssembler(protocol: 2)
        p.global("numpy.random._pickle", "__bit_generator_ctor")
        p.shortUnicode("MT19937")
        p.tuple1()
        p.reduce()
        p.emptyDict()
        p.mark()
        p.shortUnicode("bit_generator")
        p.shortUnicode("MT19937")
        p.shortUnicode("state")
        p.emptyDict()
        p.binPut(7)
        p.mark()
        p.shortUnicode("pos")
        p.binInt(0)
        p.setItems()
        p.setItems()
        p.binGet(7)
        p.shortUnicode("pos")
        p.binInt(position)
        p.setItem()
        p.raw([0x30])  // POP
        p.build()
        p.stop()
        let report = scan(p.bytes)
        // Whatever the new value, the inner state the BUILD sees is no longer known: high either way.
        #expect(report.has("numpy.random-state"), "\(position): \(report.findings)")
    }
}
