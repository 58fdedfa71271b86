/// One private-inference request as it travels to a server: the client's parameters, its evaluation keys and the
/// encrypted query.
///
/// Wire form: the magic `MVHE-PIR1`, then four sections, each a 4-byte big-endian length and the bytes: the
/// serialised parameters, public key, relinearisation key (empty when absent) and query.
public struct PrivateInferenceRequest: Sendable {
    static let magic: [UInt8] = Array("MVHE-PIR1".utf8)

    /// The client's CKKS context.
    public let context: CKKSContext
    /// The evaluation keys (public key, and relinearisation key for the square MLP).
    public let keys: EvaluationKeys
    /// The encrypted rows.
    public let query: EncryptedQuery

    /// Bundles a request.
    public init(context: CKKSContext, keys: EvaluationKeys, query: EncryptedQuery) {
        self.context = context
        self.keys = keys
        self.query = query
    }

    /// The request's wire form.
    public func serialized() -> [UInt8] {
        let sections: [[UInt8]] = [
            context.parameters.serialized(), keys.publicKey.map { context.serialize($0) } ?? [],
            keys.relinearization.map { context.serialize($0) } ?? [], context.serialize(query),
        ]
        var bytes = Self.magic
        for section in sections {
            withUnsafeBytes(of: UInt32(section.count).bigEndian) { bytes += $0 }
            bytes += section
        }
        return bytes
    }

    /// Splits the wire form into its four sections; refuses anything else with a fixed text.
    static func sections(_ bytes: [UInt8]) throws -> [ArraySlice<UInt8>] {
        guard bytes.count >= magic.count, Array(bytes.prefix(magic.count)) == magic else {
            throw HEError.malformedData("private-inference request")
        }
        var offset = magic.count
        var sections: [ArraySlice<UInt8>] = []
        for _ in 0..<4 {
            guard bytes.count - offset >= 4 else { throw HEError.malformedData("private-inference request") }
            let length = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            offset += 4
            guard bytes.count - offset >= length else { throw HEError.malformedData("private-inference request") }
            sections.append(bytes[offset..<(offset + length)])
            offset += length
        }
        guard offset == bytes.count else { throw HEError.malformedData("private-inference request") }
        return sections
    }
}

/// The model owner's side of a private-inference route: parses a request, refuses it unless its parameters are on
/// the policy's allow-list (before building anything from them), evaluates under the policy, and returns the
/// serialised encrypted result.
public struct PrivateInferenceEndpoint: Sendable {
    /// The model evaluated.
    public let model: PrivateModel
    /// The owner's policy.
    public let policy: PrivateInferencePolicy
    private let contexts: [UInt64: CKKSContext]

    /// An endpoint for `model` under `policy` (by default the owner's standard policy).
    public init(model: PrivateModel, policy: PrivateInferencePolicy? = nil) throws {
        let policy = policy ?? PrivateInferencePolicy.standard(for: model)
        self.model = model
        self.policy = policy
        var contexts: [UInt64: CKKSContext] = [:]
        for parameters in policy.allowedParameterSets {
            contexts[parameters.identifier] =
                try Self.sharedContexts[parameters.identifier] ?? CKKSContext(parameters: parameters)
        }
        self.contexts = contexts
    }

    /// Contexts of the named sets, built once per process (prime tables and roots are not free).
    private static let sharedContexts: [UInt64: CKKSContext] = {
        var contexts: [UInt64: CKKSContext] = [:]
        for named in CKKSParameters.namedSets where named.polyDegree <= 8192 || named.name == "n16384-mlp90" {
            if let parameters = try? named.parameters(), let context = try? CKKSContext(parameters: parameters) {
                contexts[parameters.identifier] = context
            }
        }
        return contexts
    }()

    /// Answers one serialised request with the serialised encrypted result.
    public func respond(to bytes: [UInt8]) throws -> [UInt8] {
        let (context, keys, query) = try decodeRequest(bytes)
        let result = try PrivateInferenceServer.evaluate(
            query, model: model, keys: keys, context: context, policy: policy)
        return context.serialize(result)
    }

    /// Parses and checks a request exactly as `respond(to:)` does, without evaluating it: the entry point of the
    /// CKKS wire-format fuzz target in `Fuzz/` (evaluation would make each execution cost milliseconds).
    @_spi(Fuzzing) public func parseRequest(_ bytes: [UInt8]) throws {
        _ = try decodeRequest(bytes)
    }

    private func decodeRequest(_ bytes: [UInt8]) throws -> (CKKSContext, EvaluationKeys, EncryptedQuery) {
        let sections = try PrivateInferenceRequest.sections(bytes)
        let parameters = try CKKSParameters(serialized: Array(sections[0]))
        guard let context = contexts[parameters.identifier] else { throw HEError.parametersNotAllowed }
        guard !sections[1].isEmpty else { throw HEError.missingPublicKey }
        let keys = EvaluationKeys(
            publicKey: try context.deserializePublicKey(Array(sections[1])),
            relinearization: sections[2].isEmpty
                ? nil : try context.deserializeRelinearizationKey(Array(sections[2])))
        return (context, keys, try context.deserializeQuery(Array(sections[3])))
    }
}
