import Foundation
import Testing

@testable import ModelScan

/// Scanner review 46: files that passed and corrupted memory when loaded and used.
/// - A csr matrix made by `copyreg._reconstructor(csr_matrix, csr_matrix, (data, indices, indptr))`: `base.__init__`
///   checks no index and no BUILD follows (`toarray()`: a heap write under all four loaders).
/// - `numpy.ndarray((1,), dtype('O8'), b'@AAAAAAA')`: reading the item dereferences 0x4141414141414140.
/// - numpy bit generators whose `pos`/`buffer_pos` lie outside their buffers: the next draw reads past them.
/// - A torch sparse COO tensor with an index past its size: `to_dense()` writes past its buffer.
@Suite struct ModelScannerReview46AttackTests {
    /// The reviewer's `objbuf_p4.pkl`.
    static let objectArrayOverBytes = [UInt8](
        Data(
            base64Encoded:
                "gASVXwAAAAAAAAB9lIwBbZSMBW51bXB5lIwHbmRhcnJheZSTlEsBhZRoAowFZHR5cGWUk5SMAk84lImIh5RSlChLA4wBfJROTk5K"
                + "/////0r/////Sz90lGJDCEBBQUFBQUFBlIeUUpRzLg=="
        )!)

    /// The reviewer's `recon_csr_heap.pkl` (index -1 in a 1x0 matrix; glibc aborted on `toarray()`).
    static let sparseThroughItsInitialiser = [UInt8](
        Data(
            base64Encoded:
                "gAJ9cQBYAQAAAG1xAWNjb3B5X3JlZwpfcmVjb25zdHJ1Y3RvcgpxAmNzY2lweS5zcGFyc2UuX2Nzcgpjc3JfbWF0cml4CnEDaANd"
                + "cQRHfjfkPIgAdZxhXXEFSv////9hXXEGKEsASwFlh3EHh3EIUnEJcy4="
        )!)

    @Test func theReviewersFilesAreRefused() {
        let objects = scan(Self.objectArrayOverBytes)
        #expect(objects.has("numpy.ndarray-call", "numpy.ndarray"), "\(objects.findings)")
        #expect(objects.isRefusedByDefault)
        let sparse = scan(Self.sparseThroughItsInitialiser)
        #expect(sparse.has("pickle.reconstructor-base", "csr_matrix"), "\(sparse.findings)")
        #expect(sparse.isRefusedByDefault)
    }

    /// `copyreg._reconstructor` passes with the bases pickle writes (a builtin type, collections' C types), and
    /// is high with any other.
    @Test(arguments: [
        ("builtins", "object", false), ("builtins", "dict", false), ("collections", "OrderedDict", false),
        ("scipy.sparse._csr", "csr_matrix", true), ("sklearn.linear_model._logistic", "LogisticRegression", true),
    ])
    func aReconstructorBaseMustBeBuiltin(_ module: String, _ name: String, _ refused: Bool) {
        var p = PickleAssembler(protocol: 2)
        p.global("copy_reg", "_reconstructor")
        p.global("sklearn.linear_model._logistic", "LogisticRegression")
        p.global(module, name)
        p.none()
        p.tuple3()
        p.reduce()
        p.stop()
        let report = scan(p.bytes)
        #expect(report.has("pickle.reconstructor-base") == refused, "\(name): \(report.findings)")
    }

    /// A bit generator's state as numpy pickles it: `__bit_generator_ctor(MT19937)` and a BUILD of
    /// `({'bit_generator': name, 'state': {'pos': pos}, key: value}, None)`.
    static func bitGenerator(_ name: String, key: String, _ position: Int32) -> [UInt8] {
        var p = PickleAssembler(protocol: 2)
        p.global("numpy.random._pickle", "__bit_generator_ctor")
        p.global("numpy.random._mt19937", name)
        p.tuple1()
        p.reduce()
        p.emptyDict()
        p.mark()
        p.shortUnicode("bit_generator")
        p.shortUnicode(name)
        p.shortUnicode("state")
        p.emptyDict()
        if key == "pos" {
            p.shortUnicode("pos")
            p.binInt(position)
            p.setItem()
        }
        if key == "buffer_pos" {
            p.shortUnicode("buffer_pos")
            p.binInt(position)
        }
        p.setItems()
        p.none()
        p.tuple2()
        p.build()
        p.stop()
        return p.bytes
    }

