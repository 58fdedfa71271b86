/// A failure to configure or start the server. Descriptions are fixed texts: no paths, keys or tokens.
public struct VaultServerError: Error, Sendable, CustomStringConvertible, Equatable {
    enum Code: Sendable, Equatable {
        case insecureHTTPNotOnLoopback
        case unreadableCertificate
        case unreadablePrivateKey
        case mismatchedCertificateAndKey
        case secretFilePermissions
        case unreadableClientCA
        case certificateGenerationFailed
        case invalidConfiguration
        case catalogUnavailable
    }

    let code: Code

    /// Plain HTTP was requested on an address other than loopback.
    public static let insecureHTTPNotOnLoopback = VaultServerError(code: .insecureHTTPNotOnLoopback)
    /// The TLS certificate file could not be read or parsed.
    public static let unreadableCertificate = VaultServerError(code: .unreadableCertificate)
    /// The TLS private key file could not be read or parsed.
    public static let unreadablePrivateKey = VaultServerError(code: .unreadablePrivateKey)
    /// The certificate and private key do not belong together (or cannot be used for TLS).
    public static let mismatchedCertificateAndKey = VaultServerError(code: .mismatchedCertificateAndKey)
    /// A secret file (the TLS private key) is writable by others than its owner or readable by others.
    public static let secretFilePermissions = VaultServerError(code: .secretFilePermissions)
    /// The client CA file could not be read or parsed.
    public static let unreadableClientCA = VaultServerError(code: .unreadableClientCA)
    /// The self-signed certificate could not be generated or written.
    public static let certificateGenerationFailed = VaultServerError(code: .certificateGenerationFailed)
    /// A limit or interval in the configuration is out of range.
    public static let invalidConfiguration = VaultServerError(code: .invalidConfiguration)
    /// The model catalog could not be read at start.
    public static let catalogUnavailable = VaultServerError(code: .catalogUnavailable)

    /// A fixed text naming what failed.
    public var description: String {
        switch code {
        case .insecureHTTPNotOnLoopback:
            "serve: plain HTTP is only allowed on a loopback address (127.0.0.1, ::1, localhost); use TLS"
        case .unreadableCertificate: "serve: cannot read the TLS certificate (PEM)"
        case .unreadablePrivateKey: "serve: cannot read the TLS private key (PEM)"
        case .mismatchedCertificateAndKey: "serve: the TLS certificate and private key do not match"
        case .secretFilePermissions:
            "serve: the TLS private key file is readable by others or writable by others than its owner (use 0400)"
        case .unreadableClientCA: "serve: cannot read the client CA certificates (PEM)"
        case .certificateGenerationFailed: "serve: cannot generate or write the self-signed certificate"
        case .invalidConfiguration: "serve: a limit or interval in the configuration is out of range"
        case .catalogUnavailable: "serve: cannot load the served models"
        }
    }
}
