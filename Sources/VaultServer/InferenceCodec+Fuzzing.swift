import NIOCore

/// The Open Inference Protocol body parser as the infer route runs it, for the fuzz target in `Fuzz/` (not API).
@_spi(Fuzzing) public enum InferenceBodyParser {
    /// Parses and validates `body` (JSON, or JSON followed by binary tensor data when `headerLength` is the
    /// `Inference-Header-Content-Length` value) against `model`'s inputs; throws on anything the route refuses.
    public static func parse(_ body: [UInt8], headerLength: Int?, for model: any ServedModel) throws {
        _ = try InferenceCodec.decode(body: ByteBuffer(bytes: body), headerLength: headerLength, for: model)
    }
}
