public import Foundation

/// A failure of a call to the ModelVault server, with a fixed text that never carries a token or file contents.
///
/// `kind` says what the failure means to the caller (the CLI maps it to its exit code); `httpStatus` is the
/// server's answer when there was one, and `message` the server's own error text, clipped and made printable.
public struct VaultClientError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What a failure means to the caller.
    public enum Kind: Sendable, Equatable, CaseIterable {
        /// No valid token, or the caller's role does not allow the action (HTTP 401, 403).
        case denied
        /// The model, version, alias or dataset does not exist (HTTP 404).
        case notFound
        /// The request is malformed, too large or conflicts with the registry's state (HTTP 400, 409, 413, 422).
        case invalidInput
        /// A digest or signature did not match what the server signed.
        case integrity
        /// The model scanner refused a pushed file (HTTP 422 with the scanner's findings).
        case findings
        /// The configuration cannot be used safely, e.g. a token over plain HTTP to another host.
        case insecure
        /// Anything else: the server failed, is busy, or cannot be reached.
        case failure
    }

    /// What the failure means.
    public let kind: Kind
    /// What failed, in fixed words (with the server's error text for an HTTP failure).
    public let message: String
    /// The HTTP status the server answered, if it answered.
    public let httpStatus: Int?

    /// Creates an error.
    public init(_ kind: Kind, _ message: String, httpStatus: Int? = nil) {
        self.kind = kind
        self.message = message
        self.httpStatus = httpStatus
    }

    /// `server: TEXT (HTTP 403)` for an answer, the message alone otherwise.
    public var description: String {
        guard let httpStatus else { return message }
        return "server: \(message) (HTTP \(httpStatus))"
    }

    /// The kind an HTTP error status means. A 422 is the scanner's refusal only when the server says so.
    public static func kind(forStatus status: Int, message: String = "") -> Kind {
        switch status {
        case 401, 403: .denied
        case 404: .notFound
        case 422 where message.hasPrefix("refused by the model scanner"): .findings
        // A stored version, or a publisher's signature, failed its check (the server's fixed text).
        case 422 where message == "integrity check failed": .integrity
        case 400, 409, 411, 413, 415, 422: .invalidInput
        default: .failure
        }
    }

    /// The error for an HTTP error answer: the server's `{"error": "..."}` text, clipped to one printable line.
    static func answer(status: Int, body: Data) -> VaultClientError {
        var text = "HTTP error"
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
            let error = object["error"] as? String
        {
            text = printable(error)
        }
        return VaultClientError(kind(forStatus: status, message: text), text, httpStatus: status)
    }

    /// At most 300 printable characters on one line: a hostile server cannot write control sequences to the
    /// caller's terminal through an error message.
    static func printable(_ text: String) -> String {
        let scalars = text.unicodeScalars.prefix(300).map { scalar -> Character in
            scalar.properties.generalCategory == .control ? " " : Character(scalar)
        }
        return String(scalars)
    }
}