    @Test(arguments: [
        ("pos", Int32(624), false), ("pos", 0, false), ("pos", 625, true), ("pos", -1, true),
        ("pos", 200_000_000, true), ("buffer_pos", 4, false), ("buffer_pos", 5, true), ("buffer_pos", -100, true),
    ])
    func aBitGeneratorsPositionMustLieInItsBuffer(_ key: String, _ position: Int32, _ refused: Bool) {
        let report = scan(Self.bitGenerator("MT19937", key: key, position))
        #expect(report.has("numpy.random-state") == refused, "\(key) \(position): \(report.findings)")
    }

    /// A position the scanner cannot read (made by a call) is high; a legacy `RandomState` tuple state is checked too.
    @Test func aPositionTheScannerCannotReadIsHigh() {
        var p = PickleAssembler(protocol: 2)
        p.global("numpy.random._pickle", "__bit_generator_ctor")
        p.global("numpy.random._mt19937", "MT19937")
        p.tuple1()
        p.reduce()
        p.emptyDict()
        p.shortUnicode("state")
        p.global("builtins", "dict")
        p.emptyTuple()
        p.reduce()
        p.setItem()
        p.build()
        p.stop()
        #expect(scan(p.bytes).has("numpy.random-state"), "\(scan(p.bytes).findings)")

        var legacy = PickleAssembler(protocol: 2)
        legacy.global("numpy.random._pickle", "__randomstate_ctor")
        legacy.emptyTuple()
        legacy.reduce()
        legacy.mark()
        legacy.shortUnicode("MT19937")
        legacy.none()
        legacy.binInt(1_000_000)
        legacy.binInt1(0)
        legacy.tuple()
        legacy.build()
        legacy.stop()
        #expect(scan(legacy.bytes).has("numpy.random-state"), "\(scan(legacy.bytes).findings)")
    }

    /// Scanner review 47: numpy reads a state by `[...]` and `!=`, which arrays answer too: a 0-d structured array
    /// with a `pos` field as MT19937's `state` (its position 2^30 unchecked: SIGSEGV on the first draw), and a string
    /// array `'MT19937'` as a legacy tuple's name. Arrays are allowed only where numpy writes them.
    @Test(arguments: [true, false])
    func anArrayWhereNumpyWritesNoneIsHigh(_ legacy: Bool) {
        var p = PickleAssembler(protocol: 2)
        p.global("numpy.random._pickle", legacy ? "__randomstate_ctor" : "__bit_generator_ctor")
        if legacy {
            p.emptyTuple()
        } else {
            p.global("numpy.random._mt19937", "MT19937")
            p.tuple1()
        }
        p.reduce()
        let array = {
            (p: inout PickleAssembler) in
            p.global("numpy._core.multiarray", "_reconstruct")
            p.global("numpy", "ndarray")
            p.emptyTuple()
            p.shortUnicode("b")
            p.tuple3()
            p.reduce()
        }
        if legacy {
            p.mark()
            array(&p)
            p.none()
            p.binInt(624)
            p.tuple()
        } else {
            p.emptyDict()
            p.shortUnicode("bit_generator")
            p.shortUnicode("MT19937")
            p.setItem()
            p.shortUnicode("state")
            array(&p)
            p.setItem()
        }
        p.build()
        p.stop()
        #expect(scan(p.bytes).has("numpy.random-state"), "\(scan(p.bytes).findings)")
    }

    @Test func aTorchSparseTensorIsHigh() {
        var p = PickleAssembler(protocol: 2)
        p.global("torch._utils", "_rebuild_sparse_tensor")
        p.global("torch", "sparse_coo")
        p.emptyTuple()
        p.tuple2()
        p.reduce()
        p.stop()
        #expect(scan(p.bytes).has("torch.sparse-tensor"), "\(scan(p.bytes).findings)")
    }
}
