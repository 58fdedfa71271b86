/// An error from the CKKS library. The description names what failed and never carries key material or plaintext.
public struct HEError: Error, Sendable, Hashable, CustomStringConvertible {
    @usableFromInline enum Code: Sendable, Hashable {
        case invalidParameters(String)
        case insecureParameters
        case noSuchPrimes
        case scaleMismatch
        case levelMismatch
        case levelExhausted
        case valueTooLarge
        case tooManyValues
        case missingRelinearizationKey
        case missingGaloisKey
        case invalidCiphertext
        case malformedData(String)
        case parametersMismatch
        case modelShapeMismatch
        case unsupportedQuery
        case queryRefused(String)
        case parametersNotAllowed
        case missingPublicKey
        case modelOutsidePolicy
        case inputOutOfRange(row: Int)
    }

    @usableFromInline let code: Code

    @usableFromInline init(_ code: Code) { self.code = code }

    /// The parameters are invalid; the text names the field.
    public static func invalidParameters(_ field: String) -> HEError { HEError(.invalidParameters(field)) }
    /// The total modulus exceeds the 128-bit security bound for the ring degree.
    public static let insecureParameters = HEError(.insecureParameters)
    /// Not enough NTT-friendly primes of the requested bit size exist.
    public static let noSuchPrimes = HEError(.noSuchPrimes)
    /// Two operands have different scales.
    public static let scaleMismatch = HEError(.scaleMismatch)
    /// Two operands are at different levels.
    public static let levelMismatch = HEError(.levelMismatch)
    /// No level is left to rescale or multiply.
    public static let levelExhausted = HEError(.levelExhausted)
    /// A value times the scale does not fit the encoding range.
    public static let valueTooLarge = HEError(.valueTooLarge)
    /// More values than slots or coefficients.
    public static let tooManyValues = HEError(.tooManyValues)
    /// The relinearisation key is required but absent.
    public static let missingRelinearizationKey = HEError(.missingRelinearizationKey)
    /// No Galois key for the requested rotation.
    public static let missingGaloisKey = HEError(.missingGaloisKey)
    /// The ciphertext has an unexpected shape (e.g. three components where two are required).
    public static let invalidCiphertext = HEError(.invalidCiphertext)
    /// Serialised bytes are malformed; the text names the object or field.
    public static func malformedData(_ what: String) -> HEError { HEError(.malformedData(what)) }
    /// The object was made for other parameters.
    public static let parametersMismatch = HEError(.parametersMismatch)
    /// The model's weight shapes do not agree with each other or with the query.
    public static let modelShapeMismatch = HEError(.modelShapeMismatch)
    /// The query's packing does not suit the model.
    public static let unsupportedQuery = HEError(.unsupportedQuery)

    /// The query is not a fresh, well-formed query for the model; the text names the check that failed.
    public static func queryRefused(_ reason: String) -> HEError { HEError(.queryRefused(reason)) }
    /// The query's parameter set is not one the model owner allows.
    public static let parametersNotAllowed = HEError(.parametersNotAllowed)
    /// The public key needed to re-randomise results is absent.
    public static let missingPublicKey = HEError(.missingPublicKey)
    /// The model's weights exceed the policy's public norm bound (the flooding would be too narrow).
    public static let modelOutsidePolicy = HEError(.modelOutsidePolicy)
    /// A row (1-based) is outside the range the parameters carry for the model: its scores would wrap.
    public static func inputOutOfRange(row: Int) -> HEError { HEError(.inputOutOfRange(row: row)) }

    /// A fixed-text description.
    public var description: String {
        switch code {
        case .invalidParameters(let field): "CKKS parameters invalid: \(field)"
        case .insecureParameters: "CKKS parameters exceed the 128-bit security bound for the ring degree"
        case .noSuchPrimes: "not enough NTT-friendly primes of the requested bit size"
        case .scaleMismatch: "CKKS operands have different scales"
        case .levelMismatch: "CKKS operands are at different levels"
        case .levelExhausted: "CKKS ciphertext has no level left"
        case .valueTooLarge: "value too large for the CKKS scale"
        case .tooManyValues: "more values than the CKKS slots or coefficients"
        case .missingRelinearizationKey: "relinearisation key missing"
        case .missingGaloisKey: "Galois key missing for the requested rotation"
        case .invalidCiphertext: "ciphertext has an unexpected number of components"
        case .malformedData(let what): "malformed serialised \(what)"
        case .parametersMismatch: "object was made for different CKKS parameters"
        case .modelShapeMismatch: "model weight shapes do not match"
        case .unsupportedQuery: "query packing does not suit this model"
        case .queryRefused(let reason): "private-inference query refused: \(reason)"
        case .parametersNotAllowed: "the query's CKKS parameters are not allowed for this model"
        case .missingPublicKey: "public key missing (needed to re-randomise results)"
        case .modelOutsidePolicy: "model weights exceed the private-inference policy's norm bound"
        case .inputOutOfRange(let row):
            "row \(row) is outside the range the CKKS parameters carry for this model (its scores would wrap)"
        }
    }
}
