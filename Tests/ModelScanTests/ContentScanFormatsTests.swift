import Testing

@testable import ModelScan

/// Formats recognised by content, with the constructs that make each one unsafe.
@Suite struct ContentScanFormatsTests {
    private func npy(descr: String, data: [UInt8]) -> [UInt8] {
        var header = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': (1,), }".utf8)
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0A)
        return [0x93] + Array("NUMPY".utf8) + [1, 0] + le(UInt64(header.count), 2) + header + data
    }

    @Test func npyObjectDtypeIsScannedAsPickle() {
        let report = scan(npy(descr: "|O", data: payload("os", "system")))
        #expect(report.formats.contains("npy-object"))
        #expect(report.has("pickle.global.dangerous", "os.system"))
        let plain = scan(npy(descr: "<f8", data: [UInt8](repeating: 0x80, count: 8)))
        #expect(plain.findings.isEmpty, "\(plain.findings)")
    }

    @Test func npzMembersAreScannedByContent() {
        var zip = ZipWriter()
        zip.add("weights.npy", npy(descr: "<f4", data: [0, 0, 0, 0]))
        zip.add("objects.npy", npy(descr: "|O", data: payload("builtins", "exec")))
        let report = scan(zip.bytes)
        #expect(report.has("pickle.global.dangerous", "builtins.exec"))
        #expect(report.findings.first?.member == "objects.npy")
    }

    private func gguf(template: String) -> [UInt8] {
        func string(_ text: String) -> [UInt8] { le(UInt64(text.utf8.count), 8) + Array(text.utf8) }
        var bytes = Array("GGUF".utf8) + le(3, 4) + le(0, 8) + le(3, 8)
        bytes += string("general.architecture") + le(8, 4) + string("llama")
        bytes += string("tokenizer.ggml.tokens") + le(9, 4) + le(8, 4) + le(2, 8) + string("a") + string("b")
        bytes += string("tokenizer.chat_template") + le(8, 4) + string(template)
        return bytes
    }

    @Test func ggufChatTemplateGadgetIsCritical() {
        let gadget = "{{ self.__init__.__globals__.__builtins__.__import__('os').popen('id').read() }}"
        let report = scan(gguf(template: gadget))
        #expect(report.has("gguf.template-gadget"))
        #expect(report.formats == ["gguf"])
        let benign = scan(gguf(template: "{% for m in messages %}{{ m['content'] }}{% endfor %}"))
        #expect(benign.findings.isEmpty, "\(benign.findings)")
        #expect(scan(gguf(template: "{{ x|attr('_' ~ '_class_' ~ '_') }}")).has("gguf.template-attr"))
    }

    @Test func ggufHostileCountsDoNotCrash() {
        let bytes = Array("GGUF".utf8) + le(3, 4) + le(0, 8) + le(UInt64.max, 8)
        #expect(scan(bytes).has("gguf.malformed"))
        let array =
            Array("GGUF".utf8) + le(3, 4) + le(0, 8) + le(1, 8) + le(1, 8) + [0x6B] + le(9, 4) + le(6, 4)
            + le(UInt64.max, 8)
        #expect(scan(array).has("gguf.malformed"))
    }

    private func safetensors(_ header: String, data: Int) -> [UInt8] {
        le(UInt64(header.utf8.count), 8) + Array(header.utf8) + [UInt8](repeating: 0, count: data)
    }

    @Test func safetensorsConsistencyIsChecked() {
        let good = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"k":"v"}}"#
        #expect(scan(safetensors(good, data: 8)).findings.isEmpty)
        let overlap =
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}"#
        #expect(scan(safetensors(overlap, data: 8)).has("safetensors.overlap"))
        let outside = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,800]}}"#
        #expect(scan(safetensors(outside, data: 8)).has("safetensors.offsets"))
        let size = #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#
        #expect(scan(safetensors(size, data: 8)).has("safetensors.size"))
        let huge = #"{"a":{"dtype":"F64","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#
        #expect(scan(safetensors(huge, data: 8)).has("safetensors.size"))
    }

    private func keras(_ config: String) -> [UInt8] {
        var zip = ZipWriter()
        zip.add("metadata.json", Array(#"{"keras_version":"3.6.0"}"#.utf8))
        zip.add("config.json", Array(config.utf8))
        zip.add("model.weights.h5", [0])
        return zip.bytes
    }

    @Test func kerasConfigRulesFire() {
        let lambda =
            #"{"class_name":"Sequential","config":{"layers":[{"module":"keras.layers","class_name":"Lambda","config":{"function":{"class_name":"__lambda__","config":{"code":"4wEAAAAA"}}}}]}}"#
        let report = scan(keras(lambda))
        #expect(report.formats.contains("keras"))
        #expect(report.has("keras.lambda"))
        let module =
            #"{"class_name":"Sequential","config":{"layers":[{"module":"os","class_name":"system","config":{}}]}}"#
        #expect(scan(keras(module)).has("keras.module", "os"))
        let unsafe = #"{"class_name":"Functional","config":{"enable_unsafe_deserialization":true}}"#
        #expect(scan(keras(unsafe)).has("keras.unsafe-deserialization"))
        let custom = #"{"class_name":"Dense","registered_name":"evil_pkg>Dense","module":"keras.layers"}"#
        #expect(scan(keras(custom)).has("keras.custom-object"))
        let benign =
            #"{"module":"keras","class_name":"Sequential","registered_name":null,"config":{"layers":[{"module":"keras.layers","class_name":"Dense","registered_name":null}]}}"#
        #expect(scan(keras(benign)).findings.isEmpty)
    }

    @Test func legacyH5LambdaIsFlagged() {
        let bytes =
            [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 0, count: 100)
            + Array(#"{"class_name": "Sequential", "config": {"layers": [{"class_name": "Lambda"}]}}"#.utf8)
        #expect(scan(bytes).has("keras.lambda"))
    }

    @Test func legacyTorchTarPickleIsScanned() {
        func tarMember(_ name: String, _ data: [UInt8]) -> [UInt8] {
            var header = [UInt8](repeating: 0, count: 512)
            header.replaceSubrange(0..<name.utf8.count, with: Array(name.utf8))
            let size = Array(String(data.count, radix: 8).utf8)
            let field = [UInt8](repeating: 0x30, count: 11 - size.count) + size
            header.replaceSubrange(124..<135, with: field)
            header[156] = 0x30
            header.replaceSubrange(257..<262, with: Array("ustar".utf8))
            ModelScannerReview4ClassesTests.setTarChecksum(&header, at: 0)  // tarfile refuses a bad checksum
            let padding = (512 - data.count % 512) % 512
            return header + data + [UInt8](repeating: 0, count: padding)
        }
        let tar =
            tarMember("sys_info", torchStateDict()) + tarMember("pickle", payload("os", "system"))
            + [UInt8](repeating: 0, count: 1024)
        let report = scan(tar)
        #expect(report.formats.contains("pytorch-tar"))
        #expect(report.has("pickle.global.dangerous", "os.system"))
    }

    @Test func protocol0PickleWithoutMagicIsRecognised() {
        let report = scan(Array("cposix\nsystem\n(S'id'\ntR.".utf8))
        #expect(report.has("pickle.global.dangerous", "posix.system"))
        #expect(scan(Array("hello, world".utf8)).has("format.unrecognised"))
    }

    @Test func zlibStreamIsInflatedAndScanned() {
        #expect(scan([0x78, 0x9C, 1, 2, 3]).has("format.compressed-pickle"))
        let compressed = [0x78, 0x01] + deflateStored(payload("os", "system")) + [0, 0, 0, 0]
        let report = scan(compressed)
        #expect(report.has("pickle.global.dangerous", "os.system"), "\(report.findings)")
        #expect(scan([0x78, 0x01] + deflateStored(torchStateDict()) + [0, 0, 0, 0]).findings.isEmpty)
    }
}

extension ContentScanFormatsTests {
    @Test func pickleCarryingATarMagicIsStillScannedAsPickle() {
        var p = PickleAssembler(protocol: 2)
        p.binUnicode(String(repeating: "A", count: 250) + "ustar" + String(repeating: "A", count: 20))
        p.op("0")
        p.call("os", "system", "id")
        p.stop()
        #expect(p.bytes[257..<262].elementsEqual("ustar".utf8))
        #expect(scan(p.bytes).has("pickle.global.dangerous", "os.system"))
    }
}

extension ContentScanFormatsTests {
    @Test func tarWithAHugeBase256SizeDoesNotTrap() {
        var header = [UInt8](repeating: 0, count: 512)
        header.replaceSubrange(0..<6, with: Array("pickle".utf8))
        header.replaceSubrange(124..<136, with: [0x80, 0, 0, 0] + [UInt8](repeating: 0xFF, count: 8))
        header[156] = 0x30
        header.replaceSubrange(257..<262, with: Array("ustar".utf8))
        let report = scan(header + [UInt8](repeating: 0, count: 1024))
        #expect(report.formats.contains("tar"))
        #expect(report.has("tar.malformed"))
    }
}
