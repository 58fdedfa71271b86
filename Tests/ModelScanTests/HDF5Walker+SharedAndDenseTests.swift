import Foundation
import TestSupport
import Testing

@testable import ModelScan

/// Review finding F2: a Keras Lambda hidden in a `.h5` whose root `model_config` attribute has a committed (shared)
/// datatype, or whose root attributes are in dense storage (fractal heap and B-tree name index), passed the scanner:
/// the walker skipped such attributes and a byte search for two JSON spellings stood in. These files are refused now,
/// and whatever the walker cannot read is a high finding.
@Suite struct HDF5WalkerSharedAndDenseTests {
    /// The review's `shared.h5` (h5py 3.16, libhdf5 2.0): `model_config` written with `dtype=f['strtype']`, a
    /// committed variable-length string type, and `"class_name" : "Lambda"` (a space before the colon). Raw deflate.
    static let sharedDatatypeLambda =
        "7ZS9TsMwEIDtpEhVREXZgMnyzMDAgLpVNJChohVlQEJVMGmKIjkJNIlQVWUvb8AjMPEcvFVxYrskYYOR+yLlbN+PE9/5Xp3BRcc6"
        + "slBBu41aqIuqbBTooDFX3CuJlVwr+W7odbPUKXcRXcZ/a8n5rVq/ubbtwnrTQO8zNqVsI+A/4tj9cbVedJV+GnW7JF2kyyd/W4/O"
        + "H/fF4im2IGpuikreEfIQ4/Ibutval5U5uRoNCh9dp8SE3P2GfZXhZj/ZRWelNHAHWeKUw3jmc9eLo3nwiAxDH7dO/0elZ2A4VQCo"
        + "c3k+GuJKQ61dHMGKepwliRux0KekR+jEf878KA0Yp8eEyotHe2RFOVv6i0QM7374DFn4MGMN+1IrlGWceRZ5aRBHhTs9fbH7GqGM"
        + "Ms7le1qxdIs2X/rL4Hk+zfPv/zrZg9wCAAAAAAAAAAAAgOYL"

    /// The review's `dense.h5`: `libver='latest'` with 20 other root attributes, so all live in dense storage.
    static let denseAttributesLambda =
        "7ZhfSFNRHMd/927TOZ3ONUVDYl60FCT8/y8YpNu8wsrlFkQhc7opq22uNkmxQUVC0UsQ9Iceil4kAiMKKnqLCIoehJB6zB5CfAii"
        + "8iEsu392t7MjB05QEHG+jJ17v+d8zu/eu9/vjHMviE632bTdpDMaQdNmRmBXz5szfnLH9aIh0TnMczzPW9GRmkw8cAAVVtADOHiV"
        + "Wsq08JoDpv9HjXuq77qHRS/IicODBbbkT0Oxer6uZYA2xpjfVlBG1CsfVWouNUhtzKA537p7fvb5Rac0rxSxXPJCDaJOi6FFcV2N"
        + "Ot0+aRT4M33a5fFb4nlhRoqhRRMzkeohv63btTrZ5/e4pbiP5fNO+RFIwy8nS+AsYnjXUrXwCTHuwMpOuMTljNq2GwegUr7JLtXo"
        + "f5PwgwdBVh85DoJLlxvRJBoDcAox5u9fC0ApYliTV2LQyueMjQ+Ds3BOjuLITKq/eRoqkSjhxO2LsIFcGD9WsAAvEKPddn4B6hDj"
        + "47uj9+ABEnb9VeNDiCBhq1bWnsAtxHg6+v057EPudr+r5iUcRiY99v7zMrxFEM67+0e9eXT5n6sGt8/nyiY6Jz3LNSW5OIcOnilJ"
        + "G99cGnCLg33ZdVFVTaatyi8dTV8257+ypYbpr2mgf8jDIWszB/ntDLY24r6O4OsJvoHgFxD8QoJvJPhFBN9E8IsJfgnBNxP8UoJf"
        + "RvAtBL+c4FsJ/jaCbyP42r/gYqadE8ajwWQyEA/GwoK91y74wsenw/FUJBgVmuzC+FR8IjIp9NrnhGhwNnwiKR0e2cJ4grGxUBAb"
        + "r/RKnco8E9Px8VRkKi7jQvtJ115NUmd8OhpVv0eQkYHUbELl1cnT6ZF0Ope3XjOrXSYmJiYmJiYmJiYmpt+RW3Qir6TkXbv/TFWH"
        + "TtqP2+SzRDDU0g3VHKdsWC3ZDaXyhlU9NuY2onlYDxVmUzCzisWmQuFoQN1DEulFhK5gPyAT0x+rf1mFqUN1OjBkC7mZqo45pY5z"
        + "VAsVxWNUKxWlw6g2KkqPUe1UlAGjOqioAozqpKIKMaqLijJiFN1yXYRRdKu1CV/k6ZKjGMfosqMEx+jSw4xjdPlRimN0CVKGY3QZ"
        + "YsExuhQpxzG6HLES6/8X"

