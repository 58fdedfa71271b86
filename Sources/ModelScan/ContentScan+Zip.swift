extension ContentScan {
    /// Strict zip parsing, then each member by its role: PyTorch pickles, TorchScript code, the Keras config,
    /// storages (CRC only, in deep mode) and everything else by content.
    func scanZip(_ source: ByteSource, depth: Int) throws {
        findings.recognised("zip")
        guard let archive = try ZipArchive.parse(source, findings: findings) else { return }
        // A member named like a directory that carries data is read by numpy.load (an .npz key `weights/`) and
        // other readers: every member with data is scanned (review 6, finding 10).
        let files = archive.entries.filter { !$0.isDirectory || $0.compressedSize > 0 || $0.uncompressedSize > 0 }
        for entry in files where entry.isDirectory {
            findings.inMember(entry.name) {
                findings.add(
                    "zip.directory-data", .medium, at: entry.localHeaderOffset, subject: entry.name,
                    "a member named like a directory that carries data (some readers load it; it is scanned)")
            }
        }
        // PyTorch: `<any dir>/data.pkl`; its `data/` members are raw storages, its `code/` is TorchScript. torch's
        // reader takes the prefix from the first member's top directory and looks names up case-insensitively
        // (miniz), so `m/DATA.pkl` is its data.pkl (review 7, F4); prefixes are kept lowercased.
        var prefixes = Set(
            files.compactMap { entry -> String? in
                let parts = entry.name.lowercased().split(separator: "/", omittingEmptySubsequences: false)
                return parts.count == 2 && parts[1] == "data.pkl" ? String(parts[0]) + "/" : nil
            })
        if let first = archive.entries.first?.name.lowercased(), let slash = first.firstIndex(of: "/"),
            files.contains(where: { $0.name.lowercased() == String(first[...slash]) + "data.pkl" })
        {
            prefixes.insert(String(first[...slash]))
        }
        let torchPrefixes = prefixes
        if !torchPrefixes.isEmpty { findings.recognised("pytorch-zip") }
        let isKeras =
            files.contains { $0.name == "config.json" }
            && files.contains { $0.name == "metadata.json" || $0.name.hasPrefix("model.weights") }
        if isKeras { findings.recognised("keras") }
        var reportedCode = false
        // Each checkpoint's data.pkl first: only the storages it names by persistent id are raw tensor bytes
        // (review 5, F5: an `.npz` member named `x/data/0` is an array numpy.load may unpickle).
        func isDataPickle(_ entry: ZipArchive.Entry) -> Bool {
            torchPrefixes.contains { entry.name.lowercased() == $0 + "data.pkl" }
        }
        var referenced: [String: Set<String>] = [:]
        let ordered = files.filter(isDataPickle) + files.filter { !isDataPickle($0) }

        // Structural critical findings (members only some readers see) do not stop the scan: those members are
        // what must be read.
        let structuralCritical = findings.criticalCount
        // Review 7, R1: a bomb's members inflate to up to the per-file bound of cheap opcodes each, minutes of
        // interpretation; the file is already high (zip.compression-ratio), so no deflated member is inflated.
        let isBomb = archive.entries.contains(where: ZipArchive.isBombRatio)
        var reportedBomb = false
        // Records that name one local header under several names (already high: zip.overlap) are read once for each
        // way of reading them: nested, N such records per level made the work grow as N^levels, minutes for a 23 KB
        // file (review 8 of the scanner, finding 7).
        var scanned: Set<String> = []
        for entry in ordered {
            if pastDeadline(at: entry.localHeaderOffset, subject: entry.name) { break }
            if findings.criticalCount > structuralCritical {
                findings.add(
                    "scan.stopped", .low, at: entry.localHeaderOffset, subject: entry.name,
                    "the remaining members were not scanned: the file is refused by a critical finding")
                break
            }
            let lowercased = entry.name.lowercased()
            let prefix = torchPrefixes.first { lowercased.hasPrefix($0) }
            let relative = prefix.map { String(lowercased.dropFirst($0.count)) }
            // torch.load runs torch.jit.load when the archive holds constants.pkl: any member whose path under its
            // top directory is constants.pkl or code/…, in any case, is TorchScript.
            let underTop = lowercased.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            if underTop.count == 2, underTop[1] == "constants.pkl" || underTop[1].hasPrefix("code/") {
                if !reportedCode {
                    reportedCode = true
                    findings.recognised("torchscript")
                    findings.inMember(entry.name) {
                        findings.add(
                            "torchscript.code", .high, at: nil, subject: entry.name,
                            "a TorchScript archive: its code/ is a program that runs when the model is loaded")
                    }
                }
            }
            var isStorage = false
            if let prefix, let relative, relative.hasPrefix("data/"), entry.method == 0,
                referenced[prefix]?.contains(String(relative.dropFirst("data/".count))) == true
            {
                // numpy.load reads a member that starts like an .npy array as one (an object array unpickles).
                let head = try source.read(at: entry.dataOffset, count: Int(min(entry.compressedSize, 6)))
                isStorage = head != [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
            }
            if isBomb, entry.method == 8 {
                if !reportedBomb {
                    reportedBomb = true
                    findings.add(
                        "zip.unscanned-member", .high, at: entry.localHeaderOffset, subject: entry.name,
                        "the archive has a decompression-bomb ratio: its deflated members were not scanned further")
                }
                continue
            }
            let isPickle = lowercased.hasSuffix(".pkl")
            let isConfig = isKeras && entry.name == "config.json"
            let reading =
                [
                    entry.localHeaderOffset, entry.dataOffset, entry.compressedSize, entry.uncompressedSize,
                    UInt64(entry.method),
                ].map(String.init).joined(separator: ":") + ":\(isPickle && prefix != nil):\(isConfig):\(isStorage)"
            guard scanned.insert(reading).inserted else { continue }
            try findings.inMember(entry.name) {
                let interpreted = !isStorage
                if isStorage && !deep { return }
                guard let content = try memberSource(entry, source: source, needed: interpreted || deep) else { return }
                // Members read in full anyway (pickles, configs, small files) always; every member when deep.
                if deep || isPickle || isConfig || (interpreted && entry.uncompressedSize <= 16 << 20) {
                    try verifyCRC(entry, content)
                }
                if isStorage { return }
                if isConfig {
                    try scanKerasConfig(content)
                } else if isPickle, let prefix {
                    let keys = try scanPickles(content, firstOnly: false)
                    if isDataPickle(entry) { referenced[prefix] = keys }
                } else {
                    try scanContent(content, depth: depth + 1, nameHint: isPickle ? entry.name : nil)
                }
            }
        }
    }

    /// The member's uncompressed bytes: a window onto the file when stored, inflated in memory when deflated
    /// (bounded). Nil, with a finding, when it cannot be read.
    private func memberSource(_ entry: ZipArchive.Entry, source: ByteSource, needed: Bool) throws -> ByteSource? {
        switch entry.method {
        case 0:
            return ByteSource(
                slice: source, offset: entry.dataOffset,
                length: entry.end >= entry.dataOffset ? entry.compressedSize : 0)
        case 8:
            guard entry.uncompressedSize <= Self.maxInflatedSize, entry.compressedSize <= Self.maxInflatedSize else {
                findings.add(
                    "zip.unscanned-member", needed ? .high : .low, at: entry.localHeaderOffset, subject: entry.name,
                    "a deflated member too large to inflate in memory was not scanned")
                return nil
            }
            guard entry.uncompressedSize <= inflatedBudget else {
                findings.add(
                    "zip.inflate-budget", needed ? .high : .low, at: entry.localHeaderOffset, subject: entry.name,
                    "the file's members inflate past the scanner's per-file bound; this one was not scanned")
                return nil
            }
            inflatedBudget -= entry.uncompressedSize
            let compressed = try source.read(at: entry.dataOffset, count: Int(entry.compressedSize))
            do {
                let limit = Int(entry.uncompressedSize)
                let inflated = try Inflate.inflate(compressed, limit: limit)
                if inflated.count != limit {
                    findings.add(
                        "zip.header-mismatch", .high, at: entry.localHeaderOffset, subject: "uncompressed size",
                        "the member inflates to a size other than the one declared")
                }
                return ByteSource(bytes: inflated)
            } catch Inflate.Failure.tooLarge {
                findings.add(
                    "zip.header-mismatch", .high, at: entry.localHeaderOffset, subject: "uncompressed size",
                    "the member inflates past its declared size (a likely decompression bomb); not scanned")
                return nil
            } catch {
                findings.add(
                    "zip.malformed", .high, at: entry.localHeaderOffset, subject: entry.name,
                    "the member's deflate stream is corrupt; not scanned")
                return nil
            }
        default:
            return nil  // the parser already reported the unknown method
        }
    }

    private func verifyCRC(_ entry: ZipArchive.Entry, _ content: ByteSource) throws {
        var crc = CRC32()
        var offset: UInt64 = 0
        while offset < content.size {
            let chunk = try content.read(at: offset, count: 1 << 20)
            if chunk.isEmpty { break }
            crc.update(chunk)
            offset += UInt64(chunk.count)
        }
        if crc.value != entry.crc {
            findings.add(
                "zip.crc-mismatch", .high, at: entry.localHeaderOffset, subject: entry.name,
                "the member's CRC-32 does not match its data (some readers refuse it, others never check)")
        }
    }
}
