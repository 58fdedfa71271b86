import Foundation
import Testing

@testable import ModelScan

/// Scanner review 49: `__bit_generator_ctor(Bunch)` is `Bunch()`, and `newObj(Bunch)` is `Bunch.__new__(Bunch)`; the
/// key check did not know either made a `Bunch`, so a computed `__array_interface__` key filled into it passed, and
/// numpy read the address it named while a MaskedArray's `fill_value` was set (SIGSEGV under all four loaders; the
/// python executable's ELF header at a fixed address). Instance makers take only the classes their libraries hand
/// them (`pickle.instance-maker-class`).
@Suite struct ModelScannerReview49AttackTests {
    /// The reviewer's `f1.pkl`.
    static let bunchFromABitGeneratorMaker = [UInt8](
        Data(
            base64Encoded:
                "gAJjbnVtcHkKZHR5cGUKKIwCZjiJiHRSKEoDAAAAjAE8Tk5OSv////9K/////0oAAAAAdGJyAQAAADBjbnVtcHkubWEuY29yZQpf"
                + "bWFyZWNvbnN0cnVjdAooY251bXB5Lm1hLmNvcmUKTWFza2VkQXJyYXkKY251bXB5Cm5kYXJyYXkKSgAAAACFjAFidFIoSgEAAABK"
                + "AQAAAIVqAQAAAIlDCAAAAAAAAAAAQwEAY251bXB5LnJhbmRvbS5fcGlja2xlCl9fYml0X2dlbmVyYXRvcl9jdG9yCmNza2xlYXJu"
                + "LnV0aWxzLl9idW5jaApCdW5jaAqFUmNidWlsdGlucwpzdHIKjBNfX2FycmF5X2ludGVyZmFjZV9fhVJ9KIwFc2hhcGUpjAd0eXBl"
                + "c3RyjAM8ZjiMBGRhdGGKCAAAQUFBQUFBiYaMB3ZlcnNpb25KAwAAAHVzdGIu"
        )!)

    @Test func theReviewersFileIsRefused() {
        let report = scan(Self.bunchFromABitGeneratorMaker)
        #expect(report.has("pickle.instance-maker-class", "__bit_generator_ctor"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    @Test(arguments: [
        ("numpy.random._pickle", "__bit_generator_ctor", "numpy.random._pcg64", "PCG64", false),
        ("numpy.random._pickle", "__bit_generator_ctor", "sklearn.utils._bunch", "Bunch", true),
        ("sklearn.neighbors._kd_tree", "newObj", "sklearn.neighbors._kd_tree", "KDTree", false),
        ("sklearn.neighbors._kd_tree", "newObj", "sklearn.utils._bunch", "Bunch", true),
        ("sklearn.metrics._dist_metrics", "newObj", "collections", "OrderedDict", true),
    ])
    func instanceMakersTakeOnlyTheirLibrarysClasses(
        _ module: String, _ name: String, _ classModule: String, _ className: String, _ refused: Bool
    ) {
        var p = PickleAssembler(protocol: 2)
        p.global(module, name)
        p.global(classModule, className)
        p.tuple1()
        p.reduce()
        p.stop()
        let report = scan(p.bytes)
        #expect(report.has("pickle.instance-maker-class") == refused, "\(className): \(report.findings)")
    }
}
