extension CKKSContext {
    /// Serialises an encrypted query (its ciphertexts stay in seeded, half-size form).
    public func serialize(_ query: EncryptedQuery) -> [UInt8] {
        var writer = ByteWriter()
        writer.header(.query, parametersID: parametersID)
        writer.u8(query.packing.rawValue)
        writer.u32(UInt32(query.rowCount))
        writer.u32(UInt32(query.featureCount))
        writer.u32(UInt32(query.ciphertexts.count))
        for ciphertext in query.ciphertexts { writeBody(ciphertext, to: &writer) }
        return writer.bytes
    }

    /// Parses an encrypted query; the ciphertext count must match the packing and shape.
    public func deserializeQuery(_ bytes: [UInt8]) throws -> EncryptedQuery {
        var reader = ByteReader(bytes, what: "query")
        _ = try reader.header(.query, parametersID: parametersID)
        guard let packing = QueryPacking(rawValue: try reader.u8()) else { throw reader.malformed }
        let rows = Int(try reader.u32())
        let features = Int(try reader.u32())
        let count = Int(try reader.u32())
        guard rows >= 1, rows <= 1 << 24, features >= 1, features <= degree,
            count == packing.queryCiphertextCount(rowCount: rows, featureCount: features, degree: degree)
        else { throw reader.malformed }
        let ciphertexts = try (0..<count).map { _ in try readBody(from: &reader) }
        try reader.finish()
        return EncryptedQuery(packing: packing, rowCount: rows, featureCount: features, ciphertexts: ciphertexts)
    }

    /// Serialises an encrypted result.
    public func serialize(_ result: EncryptedResult) -> [UInt8] {
        var writer = ByteWriter()
        writer.header(.result, parametersID: parametersID)
        writer.u8(result.packing.rawValue)
        writer.u32(UInt32(result.rowCount))
        writer.u32(UInt32(result.featureCount))
        writer.u32(UInt32(result.classCount))
        writer.u32(UInt32(result.ciphertexts.count))
        for ciphertext in result.ciphertexts { writeBody(ciphertext, to: &writer) }
        return writer.bytes
    }

    /// Parses an encrypted result; the ciphertext count must match the shape.
    public func deserializeResult(_ bytes: [UInt8]) throws -> EncryptedResult {
        var reader = ByteReader(bytes, what: "result")
        _ = try reader.header(.result, parametersID: parametersID)
        guard let packing = QueryPacking(rawValue: try reader.u8()) else { throw reader.malformed }
        let rows = Int(try reader.u32())
        let features = Int(try reader.u32())
        let classes = Int(try reader.u32())
        let count = Int(try reader.u32())
        guard rows >= 1, rows <= 1 << 24, features >= 1, features <= degree, classes >= 1, classes <= 4096 else {
            throw reader.malformed
        }
        let perChunk = packing.rowsPerChunk(featureCount: features, degree: degree)
        guard count == (rows + perChunk - 1) / perChunk * classes else { throw reader.malformed }
        let ciphertexts = try (0..<count).map { _ in try readBody(from: &reader) }
        try reader.finish()
        return EncryptedResult(
            packing: packing, rowCount: rows, featureCount: features, classCount: classes, ciphertexts: ciphertexts)
    }
}
