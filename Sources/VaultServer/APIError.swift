import Foundation
import Hummingbird

/// An error answered to the client as `{"error": "..."}` with a fixed, safe message.
struct APIError: Error, Sendable {
    var status: HTTPResponse.Status
    var message: String
    var headers: HTTPFields = [:]

    static func badRequest(_ message: String) -> APIError { APIError(status: .badRequest, message: message) }
    static func notFound(_ message: String) -> APIError { APIError(status: .notFound, message: message) }

    static let unauthenticated = APIError(
        status: .unauthorized, message: "missing or invalid bearer token",
        headers: [.wwwAuthenticate: #"Bearer realm="modelvault""#])
    static let forbidden = APIError(status: .forbidden, message: "permission denied")
    static let bodyTooLarge = APIError(status: .contentTooLarge, message: "request body too large")
    static let timedOut = APIError(status: .serviceUnavailable, message: "request timed out")
    static let auditUnavailable = APIError(status: .serviceUnavailable, message: "audit log unavailable")
    static let internalError = APIError(status: .internalServerError, message: "internal server error")
    static let nonFiniteOutput = APIError(
        status: .badRequest, message: "the model's output is not finite for this input")
    static let inferenceFailed = APIError(status: .internalServerError, message: "inference failed")

    static func rateLimited(retryAfter: Int) -> APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = String(retryAfter)
        return APIError(status: .tooManyRequests, message: "rate limit exceeded", headers: headers)
    }

    static var busy: APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = "1"
        return APIError(status: .serviceUnavailable, message: "too many concurrent inferences", headers: headers)
    }

    /// Maps any error to a safe API error: known kinds keep their status, everything else is a plain 500.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as RegistryError:
            switch error.code {
            case .notFound: return .notFound("not found")
            case .conflict: return APIError(status: .conflict, message: "conflicts with the registry's state")
            case .invalid: return .badRequest("invalid request")
            case .forbidden: return APIError(status: .forbidden, message: "permission denied")
            case .integrityFailed:
                return APIError(status: .unprocessableContent, message: "integrity check failed")
            case .noPassphraseHeld:
                return APIError(status: .conflict, message: RotateKeysRequest.noPassphraseHeld)
            case .legacyDeploymentRecord:
                return APIError(status: .conflict, message: DeployModelRequest.legacyRecordRefused)
            case .refusedByScanner:
                return APIError(
                    status: .unprocessableContent,
                    message: "refused by the model scanner: " + error.findings.prefix(10).joined(separator: ", "))
            }
        case let error as any HTTPResponseError:
            switch error.status {
            case .notFound: return .notFound("not found")
            case .methodNotAllowed: return APIError(status: .methodNotAllowed, message: "method not allowed")
            case .contentTooLarge: return .bodyTooLarge
            case .badRequest: return .badRequest("malformed request")
            case let status where (400..<500).contains(status.code):
                return APIError(status: status, message: status.reasonPhrase.lowercased())
            default: return .internalError
            }
        case let error as PrivateInferenceRefused:
            return .badRequest(error.message)
        case is DecodingError:
            return .badRequest("malformed JSON body")
        default:
            return .internalError
        }
    }

    /// Encodes `{"error": message}`.
    var body: ByteBuffer {
        ByteBuffer(string: #"{"error":"# + Self.jsonString(message) + "}")
    }

    /// A JSON string literal for `text`.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let s where s.value < 0x20: out += String(format: "\\u%04x", s.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
