import Foundation
import Testing

@testable import ModelScan

/// An import of `dtype` that only `pickle.load` makes of a joblib file (in bytes joblib reads as array data) is medium
/// when its module is one that no ordinary machine has, and judged as any other import otherwise: a standard library module
/// (some run code on import: `antigravity`, `this`), a common package, a private, dotted, Python 2 or non-ASCII name,
/// `__main__`. Outside array bytes, and in the joblib reading, every unknown import stays high.
@Suite struct ModelScannerUncommonModuleTests {
    /// `c évil\nx\n0` as a wrapper's 10 array bytes (scanner review 32's file), split around its shape and data.
    static let base = [UInt8](
        Data(
            base64Encoded:
                "gAJjam9ibGliLm51bXB5X3BpY2tsZQpOdW1weUFycmF5V3JhcHBlcgopgX0ojAhzdWJjbGFzc2NudW1weQpuZGFycmF5CowFc2hhcGVLCoWM"
                + "BW9yZGVyjAFDjAVkdHlwZWNudW1weQpkdHlwZQqMAnUxiYiHUihLA4wBfE5OTkr/////Sv////9LAHRijAphbGxvd19tbWFwiYwbbnVt"
                + "cHlfYXJyYXlfYWxpZ25tZW50X2J5dGVzTnViY8OpdmlsCngKMC4=")!)

    /// A joblib file (protocol 2, one `uint8` array) whose array bytes are `GLOBAL module name; POP`: `joblib.load`
    /// reads them as data, `pickle.load` imports `module.name`.
    static func importInArrayBytes(_ module: String, _ name: String) -> [UInt8] {
        let data = [UInt8]("c\(module)\n\(name)\n0".utf8)
        precondition(data.count < 256 && base[77] == UInt8(ascii: "K") && base[183..<186] == [0x4E, 0x75, 0x62])
        return Array(base[0...77]) + [UInt8(data.count)] + Array(base[79..<186]) + data + [UInt8(ascii: ".")]
    }

    @Test func anUncommonModuleImportedOnlyByPickleLoadIsMedium() {
        let report = ModelScanner().scan(bytes: Self.importInArrayBytes("nosuchmodule", "dtype"), name: "model.joblib")
        #expect(report.refused(by: .default).isEmpty, "\(report.findings)")
        #expect(report.has("pickle.global.uncommon-module", "nosuchmodule.dtype"), "\(report.findings)")
        #expect(!report.refused(by: .strict).isEmpty)
    }

    @Test(arguments: [
        "antigravity", "this", "webbrowser", "pip", "scipy", "torch", "IPython", "__main__", "_osx_support", "copy_reg",
        "__builtin__", "exceptions", "a.b", "nosuchmodule.sub", "évil", "1abc", "annotationlib",
    ])
    func otherModulesImportedOnlyByPickleLoadStayHigh(_ module: String) {
        let report = ModelScanner().scan(bytes: Self.importInArrayBytes(module, "dtype"), name: "model.joblib")
        #expect(report.isRefusedByDefault, "\(module): \(report.findings)")
        #expect(!report.has("pickle.global.uncommon-module"), "\(module): \(report.findings)")
    }

    @Test func aDangerousImportOnlyPickleLoadMakesStaysCritical() {
        let report = ModelScanner().scan(bytes: Self.importInArrayBytes("os", "system"), name: "model.joblib")
        #expect(report.has("pickle.global.dangerous", "os.system"), "\(report.findings)")
    }

    /// Where joblib imports it too (the main reading), the same module is high.
    @Test func anUncommonModuleImportedByEveryLoaderIsHigh() {
        var p = PickleAssembler()
        p.raw([0x80, 2])
        p.global("nosuchmodule", "dtype")
        p.stop()
        let report = ModelScanner().scan(bytes: p.bytes, name: "model.pkl")
        #expect(report.has("pickle.global.unknown", "nosuchmodule.dtype"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    @Test func theModuleListsCoverWhatTheyClaim() {
        for module in ["os", "antigravity", "tomllib", "zoneinfo", "distutils", "asynchat", "annotationlib"] {
            #expect(!GlobalPolicy.isUncommonTopLevelModule(module), "\(module)")
        }
        for module in ["NumpyArrayWrapper", "n_bins", "nosuchmodule"] {
            #expect(GlobalPolicy.isUncommonTopLevelModule(module), "\(module)")
        }
    }
}
