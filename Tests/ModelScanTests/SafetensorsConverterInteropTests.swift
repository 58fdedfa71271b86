import Foundation
import TestSupport
import Testing

@testable import ModelScan

/// `convert` against the real thing: checkpoints written by `torch.save` (zip and legacy), converted here, must be
/// byte-identical to what `torch.load` followed by `safetensors.torch.save_file` writes, and load back equal.
@Suite struct SafetensorsConverterInteropTests {
    private static let writer = """
        import sys, os, collections, torch
        from safetensors.torch import save_file
        d = sys.argv[1]
        torch.manual_seed(0)
        base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
        dtypes = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16, "f64": torch.float64,
                  "i64": torch.int64, "i32": torch.int32, "i16": torch.int16, "i8": torch.int8, "u8": torch.uint8,
                  "c64": torch.complex64, "u16": torch.uint16, "u32": torch.uint32, "u64": torch.uint64,
                  "f8e4m3": torch.float8_e4m3fn, "f8e5m2": torch.float8_e5m2}
        sd = collections.OrderedDict()
        for name, dtype in dtypes.items():
            sd["dtype." + name] = (torch.randn(3, 5) * 50).to(dtype)
        sd["dtype.bool"] = torch.randn(7) > 0
        sd["param"] = torch.nn.Parameter(torch.randn(3, 2))
        sd["view.transpose"] = base.t()
        sd["view.strided"] = base[1:4:2, ::3]
        sd["view.expand"] = torch.arange(3.0).expand(2, 3)
        sd["view.permute"] = torch.randn(2, 3, 4).permute(2, 0, 1)
        sd["shared.base"] = base
        sd["shared.row"] = base[2]
        sd["tied.a"] = sd["tied.b"] = torch.randn(4)
        sd["scalar"] = torch.tensor(3.5)
        sd["empty"] = torch.zeros(0, 3)
        sd["odd name \\"quoted\\" é"] = torch.ones(1)
        model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
        torch.save(sd, os.path.join(d, "all.pt"))
        torch.save(model.state_dict(), os.path.join(d, "module.pt"))
        torch.save(model.state_dict(), os.path.join(d, "module.legacy.pt"), _use_new_zipfile_serialization=False)
        # torch cannot load its own legacy files holding dtypes without a typed storage class (uint16 and later).
        newer = ("dtype.u16", "dtype.u32", "dtype.u64", "dtype.f8e4m3", "dtype.f8e5m2")
        classic = collections.OrderedDict((k, v) for k, v in sd.items() if k not in newer)
        torch.save(classic, os.path.join(d, "classic.legacy.pt"), _use_new_zipfile_serialization=False)
        torch.save({"model": model.state_dict(), "epoch": 3}, os.path.join(d, "training.pt"))
        """

    /// For each (checkpoint, ours, reference): torch.load, then save_file as the reference (save_file takes
    /// contiguous tensors that share no memory, so each is copied); and our output loaded back by safetensors must
    /// equal torch.load's tensors bit for bit (NaNs included).
    private static let reference = """
        import sys, torch
        from safetensors.torch import save_file, load_file
        args = sys.argv[1:]
        for checkpoint, ours, reference in zip(args[0::3], args[1::3], args[2::3]):
            sd = torch.load(checkpoint, weights_only=True)
            save_file({k: v.detach().contiguous().clone() for k, v in sd.items()}, reference)
            loaded = load_file(ours)
            assert sorted(loaded) == sorted(sd), (checkpoint, sorted(loaded), sorted(sd))
            for k, v in sd.items():
                a, b = v.detach().contiguous().reshape(-1), loaded[k]
                assert a.dtype == b.dtype and v.shape == b.shape, (checkpoint, k)
                assert a.view(torch.uint8).equal(b.reshape(-1).view(torch.uint8)), (checkpoint, k)
        print("ok")
        """

    @Test func convertedCheckpointsAreByteIdenticalToTorchLoadPlusSafetensors() throws {
        guard Interop.pythonCanImport("torch", "safetensors") else {
            try Interop.skipOrFail("python3 with torch and safetensors")
        }
        let directory = try TemporaryDirectory()
        let path = { (name: String) in directory.url.appendingPathComponent(name).path }
        let written = try ChildProcess.python(Self.writer, arguments: [directory.url.path], mergesErrors: true).run()
        try #require(written.status == 0, "\(written.stdout)")
        let names = ["all.pt", "classic.legacy.pt", "module.pt", "module.legacy.pt"]
        var arguments: [String] = []
        for name in names {
            let summary = try SafetensorsConverter().convert(checkpoint: path(name), to: path(name + ".ours"))
            #expect(summary.format == (name.contains("legacy") ? "pytorch-legacy" : "pytorch-zip"))
            arguments += [path(name), path(name + ".ours"), path(name + ".reference")]
        }
        let compared = try ChildProcess.python(Self.reference, arguments: arguments, mergesErrors: true).run()
        try #require(compared.status == 0, "\(compared.stdout)")
        for name in names {
            let ours = try Data(contentsOf: URL(fileURLWithPath: path(name + ".ours")))
            #expect(ours == (try Data(contentsOf: URL(fileURLWithPath: path(name + ".reference")))), "\(name)")
        }
        // A training checkpoint with an integer in it is not a state dict of tensors.
        #expect(throws: ConversionError.notATensor(name: "epoch")) {
            try SafetensorsConverter().convert(checkpoint: path("training.pt"), to: path("training.safetensors"))
        }
    }
}