    static func fixture(_ base64: String) throws -> [UInt8] {
        let compressed = try #require(Data(base64Encoded: base64))
        return try Inflate.inflate([UInt8](compressed), limit: 1 << 20)
    }

    @Test func aLambdaBehindACommittedDatatypeIsRefused() throws {
        let bytes = try Self.fixture(Self.sharedDatatypeLambda)
        var walker = HDF5Walker(source: ByteSource(bytes: bytes))
        let config = try walker.rootStringAttributes().first { $0.name == "model_config" }
        #expect(config?.value.map { String(decoding: $0, as: UTF8.self) }?.contains("Lambda") == true)
        let report = scan(bytes)
        #expect(
            report.findings.contains { $0.rule == "keras.lambda" && $0.member == "model_config" }, "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    @Test func aLambdaInDenseAttributeStorageIsRefused() throws {
        let bytes = try Self.fixture(Self.denseAttributesLambda)
        var walker = HDF5Walker(source: ByteSource(bytes: bytes))
        let attributes = try walker.rootStringAttributes()
        #expect(attributes.count == 21)
        #expect(attributes.contains { $0.name == "model_config" })
        let report = scan(bytes)
        #expect(
            report.findings.contains { $0.rule == "keras.lambda" && $0.member == "model_config" }, "\(report.findings)")
        #expect(report.isRefusedByDefault)
    }

    /// The same committed-datatype layout built here (version 2 attribute message, version 2 shared message, the
    /// committed type's own object header), with the config spelled in ways a byte search for
    /// `"class_name": "Lambda"` misses.
    @Test(arguments: [
        #"{"layers": [{"class_name" : "Lambda"}]}"#, "{\"layers\": [{\"class_name\"\n:\t\"Lambda\"}]}",
        #"{"layers": [{"class_name":"\u004cambda"}]}"#, #"{"layers": [{"class_name": "__lambda__"}]}"#,
    ])
    func committedStringTypesAreResolved(config: String) {
        let report = scan(hdf5FileWithCommittedString(name: "model_config", value: Array(config.utf8)))
        #expect(report.has("keras.lambda"), "\(report.findings)")
        #expect(report.isRefusedByDefault)
        let clean = scan(hdf5FileWithCommittedString(name: "model_config", value: Array(#"{"layers": []}"#.utf8)))
        #expect(clean.findings.isEmpty, "\(clean.findings)")
    }

    /// Fail closed: an attribute the walker cannot read (an unknown datatype class, a shared attribute message), a
    /// config that is not a string, or a cut header is high, never a pass.
    @Test func whatTheWalkerCannotReadIsHigh() throws {
        let config = Array(#"{"layers": []}"#.utf8)
        let plain = hdf5File(attributes: [("model_config", config)])
        // The attribute's datatype class/version byte (version 1, class 3), right after its padded name.
        let typeAt = 96 + 16 + 8 + 8 + 16
        try #require(plain[typeAt] == 0x13)
        var unknownClass = plain
        unknownClass[typeAt] = 0x1F  // class 15 does not exist
        var sharedMessage = plain
        sharedMessage[96 + 16 + 4] |= 0x02  // the attribute message's flags: shared
        var integer = plain
        integer[typeAt] = 0x10  // fixed-point: not a string
        let cut = Array(hdf5FileWithCommittedString(name: "model_config", value: config).dropLast(40))
        for (label, bytes, rule) in [
            ("unknown class", unknownClass, "hdf5.unreadable"), ("shared message", sharedMessage, "hdf5.unreadable"),
            ("integer config", integer, "hdf5.config-not-string"), ("cut", cut, "hdf5.unreadable"),
        ] {
            let report = scan(bytes)
            #expect(report.has(rule), "\(label): \(report.findings)")
            #expect(report.findings.allSatisfy { $0.severity >= .high }, "\(label): \(report.findings)")
            #expect(report.isRefusedByDefault, "\(label)")
        }
    }

    /// When the walker fails, the byte search still names the Lambda, whatever JSON spelling it has; it only adds
    /// findings (the unreadable structure is already high).
    @Test(arguments: [
        #""class_name": "Lambda""#, #""class_name" : "Lambda""#, "\"class_name\"\n\t:\r\n \"Lambda\"",
        #""class_name":"\u004cambda""#, #""\u0063lass_name": "Lambda""#, #""__lambda__""#,
    ])
    func theFallbackSearchReadsJSONTokens(spelling: String) {
        let config = Array(#"{"layers": [{"#.utf8) + Array(spelling.utf8) + Array("}]}".utf8)
        let cut = Array(hdf5FileWithCommittedString(name: "model_config", value: config).dropLast(8))
        let report = scan(cut)
        #expect(report.has("hdf5.unreadable"), "\(report.findings)")
        #expect(report.has("keras.lambda"), "\(report.findings)")
        #expect(ContentScan.jsonLambda(in: config) != nil)
        #expect(ContentScan.jsonLambda(in: Array(#"{"class_name": "Lambdas", "x": "Lambda"}"#.utf8)) == nil)
    }

    /// h5py's own files (CI has h5py): the review's three layouts, dense storage with 3,000 attributes (an indirect
    /// heap block and a deeper name index), fixed-length strings in dense storage, a committed datatype in dense
    /// storage, and a 512-byte user block before the superblock; the clean twin of each has no finding.
    @Test func filesWrittenByH5pyWithSharedAndDenseAttributes() throws {
        guard Interop.pythonCanImport("h5py") else { try Interop.skipOrFail("python3 with h5py") }
        let directory = try TemporaryDirectory()
        let script = """
            import sys, os, h5py, numpy as np
            d = sys.argv[1]
            lam = '{"class_name" : "Sequential", "config": {"layers": [{"class_name" : "Lambda", "config": {}}]}}'
            clean = '{"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense", "config": {}}]}}'
            for name, cfg in (("lambda", lam), ("clean", clean)):
                p = lambda kind: os.path.join(d, name + "-" + kind + ".h5")
                with h5py.File(p("shared"), "w") as f:
                    f["strtype"] = np.dtype(h5py.string_dtype())
                    f.attrs.create("model_config", cfg, dtype=f["strtype"])
                with h5py.File(p("dense"), "w", libver="latest") as f:
                    for i in range(20): f.attrs["pad%d" % i] = "x"
                    f.attrs["model_config"] = cfg
                with h5py.File(p("plain"), "w") as f:
                    f.attrs["model_config"] = cfg
                with h5py.File(p("many"), "w", libver="latest") as f:
                    for i in range(3000): f.attrs["pad%04d" % i] = "x" * 40
                    f.attrs["model_config"] = cfg
                with h5py.File(p("densefixed"), "w", libver="latest") as f:
                    for i in range(20): f.attrs["pad%d" % i] = np.bytes_("x")
                    f.attrs["model_config"] = np.bytes_(cfg)
                with h5py.File(p("userblock"), "w", userblock_size=512) as f:
                    f.attrs["model_config"] = cfg
                with h5py.File(p("denseshared"), "w", libver="latest") as f:
                    f["strtype"] = np.dtype(h5py.string_dtype())
                    for i in range(20): f.attrs["pad%d" % i] = "x"
                    f.attrs.create("model_config", cfg, dtype=f["strtype"])
            """
        let result = try ChildProcess.python(script, arguments: [directory.url.path], mergesErrors: true).run()
        try #require(result.status == 0, "\(result.stdout)")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.url.path).sorted()
        #expect(files.count == 14)
        for file in files {
            let report = try ModelScanner().scan(path: directory.url.appendingPathComponent(file).path)
            if file.hasPrefix("lambda") {
                #expect(
                    report.findings.contains { $0.rule == "keras.lambda" && $0.member == "model_config" },
                    "\(file): \(report.findings)")
            } else {
                #expect(report.formats.contains("keras-h5"), "\(file): \(report.formats)")
                #expect(report.findings.isEmpty, "\(file): \(report.findings)")
            }
        }
    }
}

/// A version 0 superblock, a version 1 root object header with one version 2 attribute message whose datatype is
/// shared (a version 2 shared message), and the committed datatype's version 1 object header holding a
/// fixed-length string type of `value`'s size.
func hdf5FileWithCommittedString(name: String, value: [UInt8]) -> [UInt8] {
    func padded(_ bytes: [UInt8]) -> [UInt8] { bytes + [UInt8](repeating: 0, count: (8 - bytes.count % 8) % 8) }
    let headerAddress: UInt64 = 96
    let nameBytes = Array(name.utf8) + [0]
    func rootHeader(committedAt address: UInt64) -> [UInt8] {
        let shared: [UInt8] = [2, 2] + le(address, 8)
        let dataspace: [UInt8] = [1, 0, 0, 0, 0, 0, 0, 0]
        let body = padded(
            [2, 0x01] + le(UInt64(nameBytes.count), 2) + le(UInt64(shared.count), 2) + le(8, 2) + nameBytes + shared
                + dataspace + value)
        let message = le(0x0C, 2) + le(UInt64(body.count), 2) + [0, 0, 0, 0] + body
        return [1, 0] + le(1, 2) + le(1, 4) + le(UInt64(message.count), 4) + [0, 0, 0, 0] + message
    }
    let committedAt = headerAddress + UInt64(rootHeader(committedAt: 0).count)
    let datatype: [UInt8] = [0x13, 0, 0, 0] + le(UInt64(value.count), 4)
    let typeMessage = le(0x03, 2) + le(UInt64(datatype.count), 2) + [1, 0, 0, 0] + datatype
    let committed = [1, 0] + le(1, 2) + le(1, 4) + le(UInt64(typeMessage.count), 4) + [0, 0, 0, 0] + typeMessage
    let body = rootHeader(committedAt: committedAt) + committed
    let size = headerAddress + UInt64(body.count)
    var file: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0, 0, 8, 8, 0]
    file += le(4, 2) + le(16, 2) + le(0, 4)
    file += le(0, 8) + le(UInt64.max, 8) + le(size, 8) + le(UInt64.max, 8)
    file += le(0, 8) + le(headerAddress, 8) + le(0, 4) + le(0, 4) + [UInt8](repeating: 0, count: 16)
    return file + body
}
